"""Zones (issue 16): the versions an admin set, the spaces taken now, and each zone's hours.

A zone's hours are counted like a facility's (gateway.store.occupancy): one upsert per entry or
exit of a session in a zone, in its unit of work, per vehicle type, into the shard of its database
connection (gateway.store.shards); read, an hour is its shards together.

A zone's spaces are counted and taken in turn (:func:`take_turn`), and a space is given in its own
(:func:`take_space_turn`): PostgreSQL runs units of work side by side, on every node, and two entries
that both counted the last space free would both take it.
"""

import json
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.occupancy import OccupancyHour, hour_of, together
from ..domain.zones import Zone, zone
from . import turns
from .facts import OPEN, ZONE_OCCUPIED
from .prepared import Prepared
from .schema import SessionRecord, ZoneOccupancyHourRecord, ZoneVersionRecord, table_of
from .shards import shard_of

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


def take_turn(conn: Connection, facility_id: str, zone_id: str) -> None:
    """Until ``conn``'s unit of work ends, the zone's spaces are this unit's to count and take: another
    unit (on any node) that asks waits here, then counts what this one took. Asked before the count."""
    turns.take_turn(conn, "zone", facility_id, zone_id)


def take_space_turn(conn: Connection, facility_id: str, space_id: str) -> None:
    """Until ``conn``'s unit of work ends, the facility's space ``space_id`` is this unit's to find
    free and give (:func:`space_taken`, then :func:`assign`): two assignments of one space at once,
    on two nodes, would both find it free. Asked after the zone's turn (:func:`take_turn`), never
    before: one order, so no two units wait on each other."""
    turns.take_turn(conn, "space", facility_id, space_id)


def _upsert(insert_):
    stmt = insert_(_HOURS)
    new, old = stmt.excluded, _HOURS.c
    later = new.last_at >= old.last_at
    return Prepared(stmt.on_conflict_do_update(index_elements=list(_HOURS.primary_key.columns), set_={
        "entries": old.entries + new.entries, "exits": old.exits + new.exits,
        "peak": case((new.peak > old.peak, new.peak), else_=old.peak),
        "occupied_end": case((later, new.occupied_end), else_=old.occupied_end),
        "last_at": case((later, new.last_at), else_=old.last_at)}), _KEYS)


_COUNT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


def count(conn: Connection, facility_id: str, zone_id: str, vehicle_type: str, when: datetime,
          entered: bool, inside: int | None = None) -> None:
    """An entry into (``entered``) or an exit from the zone at ``when``, after which ``inside``
    vehicles of the type are there (None: read on the same unit of work, after the session's write)."""
    if inside is None:
        inside = occupied_by(conn, facility_id, zone_id, vehicle_type)
    _COUNT[conn.dialect.name].run(conn, {
        "facility_id": facility_id, "zone_id": zone_id, "vehicle_type": vehicle_type, "hour": hour_of(when),
        "shard": shard_of(conn), "entries": int(entered), "exits": int(not entered), "peak": inside,
        "occupied_end": inside, "last_at": when})


def hours(conn: Connection, facility_id: str, start: datetime, end: datetime
          ) -> dict[tuple[str, str], list[OccupancyHour]]:
    """(zone id, vehicle type) -> its counted hours in [start, end), each its shards together, in order."""
    h = _HOURS.c
    query = select(_HOURS).where(h.facility_id == facility_id, h.hour >= start, h.hour < end) \
        .order_by(h.zone_id, h.vehicle_type, h.hour, h.last_at)
    merged: dict[tuple[str, str], dict[datetime, OccupancyHour]] = {}
    for row in conn.execute(query):
        kept = merged.setdefault((row.zone_id, row.vehicle_type), {})
        shard = OccupancyHour(facility_id, row.hour, row.entries, row.exits, 0, 0, row.peak, row.occupied_end)
        kept[row.hour] = together(kept[row.hour], shard) if row.hour in kept else shard
    return {pair: list(kept.values()) for pair, kept in merged.items()}


def occupied_before(conn: Connection, facility_id: str, start: datetime) -> dict[tuple[str, str], int]:
    """(zone, type) -> what its last counted hour before ``start`` ended with (that hour's latest shard's)."""
    h = _HOURS.c
    last = select(h.zone_id, h.vehicle_type, func.max(h.last_at).label("last_at")).where(
        h.facility_id == facility_id, h.hour < start).group_by(h.zone_id, h.vehicle_type).subquery()
    rows = conn.execute(select(h.zone_id, h.vehicle_type, h.occupied_end).join(
        last, (h.zone_id == last.c.zone_id) & (h.vehicle_type == last.c.vehicle_type) & (h.last_at == last.c.last_at))
        .where(h.facility_id == facility_id, h.hour < start))
    return {(zone_id, kind): end for zone_id, kind, end in rows}


def assign(conn: Connection, session_id: str, zone_id: str, space_id: str | None) -> None:
    s = _SESSIONS.c
    conn.execute(update(_SESSIONS).where(s.id == session_id).values(zone_id=zone_id, space_assigned=space_id))


def space_taken(conn: Connection, facility_id: str, space_id: str, session_id: str) -> bool:
    """Whether another open session of the facility holds ``space_id``."""
    s = _SESSIONS.c
    return conn.execute(select(func.count()).where(s.facility_id == facility_id, s.status == OPEN,
                                                   s.space_assigned == space_id, s.id != session_id)).scalar_one() > 0
