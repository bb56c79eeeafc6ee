"""How full a facility is: now, and hour by hour as its lanes counted it (issue 17)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..domain import occupancy as hours
from ..domain.facility import Facility, find_facility
from ..store import occupancy as kept
from ..store import sessions
from ..store.engine import Store
from .clock import Clock


@dataclass(frozen=True)
class FacilityOccupancy:
    facility: Facility
    occupied: int                    # open sessions
    as_of: datetime

    @property
    def available(self) -> int:
        return max(self.facility.capacity - self.occupied, 0)

    @property
    def status(self) -> str:
        """SPACES_AVAILABLE, ALMOST_FULL or FULL."""
        return hours.spaces_status(self.facility.capacity, self.occupied)


class Occupancy:
    def __init__(self, facilities: Mapping[str, Facility], store: Store, clock: Clock) -> None:
        self.facilities = facilities
        self.store = store
        self.clock = clock

    def of(self, facility_id: str) -> FacilityOccupancy:
        fac = find_facility(self.facilities, facility_id)
        with self.store.connection() as conn:
            return FacilityOccupancy(fac, sessions.occupied(conn, fac.id), self.clock())

    def history(self, facility_id: str, start: datetime, end: datetime) -> hours.OccupancyHistory:
        """Every hour of [start, end) (widened to whole UTC hours): as kept, never recomputed."""
        fac = find_facility(self.facilities, facility_id)
        first, last = hours.span(start, end)
        with self.store.connection() as conn:
            return hours.history(fac.id, fac.capacity, first, last, kept.hours(conn, fac.id, first, last),
                                 kept.occupied_before(conn, fac.id, first))
