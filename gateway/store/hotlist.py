"""The hotlist: plates held at the barriers."""

from datetime import datetime

from sqlalchemy import Connection, delete, select

from ..domain.hotlist import HotlistEntry
from .schema import HotlistRecord, table_of
from .sealed import plate_is, readable

_HOTLIST = table_of(HotlistRecord)


def add(conn: Connection, plate: str, facility_id: str | None, reason: str, at: datetime) -> None:
    conn.execute(_HOTLIST.insert(), dict(plate=plate, facility_id=facility_id, reason=reason, added_at=at))


def remove(conn: Connection, plate: str) -> int:
    """How many entries of the plate were removed."""
    return conn.execute(delete(_HOTLIST).where(plate_is(_HOTLIST, plate))).rowcount


def listing(conn: Connection) -> list[HotlistEntry]:
    """By plate (sorted here: the database holds them sealed), then as added."""
    rows = conn.execute(select(*readable(_HOTLIST)).order_by(_HOTLIST.c.id))
    entries = [HotlistEntry(**row._mapping) for row in rows]
    return sorted(entries, key=lambda e: e.plate)
