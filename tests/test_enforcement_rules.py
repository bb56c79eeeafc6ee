"""The violation scan's rules, without a database: which open sessions owe which citation."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import configs

from gateway.domain.enforcement import findings
from gateway.domain.permits import ACTIVE, NO_PERMIT, REVOKED, Permit, judge
from gateway.domain.sessions import ParkingSession

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
RAW = configs.gateway(configs.facility("F", tariff_=configs.tariff("H", "3.00", "24.00", grace_minutes=15),
                                       enforcement={"time_limit_minutes": 120, "payment_window_minutes": 30}),
                      configs.facility("P", permit_only=True))
FACILITIES = configs.parse(RAW).facilities


def stay(minutes, permit_number=None, paid="0", facility="F"):
    return ParkingSession(id="S-1", facility_id=facility, plate="ABC123", status="OPEN",
                          entry_time=NOW - timedelta(minutes=minutes), exit_time=None, entry_event_id="E-1",
                          exit_event_id=None, lane_number=1, jurisdiction=None, country=None, space_assigned=None,
                          permit_number=permit_number, amount_charged=None, amount_paid=Decimal(paid),
                          paid_at=NOW if paid != "0" else None)


def permit(until, state=ACTIVE):
    return Permit("PRMT-1", "ABC123", None, "Monthly", date(2025, 1, 1), until, state, NOW - timedelta(days=60))


def found(session, permits=(), facility="F"):
    fac = FACILITIES[facility]
    standing = judge(permits, fac.timezone, NOW) if permits else NO_PERMIT
    return [f.violation for f in findings(session, standing, fac, fac.enforcement, NOW)]


def test_transients_within_the_limits_and_paid_stays_are_fine():
    assert found(stay(20)) == []
    assert found(stay(60, paid="6.00")) == []            # paid what two hours cost
    assert found(stay(60)) == ["UNPAID_STAY"]
    assert found(stay(121, paid="9.00")) == ["EXPIRED_TIME"]
    assert found(stay(121)) == ["EXPIRED_TIME", "UNPAID_STAY"]


def test_permits_valid_lapsed_and_revoked():
    assert found(stay(600, "PRMT-1"), [permit(date(2025, 3, 31))]) == []
    assert found(stay(60, "PRMT-1"), [permit(date(2025, 2, 28))]) == ["INVALID_PERMIT"]
    assert found(stay(60, "PRMT-1"), [permit(date(2025, 3, 31), REVOKED)]) == ["INVALID_PERMIT"]
    # A stay on a permit owes no fee, so no UNPAID_STAY; the time limit counts once the permit is gone.
    assert found(stay(180, "PRMT-1"), [permit(date(2025, 2, 28))]) == ["INVALID_PERMIT", "EXPIRED_TIME"]


def test_permit_only_lots_and_checks_that_are_off():
    assert found(stay(5, facility="P"), facility="P") == ["NO_PERMIT"]
    assert found(stay(10_000, facility="P"), facility="P") == ["NO_PERMIT"]   # no limits configured there
    assert FACILITIES["P"].enforcement.interval == timedelta(minutes=30)
