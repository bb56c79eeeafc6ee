"""The occupancy history's rules, without a database (issue 17)."""

from datetime import datetime, timedelta, timezone

import pytest

from gateway.domain.errors import InvalidInput, InvalidTime
from gateway.domain.occupancy import OccupancyHour, history, hour_of, spaces_status, span, whole_hours

T0 = datetime(2025, 3, 1, 8, tzinfo=timezone.utc)


def test_hours_are_utc_hours():
    local = datetime(2025, 3, 1, 9, 45, tzinfo=timezone(timedelta(hours=1)))
    assert hour_of(local) == T0


def test_span_widens_to_whole_hours_and_is_bounded():
    assert span(T0 + timedelta(minutes=5), T0 + timedelta(hours=1, minutes=1)) == (T0, T0 + timedelta(hours=2))
    with pytest.raises(InvalidTime):
        span(T0, T0)
    with pytest.raises(InvalidInput):
        span(T0, T0 + timedelta(days=32))
    with pytest.raises(InvalidInput):
        span(T0.replace(tzinfo=None), T0 + timedelta(hours=1))


def test_whole_hours_leave_a_half_hour_period_s_part_hours_out():
    """Kolkata's day runs from 18:30 UTC: the hours wholly inside it are 19:00 to 18:00 the next day."""
    start = T0.replace(hour=18, minute=30)
    day = timedelta(days=1)
    assert whole_hours(start, start + day) == (T0.replace(hour=19), T0.replace(hour=18) + day)
    assert whole_hours(T0, T0 + timedelta(hours=2)) == (T0, T0 + timedelta(hours=2))
    assert whole_hours(T0 + timedelta(minutes=10), T0 + timedelta(minutes=50)) == (T0 + timedelta(hours=1),) * 2


def test_quiet_hours_carry_the_occupancy_and_an_exit_only_hour_began_fuller():
    exit_only = OccupancyHour("F", T0 + timedelta(hours=2), 0, 1, 1, 600, peak=2, occupied_end=2)
    h = history("F", 10, T0, T0 + timedelta(hours=4), [exit_only], carried=3)
    assert [(x.peak, x.occupied_end) for x in h.hours] == [(3, 3), (3, 3), (3, 2), (2, 2)]
    assert h.peak_hour.hour == T0 and h.average_stay == timedelta(minutes=10)
    assert str(h.turnover) == "0.00"
    assert history("F", 10, T0, T0 + timedelta(hours=1), [], carried=0).peak_hour is None


@pytest.mark.parametrize("occupied, status", [(0, "SPACES_AVAILABLE"), (8, "SPACES_AVAILABLE"),
                                              (9, "ALMOST_FULL"), (10, "FULL"), (12, "FULL")])
def test_what_a_sign_says(occupied, status):
    assert spaces_status(10, occupied) == status
