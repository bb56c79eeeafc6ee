"""Open data (issue 17): each facility's DATEX II v3 parking publications, and the signage feed.

The table (static: names, capacity) and the status (live: vacant and occupied spaces) are built
from the configured facilities and the current occupancy, for the HTTP feed and the CLI; the
signage feed says the same free spaces as XML or JSON for signs at the road.
"""

from collections.abc import Mapping

from ..contract import datex2, signage
from ..domain.facility import Facility, find_facility
from .clock import Clock
from .occupancy import Occupancy


class OpenData:
    def __init__(self, *, facilities: Mapping[str, Facility], occupancy: Occupancy, publisher: datex2.Publisher,
                 clock: Clock) -> None:
        self.facilities = facilities
        self.occupancy = occupancy
        self.publisher = publisher
        self.clock = clock

    def _chosen(self, facility_id: str | None) -> list[Facility]:
        """One facility (UnknownFacility if there is none of that id) or all of them."""
        if facility_id is None:
            return list(self.facilities.values())
        return [find_facility(self.facilities, facility_id)]

    def table(self, facility_id: str | None = None) -> bytes:
        """A whole ``d2:payload``: the ParkingTablePublication."""
        return datex2.serialise(datex2.table_publication(self._chosen(facility_id), self.publisher, self.clock()))

    def status(self, facility_id: str | None = None) -> bytes:
        """A whole ``d2:payload``: the ParkingStatusPublication, as of now (blocking: the database)."""
        occupancies = [self.occupancy.of(fac.id) for fac in self._chosen(facility_id)]
        return datex2.serialise(datex2.status_publication(occupancies, self.publisher, self.clock()))

    def signage(self, facility_id: str | None = None, as_json: bool = False) -> bytes:
        """Free spaces now, as the signage feed (blocking: the database)."""
        occupancies = [self.occupancy.of(fac.id) for fac in self._chosen(facility_id)]
        return (signage.feed_json if as_json else signage.feed_xml)(occupancies, self.clock())
