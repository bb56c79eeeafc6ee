"""Parking sessions, what they owe, and payments towards them."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection

from ..domain import times
from ..domain.errors import Conflict, InvalidInput, InvalidTime, NotFound, NotPermitted
from ..domain.facility import Facility, find_facility
from ..domain.payments import checked_currency, checked_method, in_cents, paid_towards
from ..domain.plates import normalise_plate
from ..domain.sessions import OPEN, ParkingSession, Payment
from ..domain.tariffs import Schedule, TariffVersion, configured
from ..domain.tickets import LostTicket
from ..store import audit, payments, sessions, tickets
from ..store.engine import Store
from .clock import Clock, new_id
from .fees import owed, shown_tariff
from .payments import OFFICERS
from .tariffs import Tariffs


@dataclass(frozen=True)
class SessionQuote:
    """A session as of ``at``: what it is charged and what is still due if it left then."""
    session: ParkingSession
    tariff: TariffVersion            # in force at the entry (what a receipt names)
    at: datetime
    charge: Decimal
    due: Decimal


@dataclass(frozen=True)
class Receipt:
    payment: Payment
    session: ParkingSession          # as the payment left it
    due: Decimal


class Sessions:
    def __init__(self, facilities: Mapping[str, Facility], store: Store, clock: Clock,
                 tariffs: "Tariffs | None" = None) -> None:
        """``tariffs``: the versions set since start (None: the configured tariffs only)."""
        self.facilities = facilities
        self.store = store
        self.clock = clock
        self.tariffs = tariffs

    def schedule(self, facility_id: str) -> Schedule:
        if self.tariffs is not None:
            return self.tariffs.schedule(facility_id)
        return configured(find_facility(self.facilities, facility_id))

    def _find(self, conn: Connection, session_id: str | None = None, plate: str | None = None,
              facility_id: str | None = None, for_update: bool = False) -> ParkingSession:
        """``for_update``: the row stays locked until the unit of work ends, for changing it."""
        if session_id:
            found, by = sessions.get(conn, session_id, for_update), "SessionID"
        elif plate and facility_id:
            find_facility(self.facilities, facility_id)
            found, by = sessions.of_plate(conn, facility_id, normalise_plate(plate, "Plate"), for_update), "Plate"
        else:
            raise InvalidInput("give a SessionID, or a Plate and a FacilityID", "SessionID")
        if found is None:
            raise NotFound("no such session", by)
        return found

    def _quote(self, session: ParkingSession, at: datetime, lost: LostTicket | None) -> SessionQuote:
        """``lost``: a lost ticket processed for the session (it owes at least that charge)."""
        fac = find_facility(self.facilities, session.facility_id)
        sched = self.schedule(fac.id)
        return SessionQuote(session, shown_tariff(sched, session), at,
                            *owed(fac, session, at, lost, self.tariffs))

    def get(self, session_id: str | None = None, plate: str | None = None,
            facility_id: str | None = None, username: str = "system") -> SessionQuote:
        """By SessionID, or the plate's open session in a facility (else its latest). A plate query
        either way (the answer shows the plate): audited; by plate, when none is found too (the
        answer says the plate is not there: the exit desk's search)."""
        found: ParkingSession | None
        with self.store.connection() as conn:
            try:
                found = self._find(conn, session_id, plate, facility_id)
            except NotFound:
                if session_id or not plate:
                    raise
                audit.record(conn, self.clock(), username, "GetSession", facility_id or "*", "by plate, none found",
                             plate=normalise_plate(plate, "Plate"))
                found = None
            if found is not None:
                audit.record(conn, self.clock(), username, "GetSession", found.id, "by plate" if plate else "by id",
                             plate=found.plate)
                lost = tickets.lost_of_session(conn, found.id)
        if found is None:   # raised once the search's entry is committed
            raise NotFound("no such session", "Plate")
        return self._quote(found, self.clock(), lost)

    def quote_fee(self, session_id: str, at: datetime | None = None) -> SessionQuote:
        """What an open session owes if it left now, or at ``at`` (past or future: "what will I owe
        in an hour")."""
        with self.store.connection() as conn:
            found = self._find(conn, session_id)
            lost = tickets.lost_of_session(conn, found.id)
        now = self.clock()
        at = times.ahead(at, now, "AsOf") if at is not None else now
        if at < found.entry_time:
            raise InvalidTime("AsOf is before the session's entry", "AsOf")
        return self._quote(found, at, lost)

    def record_payment(self, session_id: str, amount: Decimal, currency: str, method: str,
                       username: str, *, role: str) -> Receipt:
        """An integrator's payment (a pay station, a pay-by-phone app, a PARCS), on its channel.
        Officers are refused: their payments go on their open shift with
        :meth:`gateway.app.payments.Payments.take`, which has what a booth's needs (tendered and
        change, the card terminal's reference) and the shift's cash is reconciled from."""
        if role in OFFICERS:
            raise NotPermitted("an officer's payment goes on their open shift: PaymentService.TakePayment")
        with self.store.connection() as conn:
            found = self._find(conn, session_id, for_update=True)  # two payments at once both count
            fac = find_facility(self.facilities, found.facility_id)
            if found.status != OPEN:
                raise Conflict("the session is closed", "SessionID")
            method = checked_method(method)
            if amount <= 0:
                raise InvalidInput("a payment is a positive amount", "Amount")
            in_cents(amount, "Amount")
            checked_currency([currency], fac.currency, "Amount")
            now = self.clock()
            lost = tickets.lost_of_session(conn, found.id)
            _, due = owed(fac, found, now, lost, self.tariffs, conn=conn)
            settled = paid_towards(method, due, amount, None, partial_allowed=True)  # part payments, as ever
            change = settled.change or None
            payment = Payment(id=new_id("PAY", now), session_id=found.id, amount=settled.amount, currency=currency,
                              method=method, paid_at=now, recorded_by=username, facility_id=fac.id,
                              channel=username, tendered=amount if change else None, change=change)
            paid = found.with_payment(settled.amount, now)
            sessions.paid(conn, paid)
            payments.insert(conn, payment)
            audit.record(conn, now, username, "RecordPayment", paid.id, f"{settled.amount} {currency} by {method}",
                         plate=paid.plate)
        _, due = owed(fac, paid, now, lost, self.tariffs)
        return Receipt(payment, paid, due)
