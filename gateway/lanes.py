"""Lanes and their barriers, as the SOAP services see them.

Called from request threads: the lane controllers live on the reactor, so every call into
them goes through ``blockingCallFromThread``; their Deferreds never fail and are bounded by
the Modbus timeouts, so a request thread never waits on a dead PLC for long.
"""

from dataclasses import dataclass

from twisted.internet.threads import blockingCallFromThread

from . import documents
from .errors import InvalidInput, UnknownLane
from .parking import OPEN

NOT_CONTROLLED = "NOT_CONTROLLED"   # the lane has no PLC in the configuration
NOT_DRIVEN = "NOT_DRIVEN"           # nothing to do (a HOLD, a replayed event)


@dataclass(frozen=True)
class BarrierAction:
    result: str
    detail: str


@dataclass(frozen=True)
class LaneView:
    facility_id: str
    lane: object          # gateway.config.Lane
    status: dict | None   # LaneController.status(), None when the lane has no PLC


class Lanes:
    def __init__(self, parking, barriers, reactor):
        self.parking = parking
        self.barriers = barriers
        self.reactor = reactor

    def _call(self, fn, *args):
        return blockingCallFromThread(self.reactor, fn, *args)

    def after_decision(self, outcome):
        """Drive the barrier of the event's lane for a decided event; say what happened to it."""
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

    def _lane(self, facility_id, lane_number):
        fac = self.parking.facility(facility_id)
        for lane in fac.lanes.values():
            if lane.number == lane_number:
                return fac, lane
        raise UnknownLane(f"{fac.id} has no lane {lane_number}", "LaneNumber")

    def command(self, facility_id, lane_number, command, reason, username):
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
        self.parking.audit(username, f"Barrier{command.title()}", f"{fac.id}/lane {lane.number}",
                           f"{reason.strip()} -> {action.result}")
        return action

    def status(self, facility_id, lane_number, username):
        fac, lane = self._lane(facility_id, lane_number)
        self.parking.audit(username, "GetLaneStatus", f"{fac.id}/lane {lane.number}", None)
        return self._view(fac, lane)

    def list(self, facility_id, username):
        facilities = [self.parking.facility(facility_id)] if facility_id else self.parking.config.facilities.values()
        self.parking.audit(username, "ListLanes", facility_id or "*", None)
        return [self._view(fac, lane) for fac in facilities
                for lane in sorted(fac.lanes.values(), key=lambda lane: lane.number)]

    def _view(self, fac, lane):
        controller = self.barriers.by_number(fac.id, lane.number)
        status = self._call(controller.status) if controller is not None else None
        return LaneView(fac.id, lane, status)

