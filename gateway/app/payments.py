"""Taking payments at a booth (an officer, on their open shift) or from an integrator (on its
channel), their receipts, and the voids and refunds a supervisor makes with a reason."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ..domain.errors import Conflict, InvalidInput, NotFound, NotPermitted
from ..domain.facility import Facility, find_facility
from ..domain.payments import (
    PAYMENT,
    REFUND,
    VOID,
    PaymentEntry,
    Tender,
    checked_currency,
    checked_method,
    reversible,
    settle,
)
from ..domain.sessions import OPEN, ParkingSession
from ..domain.shifts import OPEN as SHIFT_OPEN
from ..domain.tickets import TicketCodes
from ..domain.vehicle_types import DEFAULT as DEFAULT_VEHICLE_TYPE
from ..store import audit, payments, sessions, shifts, tickets
from ..store.engine import Store
from . import printouts
from .clock import Clock, new_id
from .fees import owed
from .tickets import Printout

#: Roles whose payments are an officer's (and so belong to their open shift); the others' to their channel.
OFFICERS = ("operator", "admin")


@dataclass(frozen=True)
class ReceiptView:
    entry: PaymentEntry
    facility: Facility
    session: ParkingSession          # as the entry left it (its amount paid then, open)
    due: Decimal                     # still due after it, then
    ticket_number: str | None


class Payments:
    def __init__(self, *, facilities: Mapping[str, Facility], store: Store, codes: TicketCodes,
                 clock: Clock, tariffs: Any = None) -> None:
        """``tariffs``: the versions set since start (issue 16 part A; None: as configured)."""
        self.tariffs = tariffs
        self.facilities = facilities
        self.store = store
        self.codes = codes
        self.clock = clock

    def _session_id(self, conn, session_id: str | None, facility_id: str | None, ticket_number: str | None) -> str:
        if session_id:
            return session_id
        if facility_id and ticket_number:
            find_facility(self.facilities, facility_id)
            ticket = tickets.get(conn, facility_id, self.codes.verify(facility_id, ticket_number))
            if ticket is None:
                raise NotFound("no such ticket", "TicketNumber")
            return ticket.session_id
        raise InvalidInput("give a SessionID, or a FacilityID and a TicketNumber", "SessionID")

    def take(self, tender: Tender, username: str, role: str, *, session_id: str | None = None,
             facility_id: str | None = None, ticket_number: str | None = None,
             lane_number: int | None = None) -> ReceiptView:
        """An officer's payment goes on their open shift (refused without one); an integrator's on
        its channel."""
        now = self.clock()
        with self.store.connection() as conn:
            sid = self._session_id(conn, session_id, facility_id, ticket_number)
            session = sessions.get(conn, sid, for_update=True)   # two payments at once both count
            if session is None:
                raise NotFound("no such session", "SessionID")
            if session.status != OPEN:
                raise Conflict("the session is closed", "SessionID")
            fac = find_facility(self.facilities, session.facility_id)
            if lane_number is not None:
                fac.lane_numbered(lane_number)       # the reports count revenue by lane
            shift = None
            if role in OFFICERS:
                shift = shifts.open_of(conn, username)
                if shift is None:
                    raise Conflict("open a shift before taking payments", "Shift")
                if shift.facility_id != fac.id:
                    raise Conflict("the shift is in another facility", "Shift")
            _, due = owed(fac, session, now, tickets.lost_of_session(conn, session.id), tariffs=self.tariffs, conn=conn)
            settled = settle(tender, due, fac.policy.partial_payments, fac.currency)
            ticket = tickets.of_session(conn, session.id)
            entry = PaymentEntry(
                id=new_id("PAY", now), session_id=session.id, facility_id=fac.id, kind=PAYMENT,
                method=checked_method(tender.method),
                amount=settled.amount, currency=fac.currency, paid_at=now, recorded_by=username,
                vehicle_type=ticket.vehicle_type if ticket else DEFAULT_VEHICLE_TYPE,
                lane_number=lane_number if lane_number is not None else (shift.lane_number if shift else None),
                shift_id=shift.id if shift else None, channel=None if shift else username,
                tendered=settled.tendered, change=settled.change, reference=tender.reference,
                card_last_four=tender.card_last_four, partial=settled.partial)
            paid = session.with_payment(settled.amount, now)
            sessions.paid(conn, paid)
            payments.insert_entry(conn, entry)
            audit.record(conn, now, username, "TakePayment", session.id,
                         f"{entry.amount} {entry.currency} by {entry.method}", plate=session.plate)
            _, left = owed(fac, paid, now, tickets.lost_of_session(conn, session.id), tariffs=self.tariffs, conn=conn)
        return ReceiptView(entry, fac, paid, left, ticket.number if ticket else None)

    def reverse(self, payment_id: str, reason: str, username: str, role: str,
                amount: Decimal | None = None, currency: str | None = None) -> ReceiptView:
        """A void (``amount`` None: all of it, while its shift is open) or a refund (any time, part or
        all, in the payment's ``currency``); a supervisor's (admin) act, with a reason."""
        if role != "admin":
            raise NotPermitted()
        if not reason or not reason.strip():
            raise InvalidInput("a void or refund needs its reason", "Reason")
        now = self.clock()
        with self.store.connection() as conn:
            original = payments.get(conn, payment_id)
            if original is None:
                raise NotFound("no such payment", "PaymentID")
            checked_currency([currency] if currency else [], original.currency, "Amount")
            session = sessions.get(conn, original.session_id, for_update=True)
            assert session is not None
            back = reversible(original, payments.reversed_total(conn, original.id), amount)
            kind = VOID if amount is None else REFUND
            shift_id = original.shift_id
            if kind == VOID and shift_id is not None:
                shift = shifts.get(conn, shift_id)
                if shift is None or shift.state != SHIFT_OPEN:
                    raise Conflict("the payment's shift is closed: refund it instead", "PaymentID")
            if kind == REFUND:
                shift_id = None          # money back at the office: in the period's reports, on no shift
            fac = find_facility(self.facilities, session.facility_id)
            entry = replace(original, id=new_id(kind[:3], now), kind=kind, amount=-back, paid_at=now,
                            recorded_by=username, shift_id=shift_id,
                            channel=original.channel if kind == VOID else f"refund:{username}",
                            tendered=None, change=None, partial=False, original_id=original.id,
                            reason=reason.strip()[:1000], authorised_by=username)
            changed = replace(session, amount_paid=session.amount_paid - back)
            sessions.paid(conn, changed)
            payments.insert_entry(conn, entry)
            audit.record(conn, now, username, kind.title() + "Payment", original.id,
                         f"{back} {entry.currency}: {entry.reason}"[:1000], plate=session.plate)
            ticket = tickets.of_session(conn, session.id)
            _, left = owed(fac, changed, now, tickets.lost_of_session(conn, session.id),
                tariffs=self.tariffs, conn=conn)
        return ReceiptView(entry, fac, changed, left, ticket.number if ticket else None)

    def receipt(self, payment_id: str) -> ReceiptView:
        """The receipt of a journal line as it was when the line was recorded: a reprint hours later,
        or after a void, says what was paid and still due then, not now."""
        with self.store.connection() as conn:
            entry = payments.get(conn, payment_id)
            if entry is None:
                raise NotFound("no such payment", "PaymentID")
            session = sessions.get(conn, entry.session_id)
            assert session is not None
            fac = find_facility(self.facilities, session.facility_id)
            ticket = tickets.of_session(conn, session.id)
            then = replace(session, status=OPEN, exit_time=None, amount_paid=payments.paid_as_of(conn, entry),
                           paid_at=entry.paid_at)
            lost = tickets.lost_of_session(conn, session.id)
            _, due = owed(fac, then, entry.paid_at, lost if lost is not None and lost.at <= entry.paid_at else None,
                          tariffs=self.tariffs, conn=conn)
        return ReceiptView(entry, fac, then, due, ticket.number if ticket else None)

    def printout(self, payment_id: str, media: str = "pdf") -> Printout:
        view = self.receipt(payment_id)
        return Printout(printouts.receipt(view, media), printouts.media_type(media), f"receipt-{payment_id}.{media}")
