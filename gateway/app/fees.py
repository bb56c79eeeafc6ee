"""What a session owes: the one function the operator's use cases ask (tickets, payments, lost
tickets), so the tariff behind it is changed in one place."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from ..domain.facility import Facility
from ..domain.sessions import ParkingSession, quote
from ..domain.tariffs import Schedule, TariffVersion, configured
from ..domain.tickets import LostTicket, owed_after_lost_ticket


def owed(facility: Facility, session: ParkingSession, at: datetime,
         lost: LostTicket | None = None, tariffs: Any = None, conn: Connection | None = None
         ) -> tuple[Decimal, Decimal]:
    """(charge, still due) of ``session`` leaving at ``at``; a lost ticket processed for it charges
    at least what its policy set. ``tariffs``: the versions set since start (app.tariffs.Tariffs;
    None: as configured), read on ``conn`` when the caller is in a unit of work."""
    charge, due = quote(session, schedule_of(tariffs, facility, conn), at)
    if lost is None or session.status != "OPEN":
        return charge, due
    return owed_after_lost_ticket(charge, due, session.amount_paid, lost.charge)


def schedule_of(tariffs: Any, facility: Facility, conn: Connection | None = None) -> Schedule:
    """The facility's tariff versions: those set since start too, when ``tariffs`` is given."""
    return configured(facility) if tariffs is None else tariffs.schedule(facility.id, conn)


def shown_tariff(schedule: Schedule, session: ParkingSession) -> TariffVersion:
    """The tariff a session's Charges show (rate code, base rate, daily maximum): its vehicle
    type's, the version in force at its entry (the rates it came in under)."""
    return schedule.in_force(session.vehicle_type, session.entry_time)
