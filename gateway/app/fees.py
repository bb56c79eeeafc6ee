"""What a session owes: the one function the operator's use cases ask (tickets, payments, lost
tickets), so the tariff behind it is changed in one place."""

from datetime import datetime
from decimal import Decimal

from ..domain.facility import Facility
from ..domain.sessions import ParkingSession, quote
from ..domain.tickets import LostTicket


def owed(facility: Facility, session: ParkingSession, at: datetime,
         lost: LostTicket | None = None) -> tuple[Decimal, Decimal]:
    """(charge, still due) of ``session`` leaving at ``at``; a lost ticket processed for it charges
    at least what its policy set."""
    charge, due = quote(session, facility.tariff, at)
    if lost is not None and session.status == "OPEN":
        charge = max(charge, lost.charge)
        due = max(due, lost.charge - session.amount_paid, Decimal("0"))
    return charge, due
