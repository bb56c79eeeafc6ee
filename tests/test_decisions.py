"""The lane decision as a table: facts about a plate in, a verdict out; no database, no SOAP."""

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from gateway.domain.decisions import HOLD, OPEN, REVIEW, DecisionRules, LaneFacts, decide
from gateway.domain.errors import InvalidTime
from gateway.domain.facility import Facility, Tariff
from gateway.domain.permits import ACTIVE, REVOKED, Permit
from gateway.domain.sessions import CLOSED, ParkingSession

NOW = datetime(2025, 1, 22, 14, 30, tzinfo=timezone.utc)
TARIFF = Tariff(rate_code="H", currency="USD", period=timedelta(hours=1), price_per_period=Decimal("3.00"),
                grace=timedelta(minutes=15), daily_maximum=Decimal("24.00"), lost_ticket=Decimal("40.00"),
                exit_after_payment=timedelta(minutes=15))
LOT = Facility(id="LOT", name="Lot", capacity=10, timezone=ZoneInfo("America/New_York"), tariff=TARIFF)
PERMITS_ONLY = replace(LOT, permit_only=True)
RULES = DecisionRules()


def permit(valid_from=date(2025, 1, 1), valid_until=date(2025, 1, 31), state=ACTIVE, number="P-1"):
    return Permit(permit_number=number, plate="ABC123", facility_id="LOT", permit_type="Monthly",
                  valid_from=valid_from, valid_until=valid_until, state=state, issued_at=NOW - timedelta(days=30))


def parked(minutes_ago, paid="0", paid_minutes_ago=None):
    return ParkingSession(
        id="S-1", facility_id="LOT", plate="ABC123", status="OPEN", entry_time=NOW - timedelta(minutes=minutes_ago),
        exit_time=None, entry_event_id="E-IN", exit_event_id=None, lane_number=1, jurisdiction=None, country=None,
        space_assigned=None, permit_number=None, amount_charged=None, amount_paid=Decimal(paid),
        paid_at=None if paid_minutes_ago is None else NOW - timedelta(minutes=paid_minutes_ago))


def facts(hotlisted=None, occupied=0, session=None, permits=()):
    return LaneFacts(hotlisted, occupied, session, tuple(permits))


EXPIRED = permit(valid_until=date(2025, 1, 10))
REVOKED_PERMIT = permit(state=REVOKED)
FUTURE = permit(valid_from=date(2025, 2, 1), valid_until=date(2025, 2, 28))

TABLE = [
    # (why, facility, direction, facts, confidence) -> (decision, reason, charge)
    ("a stranger enters", LOT, "ENTRY", facts(), None, (OPEN, "TRANSIENT_ENTRY", Decimal("0.00"))),
    ("a permit holder enters", LOT, "ENTRY", facts(permits=[permit()]), None, (OPEN, "PERMIT_VALID", Decimal("0.00"))),
    ("an unsure reading waits for a person", LOT, "ENTRY", facts(), Decimal("0.84"), (REVIEW, "LOW_CONFIDENCE", None)),
    ("a sure reading decides", LOT, "ENTRY", facts(), Decimal("0.85"), (OPEN, "TRANSIENT_ENTRY", Decimal("0.00"))),
    ("a hotlisted plate is held", LOT, "ENTRY", facts(hotlisted="stolen", permits=[permit()]), None,
     (HOLD, "HOTLISTED", None)),
    ("a plate already parked", LOT, "ENTRY", facts(session=parked(60)), None, (REVIEW, "OPEN_SESSION_EXISTS", None)),
    ("full, for transients", LOT, "ENTRY", facts(occupied=10), None, (HOLD, "FACILITY_FULL", None)),
    ("full, but a permit holder", LOT, "ENTRY", facts(occupied=10, permits=[permit()]), None,
     (OPEN, "PERMIT_VALID", Decimal("0.00"))),
    ("permits only, none", PERMITS_ONLY, "ENTRY", facts(), None, (HOLD, "NO_PERMIT", None)),
    ("permits only, expired", PERMITS_ONLY, "ENTRY", facts(permits=[EXPIRED]), None, (HOLD, "PERMIT_EXPIRED", None)),
    ("permits only, revoked", PERMITS_ONLY, "ENTRY", facts(permits=[REVOKED_PERMIT]), None,
     (HOLD, "PERMIT_INVALID", None)),
    ("permits only, not yet begun", PERMITS_ONLY, "ENTRY", facts(permits=[FUTURE]), None,
     (HOLD, "PERMIT_INVALID", None)),
    ("leaving within the grace period", LOT, "EXIT", facts(session=parked(10)), None,
     (OPEN, "WITHIN_GRACE", Decimal("0.00"))),
    ("leaving unpaid", LOT, "EXIT", facts(session=parked(125)), None, (HOLD, "PAYMENT_DUE", Decimal("9.00"))),
    ("leaving paid, in time", LOT, "EXIT", facts(session=parked(125, paid="9.00", paid_minutes_ago=5)), None,
     (OPEN, "PAID", Decimal("9.00"))),
    ("leaving paid, too late: the difference", LOT, "EXIT",
     facts(session=parked(125, paid="3.00", paid_minutes_ago=75)), None, (HOLD, "PAYMENT_DUE", Decimal("9.00"))),
    ("a permit holder leaves", LOT, "EXIT", facts(session=parked(600), permits=[permit()]), None,
     (OPEN, "PERMIT_VALID", Decimal("0.00"))),
    ("a permit holder without an entry", LOT, "EXIT", facts(permits=[permit()]), None, (OPEN, "PERMIT_VALID", None)),
    ("no entry record: the lost ticket", LOT, "EXIT", facts(), None, (HOLD, "NO_ENTRY_RECORD", Decimal("40.00"))),
    ("hotlisted at the exit", LOT, "EXIT", facts(hotlisted="banned", session=parked(10)), None,
     (HOLD, "HOTLISTED", None)),
    ("a watched plate enters (the VMS is told)", LOT, "ENTRY", facts(hotlisted="watch"), None,
     (OPEN, "TRANSIENT_ENTRY", Decimal("0"))),
    ("a wanted vehicle leaves as any other", LOT, "EXIT", facts(hotlisted="wanted", session=parked(10)), None,
     (OPEN, "WITHIN_GRACE", Decimal("0"))),
]


@pytest.mark.parametrize("why, facility, direction, known, confidence, expected", TABLE, ids=[row[0] for row in TABLE])
def test_the_lane_decision(why, facility, direction, known, confidence, expected):
    verdict = decide(known, facility, RULES, "E-1", direction, NOW, confidence)
    assert (verdict.decision, verdict.reason, verdict.charge) == expected, why
    assert verdict.granted == (verdict.decision == OPEN)
    assert verdict.opens_session == (direction == "ENTRY" and verdict.decision == OPEN)
    assert verdict.closes_session == (direction == "EXIT" and verdict.decision == OPEN and known.session is not None)


def test_an_admitted_exit_closes_the_session_with_its_charge():
    verdict = decide(facts(session=parked(125, paid="9.00", paid_minutes_ago=5)), LOT, RULES, "E-OUT", "EXIT", NOW,
                     None)
    closed = verdict.session
    assert (closed.status, closed.exit_time, closed.exit_event_id, closed.amount_charged) == \
        (CLOSED, NOW, "E-OUT", Decimal("9.00"))
    assert verdict.paid == Decimal("9.00")


def test_the_permit_standing_travels_with_the_verdict():
    current = permit(number="P-NOW")
    verdict = decide(facts(permits=[EXPIRED, current]), LOT, RULES, "E-1", "ENTRY", NOW, None)
    assert (verdict.standing.status, verdict.standing.permit) == ("VALID", current)
    assert decide(facts(), LOT, RULES, "E-1", "ENTRY", NOW, None).standing.permit is None


def test_permit_days_are_the_facilitys_days():
    last_day = permit(valid_until=date(2025, 1, 31))
    late_evening = datetime(2025, 2, 1, 4, 30, tzinfo=timezone.utc)   # 23:30 on the 31st in New York
    assert decide(facts(permits=[last_day]), PERMITS_ONLY, RULES, "E", "ENTRY", late_evening, None).decision == OPEN
    next_morning = datetime(2025, 2, 1, 5, 30, tzinfo=timezone.utc)
    assert decide(facts(permits=[last_day]), PERMITS_ONLY, RULES, "E", "ENTRY", next_morning, None).reason == \
        "PERMIT_EXPIRED"


def test_an_exit_before_its_entry_cannot_be():
    with pytest.raises(InvalidTime):
        decide(facts(session=parked(-5)), LOT, RULES, "E-1", "EXIT", NOW, None)
