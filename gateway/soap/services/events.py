"""EventService: lane events, the review queue, sessions, fees, payments, occupancy."""

from spyne import Boolean, DateTime, Integer32, ServiceBase

from ...contract import documents
from ...domain.events import LaneEvent, VehicleAttributes
from .. import faults as f
from .. import types as t
from .common import ALL_ROLES, DECIDED, caller, charges, decided, operation, role, use_cases


class EventService(ServiceBase):
    @operation(t.req(t.LaneEvent), roles=("admin", "operator", "integrator"), **DECIDED,
               throws=(f.InvalidTimeFault, f.UnknownFacilityFault, f.UnknownLaneFault, f.BusyFault))
    def SubmitEvent(ctx, Event):
        d = use_cases(ctx).events.submit(_lane_event(Event))
        ticket = None
        if d.outcome.replayed and d.outcome.session_id and str(Event.Direction) == "ENTRY":
            found = use_cases(ctx).tickets.of_session(d.outcome.session_id)  # a retry answers the same ticket
            ticket = found.number if found else None
        return decided(d, ticket)

    @operation(t.opt(t.Identifier), t.opt(t.ReviewState), t.opt(Integer32), t.opt(Boolean),
               roles=("admin", "operator"), returns=t.many(t.ReviewItem), names="Review",
               throws=(f.UnknownFacilityFault,))
    def ListReviews(ctx, FacilityID, State, Limit, IncludeImages):
        """The events waiting for a person (oldest first); images only when asked for."""
        return [t.ReviewItem(
            ReviewID=r.id, EventID=r.event_id, FacilityID=r.facility_id, CameraID=r.camera_id,
            Direction=r.direction, Timestamp=r.occurred_at, Reason=r.reason, PlateRead=r.plate,
            Confidence=r.confidence, ImageURL=r.image_url, Image=[r.image] if IncludeImages and r.image else None,
            State=r.state, ResolvedBy=r.resolved_by, ResolvedPlate=r.resolved_plate, Decision=r.outcome,
            EntryImage=[r.entry_image] if r.entry_image else None)
            for r in use_cases(ctx).reviews.listing(FacilityID, str(State or "OPEN"), Limit or 50,
                                                    with_images=bool(IncludeImages), username=caller(ctx))]

    @operation(t.req(Integer32), t.req(t.ShortText), roles=("admin", "operator"), **DECIDED,
               throws=(f.NotFoundFault, f.ConflictFault, f.BusyFault))
    def ResolveReview(ctx, ReviewID, Plate):
        """Confirm or correct the plate: the event completes as if it had been read so."""
        return decided(use_cases(ctx).reviews.resolve(ReviewID, Plate, caller(ctx)))

    @operation(t.opt(t.Identifier), t.opt(t.ShortText), t.opt(t.Identifier),
               roles=ALL_ROLES, returns=t.req(t.SessionView), names="SessionView",
               throws=(f.NotFoundFault, f.UnknownFacilityFault))
    def GetSession(ctx, SessionID, Plate, FacilityID):
        quote = use_cases(ctx).sessions.get(SessionID, Plate, FacilityID, username=caller(ctx))
        s = quote.session
        charged, due = charges(quote)
        return t.SessionView(FacilityID=s.facility_id, Plate=s.plate, Status=s.status,
                             Session=documents.session(s, quote.at), Charges=charged, AmountDue=due,
                             ImageMatchScore=s.image_match_score)

    @operation(t.req(t.Identifier), t.opt(DateTime), roles=ALL_ROLES, returns=t.req(t.FeeQuote),
               names="FeeQuote", throws=(f.NotFoundFault, f.InvalidTimeFault))
    def QuoteFee(ctx, SessionID, AsOf):
        quote = use_cases(ctx).sessions.quote_fee(SessionID, AsOf)
        charged, due = charges(quote)
        return t.FeeQuote(SessionID=quote.session.id, AsOf=quote.at,
                          Duration=documents.leaf("Duration", quote.at - quote.session.entry_time),
                          Charges=charged, AmountDue=due)

    @operation(t.req(t.Identifier), t.req(t.Money), t.req(t.ShortText),
               roles=("admin", "operator", "integrator"), returns=t.req(t.PaymentReceipt),
               names="PaymentReceipt", throws=(f.NotFoundFault, f.ConflictFault))
    def RecordPayment(ctx, SessionID, Amount, Method):
        """Method: CASH, CARD, EWALLET, VOUCHER or PERMIT (any case; QR and WALLET are EWALLET). Cash
        above what is due is recorded as what was due (the rest was change: the receipt's Amount);
        any other method above it is refused."""
        receipt = use_cases(ctx).sessions.record_payment(SessionID, Amount.value, Amount.currency, Method,
                                                         caller(ctx), role=role(ctx))
        payment, currency = receipt.payment, receipt.payment.currency
        return t.PaymentReceipt(PaymentID=payment.id, SessionID=receipt.session.id,
                                Amount=documents.money("Amount", payment.amount, currency),
                                AmountPaid=documents.money("AmountPaid", receipt.session.amount_paid, currency),
                                AmountDue=documents.money("AmountDue", receipt.due, currency), PaidAt=payment.paid_at)

    @operation(t.req(t.Identifier), roles=ALL_ROLES, returns=t.req(t.Occupancy), names="Occupancy",
               throws=(f.UnknownFacilityFault,))
    def GetOccupancy(ctx, FacilityID):
        o = use_cases(ctx).occupancy.of(FacilityID)
        return t.Occupancy(FacilityID=o.facility.id, Capacity=o.facility.capacity, Occupied=o.occupied,
                           Available=o.available, AsOf=o.as_of)

    @operation(t.req(t.Identifier), t.req(DateTime), t.req(DateTime), t.opt(Boolean), roles=ALL_ROLES,
               returns=t.req(t.OccupancyHistory), names="OccupancyHistory",
               throws=(f.UnknownFacilityFault, f.InvalidTimeFault))
    def GetOccupancyHistory(ctx, FacilityID, From, To, ByZone):
        """Hour by hour (whole UTC hours, at most 31 days), as the lanes counted them; with ByZone
        also per zone and vehicle type (issue 16)."""
        h = use_cases(ctx).occupancy.history(FacilityID, From, To)
        zones = use_cases(ctx).occupancy.zone_history(FacilityID, From, To) if ByZone else []
        peak = h.peak_hour
        return t.OccupancyHistory(
            FacilityID=h.facility_id, Capacity=h.capacity, From=h.start, To=h.end, Entries=h.entries,
            Exits=h.exits, PeakHour=peak.hour if peak else None, PeakOccupancy=peak.peak if peak else 0,
            AverageStay=h.average_stay, Turnover=h.turnover, Hour=_hours(h),
            Zone=[t.ZoneHistory(ZoneID=z.zone_id, VehicleType=z.vehicle_type, Capacity=z.history.capacity,
                                Entries=z.history.entries, Exits=z.history.exits,
                                PeakOccupancy=max((x.peak for x in z.history.hours), default=0),
                                Hour=_hours(z.history)) for z in zones] or None)


def _hours(h):
    return [t.OccupancyHour(Hour=x.hour, Entries=x.entries, Exits=x.exits, Peak=x.peak, OccupiedAtEnd=x.occupied_end)
            for x in h.hours]


def _lane_event(e):
    v = e.Vehicle
    return LaneEvent(
        event_id=e.EventID, facility_id=e.FacilityID, camera_id=e.CameraID, direction=str(e.Direction),
        timestamp=e.Timestamp, plate_text=e.PlateText, confidence=e.Confidence, lane_number=e.LaneNumber,
        jurisdiction=e.Jurisdiction, country=e.Country, image_url=e.ImageURL, image=_bytes(e.Image),
        vehicle=None if v is None else VehicleAttributes(
            make=v.Make, model=v.Model, year=v.Year, color=v.Color,
            vehicle_class=None if v.VehicleClass is None else str(v.VehicleClass)),
        space_assigned=e.SpaceAssigned, permit_token=e.PermitToken,
        vehicle_type=str(e.VehicleType) if e.VehicleType else None)


def _bytes(value):
    """spyne hands base64Binary over as a list of chunks."""
    return b"".join(value) if isinstance(value, (list, tuple)) else value
