"""Parking sessions (a stay from entry to exit) and payments towards them."""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from . import tariffs
from .tariffs import Schedule
from .vehicle_types import CAR

OPEN, CLOSED = "OPEN", "CLOSED"


@dataclass(slots=True)  # not frozen: on the lane-event path, 2 us a record (nothing changes one)
class ParkingSession:
    id: str
    facility_id: str
    plate: str
    status: str                      # OPEN, CLOSED
    entry_time: datetime
    exit_time: datetime | None
    entry_event_id: str
    exit_event_id: str | None
    lane_number: int
    jurisdiction: str | None
    country: str | None
    space_assigned: str | None
    permit_number: str | None        # the permit it entered on; such a stay costs nothing
    amount_charged: Decimal | None
    amount_paid: Decimal
    paid_at: datetime | None
    vehicle_type: str = CAR          # issue 16: which tariff charges it, which zone capacity it takes
    zone_id: str | None = None
    entry_image: str | None = None   # content hashes of the pictures at entry and exit (app.pictures)
    exit_image: str | None = None
    image_match_score: Decimal | None = None   # the vehicle in the two pictures alike (0-1), once both exist

    def closed(self, when: datetime, event_id: str, charge: Decimal) -> "ParkingSession":
        return replace(self, status=CLOSED, exit_time=when, exit_event_id=event_id, amount_charged=charge)

    def with_payment(self, amount: Decimal, at: datetime) -> "ParkingSession":
        return replace(self, amount_paid=self.amount_paid + amount, paid_at=at)


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    session_id: str
    amount: Decimal
    currency: str
    method: str
    paid_at: datetime
    recorded_by: str
    facility_id: str | None = None
    channel: str | None = None       # who it came through (RecordPayment: the integrator)
    tendered: Decimal | None = None  # cash handed over, when more than was due (the rest was change)
    change: Decimal | None = None


def quote(session: ParkingSession, schedule: Schedule, at: datetime) -> tuple[Decimal, Decimal]:
    """(charge, amount due) of a session leaving at ``at`` (a closed one: what it was charged)."""
    if session.status == CLOSED:
        return session.amount_charged or tariffs.ZERO, tariffs.ZERO
    if session.permit_number:
        return tariffs.ZERO, tariffs.ZERO
    end = session.exit_time or at
    return (schedule.fee(session.vehicle_type, session.entry_time, end),
            schedule.amount_due(session.vehicle_type, session.entry_time, end, session.amount_paid, session.paid_at))
