"""How full a facility is: now, and hour by hour as its lanes counted it (issue 17)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..domain import occupancy as hours
from ..domain.facility import Facility, find_facility
from ..store import occupancy as kept
from ..store import sessions
from ..store import zones as zone_hours
from ..store.engine import Store
from .clock import Clock
from .zones import Zones, ZoneView


@dataclass(frozen=True)
class FacilityOccupancy:
    facility: Facility
    occupied: int                    # open sessions
    as_of: datetime
    zones: tuple[ZoneView, ...] = ()   # issue 16: each zone's spaces per vehicle type

    @property
    def available(self) -> int:
        return max(self.facility.capacity - self.occupied, 0)

    @property
    def status(self) -> str:
        """SPACES_AVAILABLE, ALMOST_FULL or FULL."""
        return hours.spaces_status(self.facility.capacity, self.occupied)


@dataclass(frozen=True)
class ZoneHistory:
    """A zone's hours for one vehicle type (its capacity: that type's spaces there now)."""
    zone_id: str
    vehicle_type: str
    history: hours.OccupancyHistory


class Occupancy:
    def __init__(self, facilities: Mapping[str, Facility], store: Store, clock: Clock,
                 zones: Zones | None = None) -> None:
        self.facilities = facilities
        self.store = store
        self.clock = clock
        self.zones = zones

    def of(self, facility_id: str) -> FacilityOccupancy:
        find_facility(self.facilities, facility_id)
        views = tuple(self.zones.listing(facility_id)) if self.zones is not None else ()
        fac = self.facilities[facility_id]   # after its zones were read: a capacity of zones is theirs now
        with self.store.connection() as conn:
            occupied = sessions.occupied(conn, fac.id)
        return FacilityOccupancy(fac, occupied, self.clock(), views)

    def zone_history(self, facility_id: str, start: datetime, end: datetime) -> list[ZoneHistory]:
        """Every zone's hours of [start, end) per vehicle type, as kept (whole UTC hours)."""
        fac = find_facility(self.facilities, facility_id)
        first, last = hours.span(start, end)
        zones = self.zones.of(fac.id) if self.zones is not None else {}
        with self.store.connection() as conn:
            kept, before = zone_hours.hours(conn, fac.id, first, last), zone_hours.occupied_before(conn, fac.id, first)
        pairs = {(z.id, k) for z in zones.values() for k in z.capacity} | set(kept) | set(before)
        out = []
        for zone_id, kind in sorted(pairs):
            z = zones.get(zone_id)
            out.append(ZoneHistory(zone_id, kind, hours.history(
                fac.id, z.spaces(kind) if z else 0, first, last, kept.get((zone_id, kind), []),
                before.get((zone_id, kind), 0))))
        return out

    def history(self, facility_id: str, start: datetime, end: datetime) -> hours.OccupancyHistory:
        """Every hour of [start, end) (widened to whole UTC hours): as kept, never recomputed."""
        fac = find_facility(self.facilities, facility_id)
        first, last = hours.span(start, end)
        with self.store.connection() as conn:
            return hours.history(fac.id, fac.capacity, first, last, kept.hours(conn, fac.id, first, last),
                                 kept.occupied_before(conn, fac.id, first))
