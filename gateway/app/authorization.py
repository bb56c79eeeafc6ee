"""AuthorizePlate: a PARCS that drives its own barriers asks whether a plate may pass a lane now.

Read-only on the lane-event path's own single statement (:func:`gateway.store.facts.of_plate`),
decided by the lane decision's rules; the look-up is a plate query, so it is audited, durably,
before the answer goes out (by the activity log's writer, with the other questions' entries).
"""

from collections.abc import Mapping
from datetime import datetime

from ..domain import times
from ..domain.authorization import PlateAuthorization, authorize
from ..domain.decisions import DecisionRules
from ..domain.errors import InvalidInput
from ..domain.facility import BOTH, ENTRY, Facility, find_facility
from ..domain.plates import normalise_plate
from ..domain.vehicle_types import DEFAULT
from ..store import facts
from ..store.engine import Store
from .audit import Audit
from .clock import Clock
from .zones import Zones, lane_zone


class Authorizations:
    def __init__(self, facilities: Mapping[str, Facility], rules: DecisionRules, store: Store, clock: Clock,
                 zones: Zones | None = None, audit: Audit | None = None) -> None:
        """``zones``: the zones set since start (None: as configured); ``audit``: the activity log
        (None: one of its own on ``store``)."""
        self.zones = zones
        self.audit = audit or Audit(store, clock)
        self.facilities = facilities
        self.rules = rules
        self.store = store
        self.clock = clock

    def authorize(self, facility_id: str, lane_number: int, plate: str, username: str,
                  direction: str | None = None, at: datetime | None = None) -> PlateAuthorization:
        """May ``plate`` pass lane ``lane_number`` (in ``direction``; a two-way lane needs it) at ``at``
        (default now)? No session is opened, nothing but the audit entry is written."""
        fac = find_facility(self.facilities, facility_id)
        lane = fac.lane_numbered(lane_number)
        if direction is None:
            if lane.direction == BOTH:
                raise InvalidInput(f"lane {lane.number} of {fac.id} is two-way: give the Direction", "Direction")
            direction = lane.direction
        elif not lane.admits(direction):
            raise InvalidInput(f"lane {lane.number} of {fac.id} is an {lane.direction} lane", "Direction")
        plate = normalise_plate(plate, "Plate")
        now = self.clock()
        when = times.reported(at, now, self.rules.max_clock_skew, "At")
        # The facts are read beside the writer (no turn to wait for); the audit entry is appended
        # with the other requests' waiting entries and committed before the answer goes out.
        with self.store.read() as conn:
            zone = lane_zone(self.zones, conn, fac, lane) if direction == ENTRY else None
            kind = lane.vehicle_type or DEFAULT   # a PARCS does not say the vehicle's type: the lane's, else a car
            known = facts.of_plate(conn, fac.id, plate, direction, when, zone.id if zone else None, kind)
            known.zone = zone
            answer = authorize(known, fac, self.rules, direction, when, kind)
        self.audit.record(username, "AuthorizePlate", f"{fac.id}:{lane.number}",
                          f"{direction} {answer.decision} {answer.reason}", plate=plate, kind="QUERY", at=now)
        return answer
