"""Open data (issue 17): each facility's DATEX II v3 parking publications, and the signage feed.

The table (static: names, capacity, zones) and the status (live: vacant and occupied spaces, per
zone too) are built from the configured facilities, their zones in force and the current
occupancy, for the HTTP feed and the CLI; the signage feed says the same free spaces as XML or
JSON for signs at the road. :class:`StatusPush` owes both to the relays that want them.
"""

from collections.abc import Mapping

from ..contract import datex2, signage
from ..domain.facility import Facility, find_facility
from ..domain.zones import Zone
from ..store import leases
from ..store.engine import Store
from .clock import Clock
from .occupancy import Occupancy
from .relaying import Relaying
from .zones import Zones


class OpenData:
    def __init__(self, *, facilities: Mapping[str, Facility], occupancy: Occupancy, publisher: datex2.Publisher,
                 clock: Clock, zones: Zones | None = None) -> None:
        self.facilities = facilities
        self.occupancy = occupancy
        self.publisher = publisher
        self.clock = clock
        self.zones = zones

    def _chosen(self, facility_id: str | None) -> list[Facility]:
        """One facility (UnknownFacility if there is none of that id) or all of them."""
        if facility_id is None:
            return list(self.facilities.values())
        return [find_facility(self.facilities, facility_id)]

    def zones_of(self, facility_id: str) -> list[Zone]:
        """The facility's zones in force (none without zones)."""
        return list(self.zones.of(facility_id).values()) if self.zones is not None else []

    def table(self, facility_id: str | None = None) -> bytes:
        """A whole ``d2:payload``: the ParkingTablePublication (blocking: the database, for the zones)."""
        chosen = self._chosen(facility_id)
        zones = {fac.id: self.zones_of(fac.id) for fac in chosen}
        sites = [self.facilities[fac.id] for fac in chosen]   # read after their zones: a capacity of zones follows them
        return datex2.serialise(datex2.table_publication(sites, self.publisher, self.clock(), zones))

    def status(self, facility_id: str | None = None) -> bytes:
        """A whole ``d2:payload``: the ParkingStatusPublication, as of now (blocking: the database)."""
        occupancies = [self.occupancy.of(fac.id) for fac in self._chosen(facility_id)]
        return datex2.serialise(datex2.status_publication(occupancies, self.publisher, self.clock()))

    def signage(self, facility_id: str | None = None, as_json: bool = False) -> bytes:
        """Free spaces now, as the signage feed (blocking: the database)."""
        occupancies = [self.occupancy.of(fac.id) for fac in self._chosen(facility_id)]
        return (signage.feed_json if as_json else signage.feed_xml)(occupancies, self.clock())


class StatusPush:
    """DATEX II publications pushed to the relays that want them, as a consumer expects them: each
    facility's table when this node starts publishing and again whenever its description changed
    (a zone set: a new version), and its status whenever its occupancy or a zone's changed, looked
    at every ``period`` seconds (so one at most per period: a burst of lane events is one
    publication). Each is a ``d2:payload`` of one facility (the relays' facility filter applies),
    owed through the outbox like any document. Where several nodes share the database, the holder
    of the ``datex2:status`` lease publishes."""

    LEASE = "datex2:status"

    def __init__(self, *, open_data: OpenData, store: Store, relaying: Relaying, node: str, period: float) -> None:
        self.open_data = open_data
        self.store = store
        self.relaying = relaying
        self.node = node
        self.period = period
        # facility -> (its table's version, what its status said) as last published
        self._published: dict[str, tuple[str, tuple]] | None = None

    def scheduled(self) -> int:
        """One look (blocking: the database): how many publications were owed."""
        od = self.open_data
        if leases.claim(self.store, self.LEASE, self.node, od.clock(), self.period * 3) is None:
            self._published = None  # another node publishes; should this one take over, it starts afresh
            return 0
        owed: list[tuple[str, str, str, bytes]] = []
        now = od.clock()
        published = self._published or {}   # kept only once its publications are owed (a failed commit owes them again)
        said: dict[str, tuple[str, tuple]] = {}
        for facility_id in list(od.facilities):
            occ = od.occupancy.of(facility_id)
            fac, zones = occ.facility, [v.zone for v in occ.zones]
            version = datex2.place_version(fac, zones)
            status = (occ.occupied, tuple((v.zone.id, v.occupied, v.available) for v in occ.zones))
            before = published.get(fac.id)
            if before is None or before[0] != version:
                owed.append((datex2.TABLE, f"table-{fac.id}-{version}", fac.id, datex2.serialise(
                    datex2.table_publication([fac], od.publisher, now, {fac.id: zones}))))
            if before != (version, status):
                owed.append((datex2.STATUS, f"status-{fac.id}-{now:%Y%m%dT%H%M%S.%fZ}", fac.id,
                             datex2.serialise(datex2.status_publication([occ], od.publisher, now))))
            said[fac.id] = (version, status)
        if owed:
            names: set[str] = set()
            with self.store.connection() as conn:
                for kind, key, facility_id, document in owed:
                    names.update(self.relaying.owe(conn, kind, key, facility_id, document))
            self.relaying.wake(sorted(names))
        self._published = said
        return len(owed)
