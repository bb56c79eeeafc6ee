"""Open data (issue 17): each facility's DATEX II v3 parking publications, and the signage feed.

The table (static: names, capacity) and the status (live: vacant and occupied spaces) are built
from the configured facilities and the current occupancy, for the HTTP feed and the CLI; the
signage feed says the same free spaces as XML or JSON for signs at the road. :class:`StatusPush`
owes both to the relays that want them.
"""

from collections.abc import Mapping

from ..contract import datex2, signage
from ..domain.facility import Facility, find_facility
from ..store import leases
from ..store.engine import Store
from .clock import Clock
from .occupancy import Occupancy
from .relaying import Relaying


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


class StatusPush:
    """DATEX II publications pushed to the relays that want them, as a consumer expects them: each
    facility's table once (when this node starts publishing), then its status whenever its
    occupancy changed, looked at every ``period`` seconds (so one at most per period: a burst of
    lane events is one publication). Each is a ``d2:payload`` of one facility (the relays' facility
    filter applies), owed through the outbox like any document. Where several nodes share the
    database, the holder of the ``datex2:status`` lease publishes."""

    LEASE = "datex2:status"

    def __init__(self, *, open_data: OpenData, store: Store, relaying: Relaying, node: str, period: float) -> None:
        self.open_data = open_data
        self.store = store
        self.relaying = relaying
        self.node = node
        self.period = period
        self._published: dict[str, int] | None = None   # facility -> occupied spaces last published

    def scheduled(self) -> int:
        """One look (blocking: the database): how many publications were owed."""
        od = self.open_data
        if leases.claim(self.store, self.LEASE, self.node, od.clock(), self.period * 3) is None:
            self._published = None  # another node publishes; should this one take over, it starts afresh
            return 0
        owed: list[tuple[str, str, str, bytes]] = []
        now = od.clock()
        published = self._published
        if published is None:  # kept only once its publications are owed (a failed commit owes them again)
            published = {}
            for fac in od.facilities.values():
                owed.append((datex2.TABLE, f"table-{fac.id}-{datex2.place_version(fac)}", fac.id,
                             datex2.serialise(datex2.table_publication([fac], od.publisher, now))))
        changed = {}
        for fac in od.facilities.values():
            occ = od.occupancy.of(fac.id)
            if published.get(fac.id) != occ.occupied:
                changed[fac.id] = occ.occupied
                owed.append((datex2.STATUS, f"status-{fac.id}-{now:%Y%m%dT%H%M%S.%fZ}", fac.id,
                             datex2.serialise(datex2.status_publication([occ], od.publisher, now))))
        if owed:
            names: set[str] = set()
            with self.store.connection() as conn:
                for kind, key, facility_id, document in owed:
                    names.update(self.relaying.owe(conn, kind, key, facility_id, document))
            self.relaying.wake(sorted(names))
        self._published = {**published, **changed}
        return len(owed)
