"""What a session owes: the one function the operator's use cases ask (tickets, payments, lost
tickets), so the tariff behind it is changed in one place."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from ..domain.facility import Facility
from ..domain.sessions import ParkingSession, quote
from ..domain.tariffs import Schedule, configured
from ..domain.tickets import LostTicket


def owed(facility: Facility, session: ParkingSession, at: datetime,
         lost: LostTicket | None = None, tariffs: Any = None, conn: Connection | None = None
         ) -> tuple[Decimal, Decimal]:
    """(charge, still due) of ``session`` leaving at ``at``; a lost ticket processed for it charges
    at least what its policy set. ``tariffs``: the versions set since start (app.tariffs.Tariffs;
    None: as configured), read on ``conn`` when the caller is in a unit of work."""
    charge, due = quote(session, schedule_of(tariffs, facility, conn), at)
    if lost is not None and session.status == "OPEN":
        charge = max(charge, lost.charge)
        due = max(due, lost.charge - session.amount_paid, Decimal("0"))
    return charge, due


def schedule_of(tariffs: Any, facility: Facility, conn: Connection | None = None) -> Schedule:
    """The facility's tariff versions: those set since start too, when ``tariffs`` is given."""
    return configured(facility) if tariffs is None else tariffs.schedule(facility.id, conn)
