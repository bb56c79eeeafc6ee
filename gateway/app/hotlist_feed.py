"""Hotlist feeds (issue 17): a police or operator list, CSV or XML, imported now or on a schedule.

A feed is its source's whole list: each row is an ADD (what is new is listed; a plate already
listed in that category and place, by the feed or by hand, is that entry, revised to say what the
feed says), and the source's entries the feed no longer carries are removed (a plate released
upstream is released here). Rows that do not parse are rejected one by one, by line or position
and why (never the plate), and the rest is imported. URLs are fetched through the SSRF-safe fetcher
(:mod:`recognition.fetch`) within the feed's allowed sources; everything is audited.

CSV: a header row ``plate,category,reason[,facility,expires_at]``. XML: ``HotlistFeed`` in the
contract (``xsd/parkgate.xsd``), one ``Entry`` per plate.
"""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from recognition.fetch import fetch

from ..contract.documents import parse
from ..contract.namespace import NS
from ..contract.schema import document_schema
from ..domain import times
from ..domain.errors import InvalidInput, ParkgateError
from ..domain.facility import Facility, find_facility
from ..domain.hotlist import CATEGORIES, HotlistEntry, ListingKey, listing_key
from ..domain.plates import normalise_plate
from ..store import audit, hotlist
from ..store.engine import Store
from .clock import Clock
from .feed_settings import FeedSettings
from .hotlist import put


@dataclass(frozen=True)
class FeedEntry:
    plate: str
    category: str
    reason: str
    facility_id: str | None
    expires_at: datetime | None


@dataclass
class FeedImport:
    source: str
    added: int = 0
    kept: int = 0
    removed: int = 0
    expired: int = 0                                 # rows already past their expiry: not listed
    rejected: list[str] = field(default_factory=list)  # "line 4: why"


def _entry(facilities, plate, category, reason, facility_id, expires_at) -> FeedEntry:
    category = (category or "").strip().lower()
    if category not in CATEGORIES:
        raise InvalidInput(f"category is one of {', '.join(CATEGORIES)}", "Category")
    facility_id = (facility_id or "").strip() or None
    if facility_id is not None:
        find_facility(facilities, facility_id)
    expiry = None
    if expires_at and expires_at.strip():
        try:
            expiry = times.aware(datetime.fromisoformat(expires_at.strip()), "ExpiresAt")
        except ValueError:
            raise InvalidInput("expires_at is an ISO time with its UTC offset", "ExpiresAt") from None
    reason = (reason or "").strip() or "listed by feed"
    return FeedEntry(normalise_plate(plate or "", "Plate"), category, reason[:1000], facility_id, expiry)


def _rows_csv(data: bytes):
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    missing = {"plate", "category"} - {(name or "").strip().lower() for name in reader.fieldnames or ()}
    if missing:
        raise InvalidInput(f"the CSV feed has no {', '.join(sorted(missing))} column", "Feed")
    for row in reader:
        row = {(k or "").strip().lower(): v for k, v in row.items()}
        yield f"line {reader.line_num}", (row.get("plate"), row.get("category"), row.get("reason"),
                                          row.get("facility"), row.get("expires_at"))


def _rows_xml(data: bytes):
    try:
        root = parse(data)
    except etree.XMLSyntaxError:
        raise InvalidInput("the XML feed is not well-formed", "Feed") from None
    schema = document_schema()
    if root.tag != f"{{{NS}}}HotlistFeed" or not schema.validate(root):
        raise InvalidInput("the XML feed is not a HotlistFeed of the contract", "Feed")
    for i, entry in enumerate(root.iterfind(f"{{{NS}}}Entry"), start=1):
        def field_of(name, e=entry):
            return e.findtext(f"{{{NS}}}{name}")
        yield f"entry {i}", (field_of("Plate"), field_of("Category"), field_of("Reason"), field_of("FacilityID"),
                             field_of("ExpiresAt"))


def read_feed(data: bytes, facilities: Mapping[str, Facility], now: datetime, result: FeedImport) -> list[FeedEntry]:
    """The feed's entries (CSV, or XML when it starts with ``<``); bad rows go to ``result.rejected``."""
    rows = _rows_xml(data) if data.lstrip()[:1] == b"<" else _rows_csv(data)
    entries = []
    for where, values in rows:
        try:
            entry = _entry(facilities, *values)
        except ParkgateError as e:
            result.rejected.append(f"{where}: {e.message}")
            continue
        if entry.expires_at is not None and entry.expires_at <= now:
            result.expired += 1
        else:
            entries.append(entry)
    return entries


class HotlistFeeds:
    def __init__(self, *, facilities: Mapping[str, Facility], store: Store, clock: Clock,
                 settings: FeedSettings = FeedSettings()) -> None:
        self.facilities = facilities
        self.store = store
        self.clock = clock
        self.settings = settings

    def load(self, location: str) -> bytes:
        """A URL through the fetcher (within the feed's allowed sources), else a local file."""
        if "://" in location:
            try:
                return fetch(location, self.settings.fetch, image=False)
            except ValueError as e:  # ImageForbidden, ImageUnavailable: said as they are
                raise InvalidInput(f"the feed could not be fetched: {e}".replace("image", "feed"), "Feed") from None
        try:
            with open(location, "rb") as f:
                return f.read()
        except OSError as e:
            raise InvalidInput(f"the feed file cannot be read: {e.strerror}", "Feed") from None

    def import_feed(self, location: str, source: str | None = None, username: str = "system") -> FeedImport:
        source = source or self.settings.source
        data = self.load(location)
        now = self.clock()
        result = FeedImport(source)
        entries = {listing_key(e.plate, e.category, e.facility_id): e
                   for e in read_feed(data, self.facilities, now, result)}
        with self.store.connection() as conn:
            hotlist.take_turn(conn)                             # in turn with ADDs on every node
            everything = hotlist.listing(conn)                  # by plate, then as added: the oldest first
            listed: dict[ListingKey, HotlistEntry] = {}
            for e in everything:
                listed.setdefault(e.key, e)
            for key, entry in entries.items():
                # Each row an ADD: the key's entry (whoever listed it) revised to say what the feed says
                # now (an expiry moved, a reason changed), else listed.
                put(conn, listed.get(key), entry.plate, entry.facility_id, entry.reason, now, entry.category, source,
                    entry.expires_at)
                if key in listed:
                    result.kept += 1
                else:
                    result.added += 1
            # The source's entries the feed no longer carries, and its own second entries of a key (an
            # import before a repeated ADD revised the entry) go.
            result.removed = hotlist.remove_entries(conn, [
                e.id for e in everything if e.source == source and (e.key not in entries or listed[e.key] is not e)])
            audit.record(conn, now, username, "ImportHotlistFeed", source,
                         f"{result.added} added, {result.kept} kept, {result.removed} removed, "
                         f"{len(result.rejected)} rejected")
        return result

    def scheduled(self) -> FeedImport | None:
        """The job: the configured feed, if there is one."""
        if not self.settings.location:
            return None
        return self.import_feed(self.settings.location)
