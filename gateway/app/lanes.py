"""Lanes and their barriers: decisions drive them, people command them, status reads them.

Called from request threads: the lane controllers live on the reactor, so every call into
them goes through ``blockingCallFromThread``; their Deferreds never fail and are bounded by
the Modbus timeouts, so a request thread never waits on a dead PLC for long.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from twisted.internet.threads import blockingCallFromThread

from ..contract import documents
from ..domain.decisions import OPEN
from ..domain.errors import InvalidInput
from ..domain.facility import Facility, Lane, find_facility
from ..store import incidents
from ..store.engine import Store
from .audit import Audit
from .clock import Clock
from .recording import Outcome

NOT_CONTROLLED = "NOT_CONTROLLED"   # the lane has no PLC in the configuration
NOT_DRIVEN = "NOT_DRIVEN"           # nothing to do (a HOLD, a replayed event)


@dataclass(slots=True)  # not frozen: on the lane-event path (nothing changes one)
class BarrierAction:
    result: str       # COMMANDED, OFFLINE, FAULT, LOCAL_MODE, REFUSED, FAILED, NOT_CONTROLLED, NOT_DRIVEN
    detail: str


@dataclass(slots=True)  # not frozen: on the lane-event path (nothing changes one)
class Decided:
    """A decided lane event and what its lane's barrier did about it."""
    outcome: Outcome
    barrier: BarrierAction


@dataclass(frozen=True)
class LaneState:
    """A lane as its controller last saw it (``controlled`` False: the lane has no PLC)."""
    facility_id: str
    lane: Lane
    controlled: bool
    online: bool = False
    position: str = "UNKNOWN"        # UP, DOWN, MOVING, UNKNOWN
    presence: bool = False
    safety: bool = False
    fault: bool = False
    local_mode: bool = False
    held: bool = False
    last_heartbeat: datetime | None = None
    last_event_id: str | None = None
    last_decision: str | None = None
    last_event_time: datetime | None = None


class Barriers(Protocol):
    """The lane controllers (``plc.service.Barriers``)."""

    def by_camera(self, facility_id: str, camera_id: str) -> Any: ...

    def by_number(self, facility_id: str, lane_number: int) -> Any: ...


class Lanes:
    def __init__(self, facilities: Mapping[str, Facility], barriers: Barriers, audit: Audit, reactor: Any,
                 metrics: Any = None) -> None:
        self.facilities = facilities
        self.barriers = barriers
        self.audit = audit
        self.reactor = reactor
        self.metrics = metrics

    def _call(self, fn: Any, *args: Any) -> Any:
        return blockingCallFromThread(self.reactor, fn, *args)

    def after_decision(self, outcome: Outcome) -> Decided:
        """Drive the barrier of the event's lane for a decided event; say what happened to it."""
        if self.metrics is not None and not outcome.replayed:
            # Location/Direction by position, as documents.location() reads it (schema order).
            self.metrics.decided(outcome.event[2][4].text, outcome.decision, outcome.reason)
        return Decided(outcome, self._drive(outcome))

    def _drive(self, outcome: Outcome) -> BarrierAction:
        facility_id, camera_id = documents.location(outcome.event)
        controller = self.barriers.by_camera(facility_id, camera_id)
        if controller is None:
            return BarrierAction(NOT_CONTROLLED, "this lane has no barrier PLC configured")
        if not outcome.drives_barrier:
            return BarrierAction(NOT_DRIVEN, "a replayed event or another frame of a vehicle already decided")
        self._call(controller.seen, outcome.event_id, outcome.decision)
        if outcome.decision != OPEN:
            return BarrierAction(NOT_DRIVEN, f"decision {outcome.decision}")
        return BarrierAction(*self._call(controller.open, outcome.event_id))

    def _lane(self, facility_id: str, lane_number: int) -> tuple[Facility, Lane]:
        fac = find_facility(self.facilities, facility_id)
        return fac, fac.lane_numbered(lane_number)

    def command(self, facility_id: str, lane_number: int, command: str, reason: str | None,
                username: str) -> BarrierAction:
        """A manual command (OPEN, HOLD, RELEASE, CLOSE), audited with who and why."""
        fac, lane = self._lane(facility_id, lane_number)
        if not reason or not reason.strip():
            raise InvalidInput("a manual barrier command needs a reason", "Reason")
        controller = self.barriers.by_number(fac.id, lane.number)
        if controller is None:
            action = BarrierAction(NOT_CONTROLLED, "this lane has no barrier PLC configured")
        else:
            run = {"OPEN": lambda: controller.open(f"manual:{username}"),
                   "HOLD": lambda: controller.hold_open(True),
                   "RELEASE": lambda: controller.hold_open(False),
                   "CLOSE": controller.close}[command]
            action = BarrierAction(*self._call(run))
        self.audit.record(username, f"Barrier{command.title()}", f"{fac.id}/lane {lane.number}",
                          f"{reason.strip()} -> {action.result}")
        return action

    def status(self, facility_id: str, lane_number: int, username: str) -> LaneState:
        fac, lane = self._lane(facility_id, lane_number)
        self.audit.record(username, "GetLaneStatus", f"{fac.id}/lane {lane.number}", None)
        return self._state(fac, lane)

    def listing(self, facility_id: str | None, username: str) -> list[LaneState]:
        facilities = [find_facility(self.facilities, facility_id)] if facility_id else self.facilities.values()
        self.audit.record(username, "ListLanes", facility_id or "*", None)
        return [self._state(fac, lane) for fac in facilities
                for lane in sorted(fac.lanes.values(), key=lambda lane: lane.number)]

    def attention(self, facility_id: str) -> list[LaneState]:
        """The facility's lanes that need a person (PLC offline, a fault, in local mode); not audited
        (the console's dashboard asks every few seconds)."""
        fac = find_facility(self.facilities, facility_id)
        states = [self._state(fac, lane) for lane in sorted(fac.lanes.values(), key=lambda lane: lane.number)]
        return [s for s in states if s.controlled and (not s.online or s.fault or s.local_mode)]

    def _state(self, fac: Facility, lane: Lane) -> LaneState:
        controller = self.barriers.by_number(fac.id, lane.number)
        if controller is None:
            return LaneState(fac.id, lane, controlled=False)
        s = self._call(controller.status)
        last = s.get("last_event")
        return LaneState(
            fac.id, lane, controlled=True, online=s.get("online", False), position=s.get("position", "UNKNOWN"),
            presence=s.get("presence", False), safety=s.get("safety", False), fault=s.get("fault", False),
            local_mode=s.get("local_mode", False), held=s.get("held", False),
            last_heartbeat=s.get("last_heartbeat"), last_event_id=last.event_id if last else None,
            last_decision=last.decision if last else None, last_event_time=last.at if last else None)


class Incidents:
    """What the lane controllers report (tailgating, offline, a barrier that did not rise)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def record(self, facility_id: str, lane_number: int, kind: str, event_id: str | None,
               detail: str | None) -> None:
        with self.store.connection() as conn:
            incidents.record(conn, self.clock(), facility_id, lane_number, kind, event_id, detail)
