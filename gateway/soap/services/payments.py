"""PaymentService: payments taken (cash with change, card, e-wallet, voucher, permit), their
receipts, voids and refunds."""

from spyne import Integer32, ServiceBase

from ...contract import documents
from ...domain.payments import Tender
from .. import faults as f
from .. import types as t
from .common import caller, operation, printout, role, use_cases


def receipt_document(view):
    return documents.receipt(view.entry, view.session.amount_paid, view.due, view.ticket_number)


class PaymentService(ServiceBase):
    @operation(t.req(t.PaymentMethod), t.opt(t.Identifier), t.opt(t.Identifier), t.opt(t.ShortText),
               t.opt(t.Money), t.opt(t.Money), t.opt(t.ShortText), t.opt(t.CardLastFour), t.opt(Integer32),
               roles=("admin", "operator", "integrator"), returns=t.req(t.Receipt), names="Receipt",
               throws=(f.NotFoundFault, f.ConflictFault, f.UnknownFacilityFault, f.UnknownLaneFault))
    def TakePayment(ctx, Method, SessionID, FacilityID, TicketNumber, Amount, Tendered, Reference, CardLastFour,
                    LaneNumber):
        """An officer's payment belongs to their open shift (refused without one); an integrator's to
        its channel. Cash: Tendered, and the change comes back."""
        tender = Tender(method=str(Method), amount=Amount.value if Amount is not None else None,
                        tendered=Tendered.value if Tendered is not None else None, reference=Reference,
                        card_last_four=CardLastFour,
                        currencies=tuple(m.currency for m in (Amount, Tendered) if m is not None))
        return receipt_document(use_cases(ctx).payments.take(
            tender, caller(ctx), role(ctx), session_id=SessionID, facility_id=FacilityID, ticket_number=TicketNumber,
            lane_number=LaneNumber))

    @operation(t.req(t.Identifier), t.req(t.LongText), roles=("admin",), returns=t.req(t.Receipt), names="Receipt",
               throws=(f.NotFoundFault, f.ConflictFault))
    def VoidPayment(ctx, PaymentID, Reason):
        return receipt_document(use_cases(ctx).payments.reverse(PaymentID, Reason, caller(ctx), role(ctx)))

    @operation(t.req(t.Identifier), t.req(t.Money), t.req(t.LongText), roles=("admin",), returns=t.req(t.Receipt),
               names="Receipt", throws=(f.NotFoundFault, f.ConflictFault))
    def RefundPayment(ctx, PaymentID, Amount, Reason):
        return receipt_document(use_cases(ctx).payments.reverse(PaymentID, Reason, caller(ctx), role(ctx),
                                                                amount=Amount.value, currency=Amount.currency))

    @operation(t.req(t.Identifier), t.opt(t.ShortText), roles=("admin", "operator", "integrator"),
               returns=t.req(t.Printout), names="Printout", throws=(f.NotFoundFault,))
    def PrintReceipt(ctx, PaymentID, Format):
        return printout(use_cases(ctx).payments.printout(PaymentID, Format or "pdf"))
