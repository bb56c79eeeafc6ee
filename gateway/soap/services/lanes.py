"""LaneService: barriers by hand, lane status."""

from spyne import Integer32, ServiceBase

from .. import faults as f
from .. import types as t
from .common import barrier_action, caller, operation, use_cases


class LaneService(ServiceBase):
    @operation(t.req(t.Identifier), t.req(Integer32), t.req(t.LongText), t.opt(t.BarrierCommand),
               roles=("admin", "operator"), returns=t.req(t.BarrierAction), names="Barrier",
               throws=(f.UnknownFacilityFault, f.UnknownLaneFault))
    def OpenBarrier(ctx, FacilityID, LaneNumber, Reason, Command):
        """Raise the arm by hand (OPEN: one pulse; HOLD: keep it up; RELEASE: back to automatic)."""
        return barrier_action(use_cases(ctx).lanes.command(FacilityID, LaneNumber, str(Command or "OPEN"), Reason,
                                                           caller(ctx)))

    @operation(t.req(t.Identifier), t.req(Integer32), t.req(t.LongText), roles=("admin", "operator"),
               returns=t.req(t.BarrierAction), names="Barrier", throws=(f.UnknownFacilityFault, f.UnknownLaneFault))
    def CloseBarrier(ctx, FacilityID, LaneNumber, Reason):
        """Lower the arm by hand; refused while a vehicle is on the loops."""
        return barrier_action(use_cases(ctx).lanes.command(FacilityID, LaneNumber, "CLOSE", Reason, caller(ctx)))

    @operation(t.req(t.Identifier), t.req(Integer32), roles=("admin", "operator"), returns=t.req(t.LaneStatus),
               names="LaneStatus", throws=(f.UnknownFacilityFault, f.UnknownLaneFault))
    def GetLaneStatus(ctx, FacilityID, LaneNumber):
        return _lane_status(use_cases(ctx).lanes.status(FacilityID, LaneNumber, caller(ctx)))

    @operation(t.opt(t.Identifier), roles=("admin", "operator"), returns=t.many(t.LaneStatus), names="LaneStatus",
               throws=(f.UnknownFacilityFault,))
    def ListLanes(ctx, FacilityID):
        return [_lane_status(state) for state in use_cases(ctx).lanes.listing(FacilityID, caller(ctx))]


def _lane_status(s):
    return t.LaneStatus(
        FacilityID=s.facility_id, LaneNumber=s.lane.number, CameraID=s.lane.camera_id, Direction=s.lane.direction,
        Controlled=s.controlled, PlcOnline=s.online, Barrier=s.position, PresenceLoop=s.presence,
        SafetyLoop=s.safety, Fault=s.fault, LocalMode=s.local_mode, HeldOpen=s.held,
        LastHeartbeat=s.last_heartbeat, LastEventID=s.last_event_id, LastDecision=s.last_decision,
        LastEventTime=s.last_event_time)
