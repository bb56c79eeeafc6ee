"""The hotlist: plates held at every barrier, or one facility's (``parkgate hotlist``)."""

from collections.abc import Mapping

from ..domain.facility import Facility, find_facility
from ..domain.hotlist import HotlistEntry
from ..domain.plates import normalise_plate
from ..store import hotlist
from ..store.engine import Store
from .clock import Clock, utcnow


class Hotlist:
    def __init__(self, facilities: Mapping[str, Facility], store: Store, clock: Clock = utcnow) -> None:
        self.facilities = facilities
        self.store = store
        self.clock = clock

    def add(self, plate: str, reason: str, facility_id: str | None = None) -> str:
        """Hold ``plate``; the plate as normalised."""
        plate = normalise_plate(plate, "Plate")
        if facility_id is not None:
            find_facility(self.facilities, facility_id)
        with self.store.connection() as conn:
            hotlist.add(conn, plate, facility_id, reason, self.clock())
        return plate

    def remove(self, plate: str) -> int:
        """How many entries of the plate were removed."""
        with self.store.connection() as conn:
            return hotlist.remove(conn, normalise_plate(plate, "Plate"))

    def listing(self) -> list[HotlistEntry]:
        with self.store.connection() as conn:
            return hotlist.listing(conn)
