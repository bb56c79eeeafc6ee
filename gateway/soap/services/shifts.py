"""ShiftService: an officer's shift opened, closed with the cash counted, reported, signed off."""

from decimal import Decimal

from spyne import Integer32, ServiceBase

from ...contract import documents
from .. import faults as f
from .. import types as t
from .common import caller, operation, printout, role, use_cases

STAFF = ("admin", "operator")


class ShiftService(ServiceBase):
    @operation(t.req(t.Identifier), t.req(t.Money), t.opt(Integer32), t.opt(t.ShortText), roles=STAFF,
               returns=t.req(t.ShiftInfo), names="Shift", throws=(f.ConflictFault, f.UnknownFacilityFault,
                                                                  f.UnknownLaneFault))
    def OpenShift(ctx, FacilityID, OpeningFloat, LaneNumber, Booth):
        """One open shift per officer (the caller)."""
        return shift_info(use_cases(ctx).shifts.open(caller(ctx), FacilityID, OpeningFloat.value, LaneNumber, Booth,
                                                     currency=OpeningFloat.currency))

    @operation(t.many(t.DeclaredAmount), t.opt(t.LongText), roles=STAFF, returns=t.req(t.ShiftReport),
               names="ShiftReport", throws=(f.NotFoundFault,))
    def CloseShift(ctx, Declared, Note):
        """The caller's open shift, closed with what was counted per method (CASH at least)."""
        counted = {str(d.Method): d.Amount.value for d in Declared or []}
        return shift_report(use_cases(ctx).shifts.close(caller(ctx), counted, Note,
                                                        currencies=[d.Amount.currency for d in Declared or []]))

    @operation(t.opt(t.Identifier), t.opt(t.ShortText), roles=STAFF, returns=t.req(t.ShiftReport),
               names="ShiftReport", throws=(f.NotFoundFault,))
    def GetShiftReport(ctx, ShiftID, Paper):
        """The caller's open (else latest) shift, or ShiftID (admins: anyone's). Paper (receipt or
        a4) adds the report as a PDF to print."""
        shifts = use_cases(ctx).shifts
        report = shifts.report(caller(ctx), role(ctx), ShiftID)
        return shift_report(report, shifts.printed(report, str(Paper)) if Paper else None)

    @operation(t.req(t.Identifier), t.opt(t.LongText), roles=("admin",), returns=t.req(t.ShiftReport),
               names="ShiftReport", throws=(f.NotFoundFault, f.ConflictFault))
    def SignOffShift(ctx, ShiftID, Note):
        """The supervisor's signature under a closed shift's report."""
        return shift_report(use_cases(ctx).shifts.sign_off(ShiftID, caller(ctx), role(ctx), Note))


def shift_info(s):
    return t.ShiftInfo(ShiftID=s.id, Officer=s.officer, FacilityID=s.facility_id, LaneNumber=s.lane_number,
                       Booth=s.booth, OpeningFloat=documents.money("OpeningFloat", s.opening_float, s.currency),
                       OpenedAt=s.opened_at, State=s.state, ClosedAt=s.closed_at, SignedBy=s.signed_by,
                       SignedAt=s.signed_at)


def shift_report(r, printed=None):
    cur = r.shift.currency

    def money(tag, amount):
        return documents.money(tag, amount, cur)
    counts: dict[str, int] = {}
    for e in r.transactions:
        if e.kind == "PAYMENT":
            counts[e.vehicle_type] = counts.get(e.vehicle_type, 0) + 1
    return t.ShiftReport(
        Shift=shift_info(r.shift),
        Transaction=[t.Transaction(PaymentID=e.id, Kind=e.kind, At=e.paid_at, SessionID=e.session_id, Method=e.method,
                                   Amount=money("Amount", e.amount), VehicleType=e.vehicle_type,
                                   Reference=e.reference, OriginalReceipt=e.original_id, Reason=e.reason)
                     for e in r.transactions],
        ByMethod=[t.MethodTotal(Method=line.method, Count=line.count, Expected=money("Expected", line.expected),
                                Declared=money("Declared", line.declared),
                                Difference=money("Difference", line.difference)) for line in r.by_method],
        ByVehicleType=[t.KeyedTotal(Key=k, Count=counts.get(k, 0), Amount=money("Amount", v))
                       for k, v in sorted(r.by_vehicle_type.items())],
        Taken=money("Taken", r.taken), Voids=len(r.voids),
        VoidAmount=money("VoidAmount", sum((e.amount for e in r.voids), Decimal("0"))),
        LostTickets=r.lost_tickets, LostTicketAmount=money("LostTicketAmount", r.lost_ticket_amount),
        Overnight=r.overnight, Printout=printout(printed) if printed else None)
