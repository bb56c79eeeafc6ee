"""Occupancy hours (issue 17): counted by each entry and exit, in its unit of work, read as a history.

One upsert per entry or exit, into the hour's shard of the database connection it runs on
(:class:`gateway.store.schema.OccupancyHourRecord`): a connection runs one unit at a time, so
no two lane events ever wait for one row's lock (with one row per hour, every event of a facility
did: they took turns through each other's commits). The shard's row is made by its first vehicle
and added to by the rest; its peak keeps the highest occupancy an entry or exit left behind, and
its ``occupied_end`` what its latest event (by time) left. Read, an hour is its shards together.
"""

from datetime import datetime

from sqlalchemy import Connection, case, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.occupancy import OccupancyHour, hour_of, together
from .prepared import Prepared
from .schema import OccupancyHourRecord, table_of
from .shards import shard_of

_HOURS = table_of(OccupancyHourRecord)
_KEYS = [c.key for c in _HOURS.columns]


def _upsert(insert):
    stmt = insert(_HOURS)
    new, old = stmt.excluded, _HOURS.c
    later = or_(old.last_at.is_(None), new.last_at >= old.last_at)
    return Prepared(stmt.on_conflict_do_update(index_elements=[old.facility_id, old.hour, old.shard], set_={
        "entries": old.entries + new.entries, "exits": old.exits + new.exits, "stays": old.stays + new.stays,
        "stay_seconds": old.stay_seconds + new.stay_seconds,
        "peak": case((new.peak > old.peak, new.peak), else_=old.peak),
        "occupied_end": case((later, new.occupied_end), else_=old.occupied_end),
        "last_at": case((later, new.last_at), else_=old.last_at)}), _KEYS)


_COUNT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


def count(conn: Connection, facility_id: str, when: datetime, occupied: int, entered: bool,
          stay_seconds: int | None = None) -> None:
    """An entry (``entered``) or an exit at ``when``, after which ``occupied`` vehicles are inside;
    ``stay_seconds``: the stay the exit closed."""
    _COUNT[conn.dialect.name].run(conn, {
        "facility_id": facility_id, "hour": hour_of(when), "shard": shard_of(conn), "entries": int(entered),
        "exits": int(not entered), "stays": int(stay_seconds is not None), "stay_seconds": stay_seconds or 0,
        "peak": occupied, "occupied_end": occupied, "last_at": when})


def hours(conn: Connection, facility_id: str, start: datetime, end: datetime) -> list[OccupancyHour]:
    """The counted hours of [start, end), each its shards together, in order."""
    h = _HOURS.c
    query = select(_HOURS).where(h.facility_id == facility_id, h.hour >= start, h.hour < end) \
        .order_by(h.hour, h.last_at.is_not(None), h.last_at)   # a shard before 0150 (no last_at) the oldest
    merged: dict[datetime, OccupancyHour] = {}
    for row in conn.execute(query):
        shard = OccupancyHour(facility_id, row.hour, row.entries, row.exits, row.stays, row.stay_seconds,
                              row.peak, row.occupied_end)
        merged[row.hour] = together(merged[row.hour], shard) if row.hour in merged else shard
    return list(merged.values())


def occupied_before(conn: Connection, facility_id: str, start: datetime) -> int:
    """What the last counted hour before ``start`` ended with (0: none was counted)."""
    found = conn.execute(select(_HOURS.c.occupied_end).where(_HOURS.c.facility_id == facility_id,
                                                             _HOURS.c.hour < start)
                         .order_by(_HOURS.c.hour.desc(), _HOURS.c.last_at.is_(None), _HOURS.c.last_at.desc())
                         .limit(1)).scalar()
    return int(found or 0)
