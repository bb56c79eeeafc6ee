"""The hotlist: plates held at the barriers or watched for."""

from datetime import datetime

from sqlalchemy import Connection, delete, or_, select, update

from ..domain.hotlist import HotlistEntry
from . import turns
from .schema import HotlistRecord, table_of
from .sealed import plate_is, readable

_HOTLIST = table_of(HotlistRecord)


def take_turn(conn: Connection) -> None:
    """Until ``conn``'s unit of work ends, entries are found and added or revised by it alone, on
    every node (:func:`gateway.store.turns.take_turn`): of two ADDs of a key not yet listed, the
    second finds the first's entry and revises it, never lists the key twice (there is no unique
    index: a NULL facility is "everywhere", and older databases may hold a key twice). One turn for
    the whole hotlist, not one a key: no plate, even hashed, in PostgreSQL's lock table, and a
    feed's import takes one lock, not one a row (the lock table is bounded). ADDs are rare; one
    waits at most for an import's unit of work."""
    turns.take_turn(conn, "hotlist")


def add(conn: Connection, plate: str, facility_id: str | None, reason: str, at: datetime, category: str = "banned",
        source: str | None = None, expires_at: datetime | None = None) -> int:
    """The new entry's id."""
    return conn.execute(_HOTLIST.insert().returning(_HOTLIST.c.id), dict(
        plate=plate, facility_id=facility_id, reason=reason, added_at=at, category=category, source=source,
        expires_at=expires_at)).scalar_one()


def find(conn: Connection, plate: str, category: str, facility_id: str | None) -> HotlistEntry | None:
    """The entry of the plate in ``category`` where it applies (``facility_id``, None: everywhere),
    expired or not; the oldest where a listing before entries were revised holds two."""
    where = _HOTLIST.c.facility_id.is_(None) if facility_id is None else _HOTLIST.c.facility_id == facility_id
    row = conn.execute(select(*readable(_HOTLIST)).where(plate_is(_HOTLIST, plate), _HOTLIST.c.category == category,
                                                         where).order_by(_HOTLIST.c.id).limit(1)).first()
    return None if row is None else HotlistEntry(**row._mapping)


def remove(conn: Connection, plate: str, category: str | None = None) -> int:
    """How many entries of the plate (of that category, or any) were removed."""
    query = delete(_HOTLIST).where(plate_is(_HOTLIST, plate))
    if category is not None:
        query = query.where(_HOTLIST.c.category == category)
    return conn.execute(query).rowcount


def listing(conn: Connection, facility_id: str | None = None, category: str | None = None,
            live_at: datetime | None = None) -> list[HotlistEntry]:
    """Entries (those that apply in ``facility_id``, of ``category``, not expired at ``live_at``), by
    plate (sorted here: the database holds them sealed), then as added."""
    query = select(*readable(_HOTLIST)).order_by(_HOTLIST.c.id)
    if facility_id is not None:
        query = query.where(or_(_HOTLIST.c.facility_id == facility_id, _HOTLIST.c.facility_id.is_(None)))
    if category is not None:
        query = query.where(_HOTLIST.c.category == category)
    if live_at is not None:
        query = query.where(or_(_HOTLIST.c.expires_at.is_(None), _HOTLIST.c.expires_at > live_at))
    entries = [HotlistEntry(**row._mapping) for row in conn.execute(query)]
    return sorted(entries, key=lambda e: e.plate)


def remove_entries(conn: Connection, entry_ids: list[int]) -> int:
    """Remove these entries (a feed's import: what its source no longer lists)."""
    if not entry_ids:
        return 0
    return conn.execute(delete(_HOTLIST).where(_HOTLIST.c.id.in_(entry_ids))).rowcount


def revise(conn: Connection, entry_id: int, reason: str, source: str | None, expires_at: datetime | None) -> None:
    """An entry's reason, source and expiry as the latest ADD of it says."""
    conn.execute(update(_HOTLIST).where(_HOTLIST.c.id == entry_id).values(reason=reason, source=source,
                                                                         expires_at=expires_at))
