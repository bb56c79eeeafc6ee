"""Versioned tariffs per vehicle type (issue 16): examples a cashier would check, and properties that
hold for any tariff and any stay (never negative, monotonic in time, capped per day, a change
mid-stay splits the stay). Pure domain: no database, no SOAP."""

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.domain.errors import InvalidInput
from gateway.domain.tariff_settings import settings_of, version_from_settings
from gateway.domain.tariffs import EPOCH, Rates, SpecialRate, TariffVersion, TimeBand, amount_due, charge, fee

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2025, 1, 20, 9, 0, tzinfo=NY).astimezone(timezone.utc)   # 09:00 local, a Monday


def version(vehicle_type="car", effective_from=EPOCH, number=0, **settings):
    base = {"rate_code": "H", "period_minutes": 60, "price_per_period": "3.00", "daily_maximum": "24.00",
            "grace_minutes": 15, "lost_ticket": "40.00"}
    return version_from_settings({**base, **settings}, facility_id="LOT", vehicle_type=vehicle_type,
                                 effective_from=effective_from, currency="USD", version=number)


def cost(versions, hours=0, minutes=0, entry=MONDAY, vehicle_type="car"):
    if isinstance(versions, TariffVersion):
        versions = (versions,)
    return fee(versions, vehicle_type, entry, entry + timedelta(hours=hours, minutes=minutes), NY)


def test_first_period_and_following_periods_at_their_prices():
    v = version(first_period_minutes=120, first_price="5.00", price_per_period="2.00", daily_maximum="20.00")
    assert cost(v, minutes=15) == Decimal("0.00")           # grace
    assert cost(v, minutes=16) == Decimal("5.00")           # the first two hours
    assert cost(v, hours=2) == Decimal("5.00")
    assert cost(v, hours=2, minutes=1) == Decimal("7.00")   # then every started hour
    assert cost(v, hours=9) == Decimal("19.00")
    assert cost(v, hours=12) == Decimal("20.00")            # the daily maximum
    assert cost(v, hours=25) == Decimal("22.00")            # the next 24 h start over, at the following price


def test_flat_per_entry():
    v = version(price_per_period="0.00", entry_charge="10.00", daily_maximum="")
    assert cost(v, minutes=10) == Decimal("0.00")
    assert cost(v, hours=1) == cost(v, hours=70) == Decimal("10.00")


def test_night_band_prices_the_periods_that_start_in_it():
    v = version(band=[{"name": "night", "start": "20:00", "end": "06:00", "price_per_period": "1.00"}])
    evening = datetime(2025, 1, 20, 18, 0, tzinfo=NY).astimezone(timezone.utc)
    assert cost(v, hours=2, entry=evening) == Decimal("6.00")     # 18:00 and 19:00: day
    assert cost(v, hours=4, entry=evening) == Decimal("8.00")     # 20:00 and 21:00: night
    assert cost(v, hours=12, entry=evening) == Decimal("16.00")   # 6.00 day + 10 night hours


def test_daily_maximum_repeats_per_24_hours():
    v = version()
    assert cost(v, hours=24) == Decimal("24.00")
    assert cost(v, hours=48) == Decimal("48.00")
    assert cost(v, hours=49) == Decimal("51.00")


def test_overnight_charge_for_each_cut_off_passed():
    v = version(overnight_cutoff="02:00", overnight_charge="15.00")
    late = datetime(2025, 1, 20, 22, 0, tzinfo=NY).astimezone(timezone.utc)
    assert cost(v, hours=3, entry=late) == Decimal("9.00")                  # leaves at 01:00
    assert cost(v, hours=5, entry=late) == Decimal("15.00") + Decimal("15.00")  # past 02:00: + overnight
    assert cost(v, hours=29, entry=late) == Decimal("24.00") + Decimal("15.00") * 2 + Decimal("15.00")


def test_special_rates_for_weekdays_and_date_ranges():
    v = version(special=[{"name": "event", "first_day": "2025-01-22", "last_day": "2025-01-22",
                          "price_per_period": "10.00", "daily_maximum": "50.00"},
                         {"name": "weekend", "weekdays": ["SAT", "SUN"], "price_per_period": "1.00"}])
    saturday = MONDAY + timedelta(days=5)
    assert cost(v, hours=3) == Decimal("9.00")
    assert cost(v, hours=3, entry=saturday) == Decimal("3.00")
    assert cost(v, hours=3, entry=MONDAY + timedelta(days=2)) == Decimal("30.00")   # the event day
    assert cost(v, hours=10, entry=MONDAY + timedelta(days=2)) == Decimal("50.00")  # its own maximum
    sunday_evening = saturday + timedelta(days=1, hours=12)                          # Sunday 21:00
    assert cost(v, hours=5, entry=sunday_evening) == Decimal("3.00") + Decimal("6.00")  # 3 h Sunday, 2 h Monday


def test_a_sunday_rate_on_the_sunday_the_clocks_go_forward():
    """That Sunday has 23 hours, so 24 hours from Saturday 23:30 end on Monday at 00:30: three local
    dates in one 24 hours. Only the first and last were looked at, both on weekday rates, so all of
    Sunday was charged at 3.00 an hour (72.00 instead of 26.00)."""
    v = version(daily_maximum="", special=[{"name": "sunday", "weekdays": ["SUN"], "price_per_period": "1.00"}])
    saturday_night = datetime(2025, 3, 8, 23, 30, tzinfo=NY).astimezone(timezone.utc)
    assert cost(v, hours=24, entry=saturday_night) == Decimal("3.00") + 23 * Decimal("1.00")
    a_week_later = datetime(2025, 3, 15, 23, 30, tzinfo=NY).astimezone(timezone.utc)
    assert cost(v, hours=24, entry=a_week_later) == Decimal("3.00") + 23 * Decimal("1.00")


def test_vehicle_types_have_their_own_versions():
    versions = (version("car"), version("motorcycle", price_per_period="1.00", daily_maximum="8.00"))
    assert cost(versions, hours=3) == Decimal("9.00")
    assert cost(versions, hours=3, vehicle_type="motorcycle") == Decimal("3.00")
    with pytest.raises(InvalidInput):
        cost(versions, hours=3, vehicle_type="bus")


def test_a_change_mid_stay_charges_each_part_by_its_version():
    old, new = version(), version(effective_from=MONDAY + timedelta(hours=2), number=1, price_per_period="5.00",
                                  daily_maximum="40.00")
    assert cost((old, new), hours=2) == Decimal("6.00")                 # all before the change
    assert cost((old, new), hours=4) == Decimal("6.00") + Decimal("10.00")   # 2 h old, 2 h new
    assert cost((old, new), hours=4, entry=MONDAY + timedelta(hours=3)) == Decimal("20.00")   # all after


def test_one_daily_maximum_for_the_day_of_a_change():
    """10 h at the old rules reach their 24.00 cap; the new ones (1.00 an hour, 20.00 a day) add 10.00
    for the rest of those 24 hours under their own cap: 34.00 for one day, beyond either cap, before
    the rule. Now: the cap in force when the 24 hours began."""
    old, new = version(), version(effective_from=MONDAY + timedelta(hours=10), number=1, price_per_period="1.00",
                                  daily_maximum="20.00")
    assert cost((old, new), hours=24) == Decimal("24.00")
    assert cost((old, new), hours=26) == Decimal("26.00")     # the next 24 hours: the new version and its cap
    assert cost((old, new), hours=48) == Decimal("44.00")
    assert cost((old, new), hours=8) == Decimal("24.00")      # all before the change: the old rules alone


def test_a_later_version_never_rewrites_history():
    later = version(effective_from=MONDAY + timedelta(days=1), number=1, price_per_period="9.00")
    assert cost((version(), later), hours=5) == cost(version(), hours=5) == Decimal("15.00")


def test_payment_covers_the_stay_until_paid_plus_the_walk_to_the_exit():
    v = (version(),)
    paid_at = MONDAY + timedelta(hours=2)
    assert amount_due(v, "car", MONDAY, paid_at + timedelta(minutes=14), Decimal("6.00"), paid_at, NY) == 0
    assert amount_due(v, "car", MONDAY, paid_at + timedelta(minutes=16), Decimal("6.00"), paid_at, NY) == 3


def test_settings_refused_with_the_key_named():
    for bad, key in (({"price_per_period": "-1"}, "price_per_period"), ({"period_minutes": 0}, "period_minutes"),
                     ({"overnight_cutoff": "25:00"}, "overnight_cutoff"), ({"colour": "red"}, "colour"),
                     ({"special": [{"weekdays": ["XYZ"]}]}, "weekdays"), ({"first_price": "1.005"}, "first_price")):
        with pytest.raises(InvalidInput) as info:
            version(**bad)
        assert info.value.field == key


def test_settings_read_back_to_the_same_rules():
    v = version(first_period_minutes=30, first_price="1.00", overnight_cutoff="03:00", overnight_charge="7.50",
                band=[{"name": "night", "start": "22:00", "end": "06:00", "price_per_period": "0.50"}],
                special=[{"name": "sat", "weekdays": ["SAT"], "price_per_period": "2.00"}])
    assert version_from_settings(settings_of(v), facility_id="LOT", vehicle_type="car", effective_from=EPOCH,
                                 currency="USD") == v


# --- properties ------------------------------------------------------------------------------

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=2)
minutes = st.integers(5, 240)
clock_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 30]))


@st.composite
def rates(draw):
    price = draw(money)
    first_price = draw(money)
    bands = draw(st.lists(st.builds(TimeBand, st.just("band"), clock_times, clock_times, money), max_size=2))
    entry = draw(money)
    cap = max(price, first_price, entry, *(b.price_per_period for b in bands)) + draw(money)
    return Rates(timedelta(minutes=draw(minutes)), first_price, timedelta(minutes=draw(minutes)), price,
                 daily_maximum=cap, entry_charge=entry, bands=tuple(bands))


@st.composite
def versions(draw, overnight=True):
    specials = draw(st.lists(st.builds(SpecialRate, st.just("special"), rates(),
                                       weekdays=st.frozensets(st.integers(0, 6), min_size=1)), max_size=2))
    cutoff = draw(st.none() | clock_times) if overnight else None
    grace = timedelta(minutes=draw(st.integers(0, 30)))
    return TariffVersion("LOT", "car", EPOCH, "R", "USD", draw(rates()), grace=grace, overnight_cutoff=cutoff,
                         overnight_charge=draw(money) if cutoff else Decimal("0"), specials=tuple(specials))


stays = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=6))
entries = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2025, 12, 31),
                       timezones=st.just(timezone.utc))
FAST = settings(max_examples=60, deadline=None)


def all_caps(v):
    return max(r.daily_maximum for r in (v.rates, *(s.rates for s in v.specials)))


@FAST
@given(versions(), entries, stays)
def test_never_negative_and_in_cents(v, entry, stay):
    amount = fee((v,), "car", entry, entry + stay, NY)
    assert amount >= 0 and amount == amount.quantize(Decimal("0.01"))


@FAST
@given(versions(), entries, stays, stays)
def test_monotonic_in_time(v, entry, a, b):
    short, long_ = sorted((a, b))
    assert fee((v,), "car", entry, entry + short, NY) <= fee((v,), "car", entry, entry + long_, NY)


@FAST
@given(versions(overnight=False), entries, stays)
def test_capped_per_started_day(v, entry, stay):
    days = max(-(-stay // timedelta(hours=24)), 1)
    assert fee((v,), "car", entry, entry + stay, NY) <= days * all_caps(v)


def dearer(v, k):
    """``v`` with every price ``k`` times as high, from ``at``."""
    def scale(r):
        return replace(r, first_price=r.first_price * k, price_per_period=r.price_per_period * k,
                       daily_maximum=r.daily_maximum * k, entry_charge=r.entry_charge * k,
                       bands=tuple(replace(b, price_per_period=b.price_per_period * k) for b in r.bands))
    return replace(v, rates=scale(v.rates), overnight_charge=v.overnight_charge * k,
                   specials=tuple(replace(s, rates=scale(s.rates)) for s in v.specials))


@FAST
@given(versions(), entries, stays, st.floats(0, 1), st.integers(1, 3))
def test_a_change_mid_stay_splits_the_stay(v, entry, stay, where, k):
    """Charged by the old rules until the change and by the new ones after: between the stay all old
    and all new; the part before the change as the old rules alone charge it; each part of the stay
    under its own version."""
    leave, change = entry + stay, entry + stay * where
    new = replace(dearer(v, k), effective_from=change, version=1)
    split = fee((v, new), "car", entry, leave, NY)
    all_old, all_new = fee((v,), "car", entry, leave, NY), fee((replace(new, effective_from=EPOCH),), "car", entry,
                                                               leave, NY)
    assert all_old <= split <= all_new
    if change > entry + v.grace:   # at most: the 24 hours the change falls in are capped once (below)
        assert split <= charge(v, entry, change, NY) + charge(new, entry, leave, NY) - charge(new, entry, change, NY)
    assert fee((v, replace(v, effective_from=change, version=1)), "car", entry, leave, NY) == all_old  # same rules
    assert fee((v, replace(new, effective_from=leave + timedelta(seconds=1))), "car", entry, leave, NY) == all_old


@FAST
@given(versions(overnight=False), versions(overnight=False), entries, stays, st.floats(0, 1))
def test_one_daily_maximum_per_24_hours_across_a_change(a, b, entry, stay, where):
    """Whatever two versions charge a stay, each 24 hours from the entry add at most the daily maximum
    of the version in force when they began (its rates for that day), and the fee still never falls
    as the stay goes on."""
    leave, change = entry + stay, entry + stay * where
    both = (a, replace(b, effective_from=change, version=1))
    start, before = entry, Decimal("0.00")
    while start < leave:
        end = min(start + timedelta(hours=24), leave)
        upto = fee(both, "car", entry, end, NY)
        in_force = a if start < change else both[1]
        assert upto - before <= in_force.rates_on(start.astimezone(NY).date()).daily_maximum
        assert upto >= before
        start, before = end, upto


@pytest.mark.parametrize("price", ["10000000000.00", "1E+30"])
def test_a_price_past_what_the_books_hold_is_refused(price):
    """A price of 1E+30 was a tariff: every fee it charged failed the money columns or the reports."""
    with pytest.raises(InvalidInput) as refused:
        version(price_per_period=price)
    assert refused.value.field == "price_per_period"
