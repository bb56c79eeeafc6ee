"""The hotlist: plates held at the barriers (stolen, banned) or watched for (wanted, watch), everywhere
or in one facility, until removed or until they expire (``parkgate hotlist``, ManageHotlist). Every
change and every listing is audited (a listing shows plates)."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from ..domain import times
from ..domain.errors import InvalidInput, InvalidTime
from ..domain.facility import Facility, find_facility
from ..domain.hotlist import BANNED, CATEGORIES, HotlistEntry
from ..domain.plates import normalise_plate
from ..store import audit, hotlist
from ..store.engine import Store
from .clock import Clock, utcnow


def _category(category: str | None) -> str | None:
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(f"a hotlist category is one of {', '.join(CATEGORIES)}", "Category")
    return category


def put(conn: Connection, listed: HotlistEntry | None, plate: str, facility_id: str | None, reason: str,
        at: datetime, category: str, source: str | None, expires_at: datetime | None) -> HotlistEntry:
    """An ADD (by hand or a feed's row): ``listed``, the entry of its key if there is one
    (:func:`gateway.domain.hotlist.listing_key`), revised to say what the ADD says (reason, source,
    expiry; an expired one applies again), else a new entry. ``listed`` is looked up in the
    hotlist's turn (:func:`gateway.store.hotlist.take_turn`), taken before."""
    if listed is None:
        entry_id = hotlist.add(conn, plate, facility_id, reason, at, category, source, expires_at)
        return HotlistEntry(entry_id, plate, facility_id, reason, at, category, source, expires_at)
    if (listed.reason, listed.source, listed.expires_at) != (reason, source, expires_at):
        hotlist.revise(conn, listed.id, reason, source, expires_at)
    return replace(listed, reason=reason, source=source, expires_at=expires_at)


class Hotlist:
    def __init__(self, facilities: Mapping[str, Facility], store: Store, clock: Clock = utcnow) -> None:
        self.facilities = facilities
        self.store = store
        self.clock = clock

    def add(self, plate: str, reason: str, facility_id: str | None = None, category: str = BANNED,
            source: str | None = None, expires_at: datetime | None = None, username: str = "system") -> HotlistEntry:
        """List ``plate``; the entry as listed (the plate normalised). Listed already in ``category``
        there (``facility_id``, or everywhere): that entry, revised."""
        plate = normalise_plate(plate, "Plate")
        _category(category)
        if facility_id is not None:
            find_facility(self.facilities, facility_id)
        now = self.clock()
        if expires_at is not None and times.aware(expires_at, "ExpiresAt") <= now:
            raise InvalidTime("the entry would have expired already", "ExpiresAt")
        with self.store.connection() as conn:
            hotlist.take_turn(conn)   # an ADD in flight on another node: waited for, then found
            listed = hotlist.find(conn, plate, category, facility_id)
            entry = put(conn, listed, plate, facility_id, reason, now, category, source, expires_at)
            audit.record(conn, now, username, "AddHotlistEntry", facility_id or "*",
                         category if listed is None else f"{category}, revised entry {listed.id}", plate=plate)
        return entry

    def remove(self, plate: str, category: str | None = None, username: str = "system") -> int:
        """How many entries of the plate (of ``category``, or all) were removed."""
        plate = normalise_plate(plate, "Plate")
        with self.store.connection() as conn:
            removed = hotlist.remove(conn, plate, _category(category))
            audit.record(conn, self.clock(), username, "RemoveHotlistEntry", category or "*", f"{removed} removed",
                         plate=plate)
        return removed

    def listing(self, facility_id: str | None = None, category: str | None = None, include_expired: bool = False,
                username: str = "system") -> list[HotlistEntry]:
        if facility_id is not None:
            find_facility(self.facilities, facility_id)
        now = self.clock()
        with self.store.connection() as conn:
            found = hotlist.listing(conn, facility_id, _category(category), None if include_expired else now)
            audit.record(conn, now, username, "ListHotlist", facility_id or "*", f"{len(found)} found",
                         plates=[e.plate for e in found])
        return found
