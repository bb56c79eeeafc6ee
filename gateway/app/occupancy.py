"""How full a facility is."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..domain.facility import Facility, find_facility
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


class Occupancy:
    def __init__(self, facilities: Mapping[str, Facility], store: Store, clock: Clock) -> None:
        self.facilities = facilities
        self.store = store
        self.clock = clock

    def of(self, facility_id: str) -> FacilityOccupancy:
        fac = find_facility(self.facilities, facility_id)
        with self.store.connection() as conn:
            return FacilityOccupancy(fac, sessions.occupied(conn, fac.id), self.clock())
