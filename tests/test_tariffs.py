"""The fee function: examples a cashier would check, and properties that must hold for any stay."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.facility import Tariff
from gateway.domain.tariffs import amount_due, fee, from_tariff

HOURLY = Tariff(rate_code="H", currency="USD", period=timedelta(hours=1), price_per_period=Decimal("3.00"),
                grace=timedelta(minutes=15), daily_maximum=Decimal("24.00"), lost_ticket=Decimal("40.00"),
                exit_after_payment=timedelta(minutes=15))
T0 = datetime(2025, 1, 22, 14, 30, tzinfo=timezone.utc)


def legacy(call):
    """The fee functions over one configured Tariff (as before versions): one version for cars."""
    def over_tariff(tariff, *args):
        return call((from_tariff(tariff, "LOT", "car"),), "car", *args)
    return over_tariff


fee, amount_due = legacy(fee), legacy(amount_due)


def at(**kw):
    return T0 + timedelta(**kw)


def test_examples():
    assert fee(HOURLY, T0, at(minutes=15)) == Decimal("0.00")        # grace, inclusive
    assert fee(HOURLY, T0, at(minutes=16)) == Decimal("3.00")        # one started hour
    assert fee(HOURLY, T0, at(hours=1)) == Decimal("3.00")
    assert fee(HOURLY, T0, at(hours=1, seconds=1)) == Decimal("6.00")
    assert fee(HOURLY, T0, at(hours=9)) == Decimal("24.00")          # capped at the daily maximum
    assert fee(HOURLY, T0, at(hours=24)) == Decimal("24.00")
    assert fee(HOURLY, T0, at(hours=25)) == Decimal("27.00")         # the second day starts over
    assert fee(HOURLY, T0, at(days=3)) == Decimal("72.00")


def test_payment_covers_the_stay_until_paid_plus_the_walk_to_the_exit():
    paid_at = at(hours=2)
    assert amount_due(HOURLY, T0, at(hours=2, minutes=14), Decimal("6.00"), paid_at) == Decimal("0.00")
    assert amount_due(HOURLY, T0, at(hours=2, minutes=16), Decimal("6.00"), paid_at) == Decimal("3.00")
    assert amount_due(HOURLY, T0, at(hours=1), Decimal("0.00")) == Decimal("3.00")


stays = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2)
tariffs = st.builds(
    lambda period, price, grace, cap: Tariff("R", "USD", timedelta(minutes=period), price,
                                             timedelta(minutes=grace), max(cap, price), cap, timedelta(minutes=15)),
    st.integers(1, 240), money, st.integers(0, 60), money)


@given(tariffs, stays)
def test_never_negative(tariff, stay):
    assert fee(tariff, T0, T0 + stay) >= 0


@given(tariffs, stays, stays)
def test_monotonic_in_time(tariff, a, b):
    short, long_ = sorted((a, b))
    assert fee(tariff, T0, T0 + short) <= fee(tariff, T0, T0 + long_)


@given(tariffs, stays)
def test_capped_per_started_day(tariff, stay):
    days = -(-stay // timedelta(hours=24))
    assert fee(tariff, T0, T0 + stay) <= max(days, 1) * tariff.daily_maximum


@given(tariffs, stays)
def test_cents_exact(tariff, stay):
    assert fee(tariff, T0, T0 + stay) == fee(tariff, T0, T0 + stay).quantize(Decimal("0.01"))
