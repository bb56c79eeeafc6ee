"""The SOAP services: thin translations between the contract's types and :mod:`gateway.parking`.

Each operation names the roles it admits; authentication (WS-Security UsernameToken) runs
before the method body, in :mod:`gateway.soap.app`. Methods run in a request thread, so the
blocking calls into the domain and the database are fine here.
"""

from spyne import Boolean, Date, DateTime, Integer32, ServiceBase, rpc

from .. import documents
from ..parking import LaneEvent
from . import faults as f
from . import types as t

ALL_ROLES = ("admin", "operator", "integrator", "enforcement")


def operation(*params, roles, returns=None, names=None, throws=()):
    """spyne's ``@rpc`` with the roles the operation admits and the faults it declares."""
    kwargs = dict(_returns=returns, _throws=f.COMMON + list(throws), _udd={"roles": frozenset(roles)})
    if names:
        kwargs["_out_variable_names" if isinstance(names, tuple) else "_out_variable_name"] = names
    return rpc(*params, **kwargs)


def _parking(ctx):
    return ctx.app.gateway.parking


def _caller(ctx):
    return ctx.udc.username


class Health(ServiceBase):
    @operation(roles=ALL_ROLES, returns=t.req(DateTime), names="ServerTime")
    def Ping(ctx):
        """No side effects: proves the service and the credentials work."""
        return ctx.app.gateway.parking.clock()


#: What a decided lane event answers (SubmitEvent, ResolveReview).
DECIDED = dict(returns=(t.req(t.ParkingEvent), t.req(t.Decision), t.req(t.ShortText), t.req(t.BarrierAction)),
               names=("ParkingEvent", "Decision", "Reason", "Barrier"))


def _decided(ctx, outcome):
    barrier = ctx.app.gateway.lanes.after_decision(outcome)
    return outcome.event, outcome.decision, outcome.reason, _barrier_action(barrier)


class EventService(ServiceBase):
    @operation(t.req(t.LaneEvent), roles=("admin", "operator", "integrator"), **DECIDED,
               throws=(f.InvalidTimeFault, f.UnknownFacilityFault, f.UnknownLaneFault, f.BusyFault))
    def SubmitEvent(ctx, Event):
        parking = _parking(ctx)
        event = LaneEvent(
            event_id=Event.EventID, facility_id=Event.FacilityID, camera_id=Event.CameraID,
            direction=str(Event.Direction), timestamp=Event.Timestamp, plate_text=Event.PlateText,
            confidence=Event.Confidence, lane_number=Event.LaneNumber, jurisdiction=Event.Jurisdiction,
            country=Event.Country, image_url=Event.ImageURL, image=_bytes(Event.Image), vehicle=Event.Vehicle,
            space_assigned=Event.SpaceAssigned)
        event = ctx.app.gateway.images.read(event, parking.facility(Event.FacilityID))
        return _decided(ctx, ctx.app.gateway.frames.submit(event))

    @operation(t.opt(t.Identifier), t.opt(t.ReviewState), t.opt(Integer32), t.opt(Boolean),
               roles=("admin", "operator"), returns=t.many(t.ReviewItem), names="Review",
               throws=(f.UnknownFacilityFault,))
    def ListReviews(ctx, FacilityID, State, Limit, IncludeImages):
        """The events waiting for a person (oldest first); images only when asked for."""
        rows = _parking(ctx).list_reviews(FacilityID, str(State or "OPEN"), Limit or 50)
        return [t.ReviewItem(
            ReviewID=r.id, EventID=r.event_id, FacilityID=r.facility_id, CameraID=r.camera_id,
            Direction=r.direction, Timestamp=r.occurred_at, Reason=r.reason, PlateRead=r.plate,
            Confidence=r.confidence, ImageURL=r.image_url, Image=[r.image] if IncludeImages and r.image else None,
            State=r.state, ResolvedBy=r.resolved_by, ResolvedPlate=r.resolved_plate, Decision=r.outcome)
            for r in rows]

    @operation(t.req(Integer32), t.req(t.ShortText), roles=("admin", "operator"), **DECIDED,
               throws=(f.NotFoundFault, f.ConflictFault, f.BusyFault))
    def ResolveReview(ctx, ReviewID, Plate):
        """Confirm or correct the plate: the event completes as if it had been read so."""
        return _decided(ctx, _parking(ctx).resolve_review(ReviewID, Plate, _caller(ctx)))

    @operation(t.opt(t.Identifier), t.opt(t.ShortText), t.opt(t.Identifier),
               roles=ALL_ROLES, returns=t.req(t.SessionView), names="SessionView",
               throws=(f.NotFoundFault, f.UnknownFacilityFault))
    def GetSession(ctx, SessionID, Plate, FacilityID):
        rec, (charge, due) = _parking(ctx).get_session(SessionID, Plate, FacilityID)
        return _session_view(ctx, rec, charge, due)

    @operation(t.req(t.Identifier), t.opt(DateTime), roles=ALL_ROLES, returns=t.req(t.FeeQuote),
               names="FeeQuote", throws=(f.NotFoundFault, f.InvalidTimeFault))
    def QuoteFee(ctx, SessionID, AsOf):
        parking = _parking(ctx)
        rec, at, charge, due = parking.quote_fee(SessionID, AsOf)
        tariff = parking.facility(rec.facility_id).tariff
        return t.FeeQuote(SessionID=rec.id, AsOf=at, Duration=documents.leaf("Duration", at - rec.entry_time),
                          Charges=documents.charges(tariff, charge, rec.amount_paid),
                          AmountDue=documents.money("AmountDue", due, tariff.currency))

    @operation(t.req(t.Identifier), t.req(t.Money), t.req(t.ShortText),
               roles=("admin", "operator", "integrator"), returns=t.req(t.PaymentReceipt),
               names="PaymentReceipt", throws=(f.NotFoundFault, f.ConflictFault))
    def RecordPayment(ctx, SessionID, Amount, Method):
        payment, rec, due = _parking(ctx).record_payment(SessionID, Amount.value, Amount.currency, Method,
                                                         _caller(ctx))
        return t.PaymentReceipt(PaymentID=payment.id, SessionID=rec.id,
                                Amount=documents.money("Amount", payment.amount, payment.currency),
                                AmountPaid=documents.money("AmountPaid", rec.amount_paid, payment.currency),
                                AmountDue=documents.money("AmountDue", due, payment.currency), PaidAt=payment.paid_at)

    @operation(t.req(t.Identifier), roles=ALL_ROLES, returns=t.req(t.Occupancy), names="Occupancy",
               throws=(f.UnknownFacilityFault,))
    def GetOccupancy(ctx, FacilityID):
        fac, occupied, now = _parking(ctx).occupancy(FacilityID)
        return t.Occupancy(FacilityID=fac.id, Capacity=fac.capacity, Occupied=occupied,
                           Available=max(fac.capacity - occupied, 0), AsOf=now)


class PermitService(ServiceBase):
    @operation(t.req(t.ShortText), t.req(t.Identifier), t.opt(DateTime), roles=ALL_ROLES,
               returns=(t.req(t.AuthorizationStatus), t.opt(t.Permit)), names=("Status", "Permit"),
               throws=(f.UnknownFacilityFault, f.InvalidTimeFault))
    def LookupPermit(ctx, Plate, FacilityID, At):
        status, rec = _parking(ctx).lookup_permit(Plate, FacilityID, At)
        return status, documents.permit(rec) if rec else None

    @operation(t.req(t.ShortText), t.req(t.PermitType), t.req(Date), t.req(Date), t.opt(t.Identifier),
               t.opt(t.Identifier), roles=("admin", "operator"), returns=t.req(t.Permit), names="Permit",
               throws=(f.UnknownFacilityFault, f.InvalidTimeFault, f.ConflictFault))
    def IssuePermit(ctx, Plate, PermitType, ValidFrom, ValidUntil, FacilityID, PermitNumber):
        return _parking(ctx).issue_permit(Plate, str(PermitType), ValidFrom, ValidUntil, _caller(ctx),
                                          facility_id=FacilityID, permit_number=PermitNumber)

    @operation(t.req(t.Identifier), t.req(t.LongText), roles=("admin", "operator"), returns=t.req(t.Permit),
               names="Permit", throws=(f.NotFoundFault, f.ConflictFault))
    def RevokePermit(ctx, PermitNumber, Reason):
        return _parking(ctx).revoke_permit(PermitNumber, Reason, _caller(ctx))

    @operation(t.opt(t.ShortText), t.opt(t.Identifier), roles=ALL_ROLES, returns=t.many(t.Permit),
               names="Permit", throws=(f.UnknownFacilityFault,))
    def ListPermits(ctx, Plate, FacilityID):
        return [documents.permit(rec) for rec in _parking(ctx).list_permits(Plate, FacilityID)]


class CitationService(ServiceBase):
    @operation(t.req(t.Identifier), t.req(t.ShortText), t.req(t.ViolationType), t.opt(t.ShortText),
               t.opt(t.URL), t.opt(t.LongText), t.opt(t.ShortText),
               roles=("admin", "operator", "enforcement"), returns=t.req(t.Citation), names="Citation",
               throws=(f.UnknownFacilityFault,))
    def IssueCitation(ctx, FacilityID, Plate, ViolationType, Location, EvidenceURL, Note, Jurisdiction):
        return _parking(ctx).issue_citation(
            FacilityID, Plate, ViolationType, _caller(ctx), location=Location, evidence_url=EvidenceURL,
            note=Note, jurisdiction=Jurisdiction)


class LaneService(ServiceBase):
    @operation(t.req(t.Identifier), t.req(Integer32), t.req(t.LongText), t.opt(t.BarrierCommand),
               roles=("admin", "operator"), returns=t.req(t.BarrierAction), names="Barrier",
               throws=(f.UnknownFacilityFault, f.UnknownLaneFault))
    def OpenBarrier(ctx, FacilityID, LaneNumber, Reason, Command):
        """Raise the arm by hand (OPEN: one pulse; HOLD: keep it up; RELEASE: back to automatic)."""
        return _barrier_action(ctx.app.gateway.lanes.command(FacilityID, LaneNumber, str(Command or "OPEN"),
                                                             Reason, _caller(ctx)))

    @operation(t.req(t.Identifier), t.req(Integer32), t.req(t.LongText), roles=("admin", "operator"),
               returns=t.req(t.BarrierAction), names="Barrier", throws=(f.UnknownFacilityFault, f.UnknownLaneFault))
    def CloseBarrier(ctx, FacilityID, LaneNumber, Reason):
        """Lower the arm by hand; refused while a vehicle is on the loops."""
        return _barrier_action(ctx.app.gateway.lanes.command(FacilityID, LaneNumber, "CLOSE", Reason, _caller(ctx)))

    @operation(t.req(t.Identifier), t.req(Integer32), roles=("admin", "operator"), returns=t.req(t.LaneStatus),
               names="LaneStatus", throws=(f.UnknownFacilityFault, f.UnknownLaneFault))
    def GetLaneStatus(ctx, FacilityID, LaneNumber):
        return _lane_status(ctx.app.gateway.lanes.status(FacilityID, LaneNumber, _caller(ctx)))

    @operation(t.opt(t.Identifier), roles=("admin", "operator"), returns=t.many(t.LaneStatus), names="LaneStatus",
               throws=(f.UnknownFacilityFault,))
    def ListLanes(ctx, FacilityID):
        return [_lane_status(view) for view in ctx.app.gateway.lanes.list(FacilityID, _caller(ctx))]


class RelayService(ServiceBase):
    @operation(roles=("admin", "operator", "integrator"), returns=t.many(t.RelayStatus), names="RelayStatus")
    def GetRelayStatus(ctx):
        """Per destination: what waits, since when, what was delivered, what is dead, the last error."""
        return [t.RelayStatus(Destination=name, Kind=s["destination"].kind, Pending=s["pending"],
                              OldestPendingAge=documents.leaf("OldestPendingAge", s["oldest_pending_age"]),
                              Delivered=s["delivered"], Dead=s["dead"], LastError=s["last_error"],
                              LastDeliveredAt=s["last_delivered_at"])
                for name, s in ctx.app.gateway.outbox.status().items()]


def _bytes(value):
    """spyne hands base64Binary over as a list of chunks."""
    return b"".join(value) if isinstance(value, (list, tuple)) else value


def _barrier_action(action):
    return t.BarrierAction(Result=action.result, Detail=action.detail)


def _lane_status(view):
    s = view.status or {}
    last = s.get("last_event")
    return t.LaneStatus(
        FacilityID=view.facility_id, LaneNumber=view.lane.number, CameraID=view.lane.camera_id,
        Direction=view.lane.direction, Controlled=view.status is not None, PlcOnline=s.get("online", False),
        Barrier=s.get("position", "UNKNOWN"), PresenceLoop=s.get("presence", False),
        SafetyLoop=s.get("safety", False), Fault=s.get("fault", False), LocalMode=s.get("local_mode", False),
        HeldOpen=s.get("held", False), LastHeartbeat=s.get("last_heartbeat"),
        LastEventID=last.event_id if last else None, LastDecision=last.decision if last else None,
        LastEventTime=last.at if last else None)


def _session_view(ctx, rec, charge, due):
    parking = _parking(ctx)
    tariff = parking.facility(rec.facility_id).tariff
    return t.SessionView(FacilityID=rec.facility_id, Plate=rec.plate, Status=rec.status,
                         Session=documents.session(rec, parking.clock()),
                         Charges=documents.charges(tariff, charge, rec.amount_paid),
                         AmountDue=documents.money("AmountDue", due, tariff.currency))

