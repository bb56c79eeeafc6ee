"""Zones (issue 16): the versions an admin set, the spaces taken now, and each zone's hours.

A zone's hours are counted like a facility's (gateway.store.occupancy): one upsert per entry or
exit of a session in a zone, in its unit of work, per vehicle type.
"""

import json
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.occupancy import hour_of
from ..domain.zones import Zone, zone
from .facts import OPEN, ZONE_OCCUPIED
from .prepared import Prepared
from .schema import SessionRecord, ZoneOccupancyHourRecord, ZoneVersionRecord, table_of

_VERSIONS, _HOURS, _SESSIONS = table_of(ZoneVersionRecord), table_of(ZoneOccupancyHourRecord), table_of(SessionRecord)
_KEYS = [c.key for c in _HOURS.columns]


def insert(conn: Connection, z: Zone) -> Zone:
    """``z`` kept as its zone's next version; returned with its number."""
    assert z.set_by is not None and z.set_at is not None
    inserted = conn.execute(_VERSIONS.insert().values(
        facility_id=z.facility_id, zone_id=z.id, name=z.name, kind=z.kind, capacity=json.dumps(dict(z.capacity)),
        permit_only=z.permit_only, set_by=z.set_by, set_at=z.set_at, reason=z.reason)).inserted_primary_key
    assert inserted is not None
    return replace(z, version=inserted[0])


def of_facility(conn: Connection, facility_id: str) -> list[Zone]:
    """Every version set there, oldest first."""
    rows = conn.execute(select(_VERSIONS).where(_VERSIONS.c.facility_id == facility_id).order_by(_VERSIONS.c.id))
    return [zone(r.facility_id, r.zone_id, name=r.name, kind=r.kind, capacity=json.loads(r.capacity),
                 permit_only=r.permit_only, version=r.id, set_by=r.set_by, set_at=r.set_at, reason=r.reason)
            for r in rows]


def occupied(conn: Connection, facility_id: str) -> dict[tuple[str, str], int]:
    """(zone id, vehicle type) -> the open sessions there now."""
    s = _SESSIONS.c
    rows = conn.execute(select(s.zone_id, s.vehicle_type, func.count()).where(
        s.facility_id == facility_id, s.status == OPEN, s.zone_id.is_not(None)).group_by(s.zone_id, s.vehicle_type))
    return {(zone_id, kind): count for zone_id, kind, count in rows}


def occupied_by(conn: Connection, facility_id: str, zone_id: str, vehicle_type: str) -> int:
    return conn.execute(ZONE_OCCUPIED, {"facility_id": facility_id, "zone_id": zone_id,
                                        "vehicle_type": vehicle_type}).scalar_one()


def _upsert(insert_):
    stmt = insert_(_HOURS)
    new, old = stmt.excluded, _HOURS.c
    keys = [old.facility_id, old.zone_id, old.vehicle_type, old.hour]
    return Prepared(stmt.on_conflict_do_update(index_elements=keys, set_={
        "entries": old.entries + new.entries, "exits": old.exits + new.exits,
        "peak": case((new.peak > old.peak, new.peak), else_=old.peak), "occupied_end": new.occupied_end}), _KEYS)


_COUNT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


def count(conn: Connection, facility_id: str, zone_id: str, vehicle_type: str, when: datetime,
          entered: bool, inside: int | None = None) -> None:
    """An entry into (``entered``) or an exit from the zone at ``when``, after which ``inside``
    vehicles of the type are there (None: read on the same unit of work, after the session's write)."""
    if inside is None:
        inside = occupied_by(conn, facility_id, zone_id, vehicle_type)
    _COUNT[conn.dialect.name].run(conn, {
        "facility_id": facility_id, "zone_id": zone_id, "vehicle_type": vehicle_type, "hour": hour_of(when),
        "entries": int(entered), "exits": int(not entered), "peak": inside, "occupied_end": inside})


def hours(conn: Connection, facility_id: str, start: datetime, end: datetime) -> list:
    """Every zone's counted hours in [start, end), by zone, type and hour."""
    h = _HOURS.c
    return list(conn.execute(select(_HOURS).where(h.facility_id == facility_id, h.hour >= start, h.hour < end)
                             .order_by(h.zone_id, h.vehicle_type, h.hour)))


def occupied_before(conn: Connection, facility_id: str, start: datetime) -> dict[tuple[str, str], int]:
    """(zone, type) -> what its last counted hour before ``start`` ended with."""
    h = _HOURS.c
    last = select(h.zone_id, h.vehicle_type, func.max(h.hour).label("hour")).where(
        h.facility_id == facility_id, h.hour < start).group_by(h.zone_id, h.vehicle_type).subquery()
    rows = conn.execute(select(h.zone_id, h.vehicle_type, h.occupied_end).join(
        last, (h.zone_id == last.c.zone_id) & (h.vehicle_type == last.c.vehicle_type) & (h.hour == last.c.hour))
        .where(h.facility_id == facility_id))
    return {(zone_id, kind): end for zone_id, kind, end in rows}


def assign(conn: Connection, session_id: str, zone_id: str, space_id: str | None) -> None:
    s = _SESSIONS.c
    conn.execute(update(_SESSIONS).where(s.id == session_id).values(zone_id=zone_id, space_assigned=space_id))


def space_taken(conn: Connection, facility_id: str, space_id: str, session_id: str) -> bool:
    """Whether another open session of the facility holds ``space_id``."""
    s = _SESSIONS.c
    return conn.execute(select(func.count()).where(s.facility_id == facility_id, s.status == OPEN,
                                                   s.space_assigned == space_id, s.id != session_id)).scalar_one() > 0
