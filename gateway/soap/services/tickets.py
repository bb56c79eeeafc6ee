"""TicketService: tickets looked up and printed, exits by ticket, lost tickets, overnight vehicles."""

from spyne import ByteArray, DateTime, Integer32, ServiceBase

from ...contract import documents
from .. import faults as f
from .. import types as t
from .common import ALL_ROLES, DECIDED, caller, charges_of, decided, operation, printout, use_cases

STAFF = ("admin", "operator")


def ticket_document(view):
    return documents.ticket(view.ticket, view.state, view.code)


class TicketService(ServiceBase):
    @operation(t.opt(t.Identifier), t.opt(t.ShortText), t.opt(t.LongText), roles=ALL_ROLES,
               returns=t.req(t.TicketView), names="TicketView", throws=(f.NotFoundFault, f.UnknownFacilityFault))
    def GetTicket(ctx, FacilityID, TicketNumber, TicketCode):
        view = use_cases(ctx).tickets.get(FacilityID, TicketNumber, TicketCode, username=caller(ctx))
        charged, due = charges_of(view.tariff, view.charge, view.session.amount_paid, view.due)
        return t.TicketView(Ticket=ticket_document(view), Plate=view.session.plate, Charges=charged, AmountDue=due)

    @operation(t.opt(t.Identifier), t.opt(t.ShortText), t.opt(t.LongText), t.opt(t.ShortText), roles=STAFF,
               returns=t.req(t.Printout), names="Printout", throws=(f.NotFoundFault, f.UnknownFacilityFault))
    def PrintTicket(ctx, FacilityID, TicketNumber, TicketCode, Format):
        """The ticket as printed: PDF (default) or PNG, at receipt-printer width."""
        return printout(use_cases(ctx).tickets.printout(FacilityID, TicketNumber, TicketCode, Format or "pdf"))

    @operation(t.req(t.Identifier), t.req(t.Identifier), t.req(t.Identifier), t.opt(DateTime), t.opt(t.ShortText),
               t.opt(t.LongText), t.opt(t.ShortText), t.opt(t.Confidence), t.opt(t.URL), t.opt(ByteArray),
               t.opt(Integer32), roles=("admin", "operator", "integrator"),
               returns=(*DECIDED["returns"], t.opt(t.URL), t.opt(ByteArray)),
               names=(*DECIDED["names"], "EntryImageURL", "EntryImage"),
               throws=(f.NotFoundFault, f.ConflictFault, f.InvalidTimeFault, f.UnknownFacilityFault,
                       f.UnknownLaneFault, f.BusyFault))
    def ExitByTicket(ctx, EventID, FacilityID, CameraID, Timestamp, TicketNumber, TicketCode, PlateText, Confidence,
                     ImageURL, Image, LaneNumber):
        """The exit of the scanned ticket's vehicle; a plate read that is not the ticket's: REVIEW
        (the entry picture comes back beside it)."""
        done = use_cases(ctx).tickets.exit_by(
            event_id=EventID, facility_id=FacilityID, camera_id=CameraID, timestamp=Timestamp, number=TicketNumber,
            code=TicketCode, plate=PlateText, confidence=Confidence, image=b"".join(Image) if Image else None,
            image_url=ImageURL, lane_number=LaneNumber)
        return (*decided(done.decided, done.ticket.number), done.entry_image_url,
                [done.entry_image] if done.entry_image and not done.plate_matches else None)

    @operation(t.req(t.Identifier), t.req(t.ShortText), t.req(t.LongText), roles=STAFF,
               returns=t.req(t.LostTicketResult), names="LostTicket", throws=(f.NotFoundFault, f.ConflictFault,
                                                                             f.UnknownFacilityFault))
    def ProcessLostTicket(ctx, FacilityID, Plate, Reason):
        """The plate's open session, its entry picture to compare, and the charge by the facility's policy."""
        done = use_cases(ctx).tickets.lost(FacilityID, Plate, Reason, caller(ctx))
        lost, cur = done.lost, done.lost.currency
        return t.LostTicketResult(
            LostTicketID=lost.id, SessionID=lost.session_id, TicketNumber=lost.ticket_number,
            EntryTime=done.session.entry_time, Policy=lost.policy, Charge=documents.money("Charge", lost.charge, cur),
            AmountDue=documents.money("AmountDue", done.due, cur), EntryImageURL=done.entry_image_url,
            EntryImage=[done.entry_image] if done.entry_image else None)

    @operation(t.req(t.Identifier), t.opt(DateTime), t.opt(Integer32), roles=STAFF,
               returns=t.many(t.OvernightVehicle), names="Vehicle", throws=(f.UnknownFacilityFault,))
    def ListOvernightVehicles(ctx, FacilityID, AsOf, Limit):
        return [t.OvernightVehicle(SessionID=v.session.id, Plate=v.session.plate, EntryTime=v.session.entry_time,
                                   Cutoff=v.cutoff, TicketNumber=v.ticket.number if v.ticket else None,
                                   LaneNumber=v.session.lane_number)
                for v in use_cases(ctx).tickets.overnight(FacilityID, AsOf, Limit or 1000, username=caller(ctx))]
