"""Zones (issue 16): a facility's levels and areas as they are now, set by an admin, and the spaces
assigned to sessions.

A zone set (SetZone, ``parkgate zone set``, the console) is a new version, audited; the latest
version of a zone is in force. Each facility's zones are read once and kept; a zone set here is
seen at once, one set on another node within ``refresh_s`` (as tariffs are).
"""

import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from ..contract import documents
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.facility import Facility, Lane, find_facility
from ..domain.occupancy import spaces_status
from ..domain.sessions import ParkingSession
from ..domain.zones import Zone, ZoneSpaces, changed, has_space, in_force, spaces
from ..store import audit, sessions
from ..store import zones as stored
from ..store.engine import Store
from .clock import Clock, new_id
from .refreshed import PerFacility
from .relaying import Relaying


@dataclass(frozen=True)
class SpaceAssignment:
    """A session given a zone (and perhaps a space in it): what the SpaceAssigned document says."""
    id: str
    session: ParkingSession
    zone_id: str
    space_id: str | None
    at: datetime
    by: str                          # the user, or the lane that assigned it


@dataclass(frozen=True)
class ZoneView:
    """A zone as it is now, with its spaces per vehicle type taken and free."""
    zone: Zone
    spaces: tuple[ZoneSpaces, ...]

    @property
    def occupied(self) -> int:
        return sum(s.occupied for s in self.spaces)

    @property
    def available(self) -> int:
        """Free spaces of every type (a type over its capacity takes none of another's)."""
        return sum(s.available for s in self.spaces)

    @property
    def status(self) -> str:
        """The zone's spaces together, as a facility's: SPACES_AVAILABLE, ALMOST_FULL or FULL (by
        the spaces taken, so that it agrees with :attr:`available`)."""
        return spaces_status(self.zone.total, self.zone.total - self.available)


class Zones:
    def __init__(self, *, facilities: MutableMapping[str, Facility], store: Store, clock: Clock, relaying: Relaying,
                 refresh_s: float = 5.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.facilities = facilities
        self.store = store
        self.clock = clock
        self.relaying = relaying
        self._zones = PerFacility(store=store, load=self._load, refresh_s=refresh_s, monotonic=monotonic)

    def of(self, facility_id: str, conn: Connection | None = None) -> dict[str, Zone]:
        """Zone id -> the facility's zones in force. ``conn``: the caller's unit of work (read on it)."""
        return self._zones.get(find_facility(self.facilities, facility_id).id, conn)

    def _load(self, conn: Connection, facility_id: str) -> dict[str, Zone]:
        """The zones in force; a facility whose capacity is the sum of its zones is replaced (in the
        mapping every use case reads) by one of the zones' total now."""
        fac = self.facilities[facility_id]
        zones = in_force(fac.zones, stored.of_facility(conn, facility_id))
        total = sum(z.total for z in zones.values())
        if fac.capacity_of_zones and fac.capacity != total:
            self.facilities[facility_id] = replace(fac, capacity=total)
        return zones

    def load_all(self) -> None:
        """Read every zoned facility's zones now (at start: zones set before it count at once)."""
        for fac in list(self.facilities.values()):
            if fac.capacity_of_zones:
                self.of(fac.id)

    def listing(self, facility_id: str) -> list[ZoneView]:
        """Every zone with its spaces per vehicle type now (blocking: the database)."""
        zones = self.of(facility_id)
        if not zones:
            return []
        with self.store.connection() as conn:
            taken = stored.occupied(conn, facility_id)
        found = spaces(zones, taken)
        return [ZoneView(z, tuple(s for s in found if s.zone.id == z.id)) for z in zones.values()]

    def history(self, facility_id: str) -> list[Zone]:
        """Every version set at runtime, oldest first (the configured ones are version 0)."""
        find_facility(self.facilities, facility_id)
        with self.store.connection() as conn:
            return stored.of_facility(conn, facility_id)

    def set(self, facility_id: str, zone_id: str, username: str, *, name: str | None = None,
            kind: str | None = None, capacity: Mapping[str, object] | None = None, permit_only: bool | None = None,
            reason: str | None = None) -> Zone:
        """The zone's next version (a new zone when there is none of that id): what is given on top
        of the version in force. Audited."""
        fac = find_facility(self.facilities, facility_id)
        if name is None and kind is None and not capacity and permit_only is None:
            raise InvalidInput("give at least one setting that changes", "Capacity")
        now = self.clock()
        with self.store.connection() as conn:
            current = in_force(fac.zones, stored.of_facility(conn, fac.id)).get(zone_id)
            z = changed(current, fac.id, zone_id, name=name, kind=kind, capacity=capacity, permit_only=permit_only)
            z = stored.insert(conn, replace(z, set_by=username, set_at=now, reason=reason))
            spaces_text = ", ".join(f"{k} {n}" for k, n in z.capacity.items()) or "no spaces"
            audit.record(conn, now, username, "SetZone", f"{fac.id}/{z.id}",
                         f"version {z.version}: {z.kind} {z.name!r}, {spaces_text}"
                         + (", permit holders only" if z.permit_only else "") + (f": {reason}" if reason else ""))
        self._zones.forget(fac.id)
        self.of(fac.id)             # read again now: the facility's capacity for the next event
        return z

    def assign(self, session_id: str, zone_id: str, space_id: str | None, username: str) -> SpaceAssignment:
        """Give an open session a zone (and a space in it): counted out of its former zone and into
        this one, audited, and the SpaceAssigned document owed to the destinations."""
        now = self.clock()
        with self.store.connection() as conn:
            session = sessions.get(conn, session_id, for_update=True)
            if session is None:
                raise NotFound(f"no session {session_id!r}", "SessionID")
            if session.status != "OPEN":
                raise Conflict(f"session {session_id} is closed", "SessionID")
            fac = find_facility(self.facilities, session.facility_id)
            zone = self.of(fac.id, conn).get(zone_id)
            if zone is None:
                raise NotFound(f"{fac.id} has no zone {zone_id!r}", "ZoneID")
            kind = session.vehicle_type
            moving = session.zone_id != zone.id
            if moving:   # counted and taken in turn with the lanes' entries (on every node)
                stored.take_turn(conn, fac.id, zone.id)
            if moving and not has_space(zone, kind, stored.occupied_by(conn, fac.id, zone.id, kind)):
                raise Conflict(f"zone {zone.id} has no free space for a {kind}", "ZoneID")
            if space_id is not None:   # found free and given in turn with other nodes' assignments
                stored.take_space_turn(conn, fac.id, space_id)
            if space_id is not None and stored.space_taken(conn, fac.id, space_id, session.id):
                raise Conflict(f"space {space_id} is taken by another open session", "SpaceID")
            stored.assign(conn, session.id, zone.id, space_id)
            if moving:
                if session.zone_id is not None:
                    stored.count(conn, fac.id, session.zone_id, kind, now, entered=False)
                stored.count(conn, fac.id, zone.id, kind, now, entered=True)
            assignment = SpaceAssignment(new_id("SPA", now), session, zone.id, space_id, now, username)
            owed = owe_assignment(self.relaying, conn, assignment)
            audit.record(conn, now, username, "AssignSpace", session.id,
                         f"zone {zone.id}" + (f", space {space_id}" if space_id else ""))
        self.relaying.wake(owed)
        return assignment


def lane_zone(zones: Zones | None, conn: Connection, fac: Facility, lane: Lane) -> Zone | None:
    """The zone ``lane`` leads into, as it is now (``zones``: None, as configured); None: it has none.
    A facility whose capacity is the sum of its zones has them read for every lane (kept
    ``refresh_s``): a zone set on another node changes that capacity here too."""
    if lane.zone is None and not fac.capacity_of_zones:
        return None
    found = zones.of(fac.id, conn) if zones is not None else in_force(fac.zones, ())
    return found.get(lane.zone) if lane.zone is not None else None


def owe_assignment(relaying: Relaying, conn: Connection, a: SpaceAssignment) -> list[str]:
    """The assignment's SpaceAssigned document, owed on ``conn``: the relays owed it."""
    s = a.session
    if not relaying.wanted("SpaceAssigned", s.facility_id):
        return []
    doc = documents.space_assigned(a.id, s.id, s.facility_id, a.zone_id, a.space_id, s.vehicle_type, a.at, a.by)
    return list(relaying.owe(conn, "SpaceAssigned", a.id, s.facility_id, documents.serialize(doc)))
