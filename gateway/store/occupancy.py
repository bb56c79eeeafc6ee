"""Occupancy hours (issue 17): counted by each entry and exit, in its unit of work, read as a history.

One upsert per entry or exit: the hour's row is made by its first vehicle and added to by the
rest. Its peak keeps the highest occupancy an entry or exit of the hour left behind.
"""

from datetime import datetime

from sqlalchemy import Connection, case, select
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.occupancy import OccupancyHour, hour_of
from .prepared import Prepared
from .schema import OccupancyHourRecord, table_of

_HOURS = table_of(OccupancyHourRecord)
_KEYS = [c.key for c in _HOURS.columns]


def _upsert(insert):
    stmt = insert(_HOURS)
    new, old = stmt.excluded, _HOURS.c
    return Prepared(stmt.on_conflict_do_update(index_elements=[old.facility_id, old.hour], set_={
        "entries": old.entries + new.entries, "exits": old.exits + new.exits, "stays": old.stays + new.stays,
        "stay_seconds": old.stay_seconds + new.stay_seconds,
        "peak": case((new.peak > old.peak, new.peak), else_=old.peak),
        "occupied_end": new.occupied_end}), _KEYS)


_COUNT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


def count(conn: Connection, facility_id: str, when: datetime, occupied: int, entered: bool,
          stay_seconds: int | None = None) -> None:
    """An entry (``entered``) or an exit at ``when``, after which ``occupied`` vehicles are inside;
    ``stay_seconds``: the stay the exit closed."""
    _COUNT[conn.dialect.name].run(conn, {
        "facility_id": facility_id, "hour": hour_of(when), "entries": int(entered), "exits": int(not entered),
        "stays": int(stay_seconds is not None), "stay_seconds": stay_seconds or 0, "peak": occupied,
        "occupied_end": occupied})


def hours(conn: Connection, facility_id: str, start: datetime, end: datetime) -> list[OccupancyHour]:
    query = select(_HOURS).where(_HOURS.c.facility_id == facility_id, _HOURS.c.hour >= start,
                                 _HOURS.c.hour < end).order_by(_HOURS.c.hour)
    return [OccupancyHour(**row._mapping) for row in conn.execute(query)]


def occupied_before(conn: Connection, facility_id: str, start: datetime) -> int:
    """What the last counted hour before ``start`` ended with (0: none was counted)."""
    found = conn.execute(select(_HOURS.c.occupied_end).where(_HOURS.c.facility_id == facility_id,
                                                             _HOURS.c.hour < start)
                         .order_by(_HOURS.c.hour.desc()).limit(1)).scalar()
    return int(found or 0)
