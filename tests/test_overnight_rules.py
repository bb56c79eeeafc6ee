"""Which vehicles stayed overnight (gateway.domain.overnight), on ordinary days and on
the days the clocks change; and one rule for the overnight listing and the overnight charge: the
tariff's cut-off where it charges a night, else the operator's (seed 001: a vehicle that stays
overnight is handled by the overnight tariff)."""

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import configs
import pytest

from conftest import SettableClock, add_test_users, start_gateway, stop_gateway, unique, unique_plate
from gateway.domain.overnight import first_cutoff_after, last_cutoff
from gateway.domain.tariff_settings import version_from_settings
from gateway.domain.tariffs import EPOCH, Schedule

LA = ZoneInfo("America/Los_Angeles")


def local(*args):
    return datetime(*args, tzinfo=LA)


@pytest.mark.parametrize(("at", "expected"), [
    (local(2026, 6, 10, 0, 30), local(2026, 6, 10, 0, 0)),
    (local(2026, 6, 10, 0, 0), local(2026, 6, 10, 0, 0)),          # at the cut-off: it counts
    (local(2026, 6, 9, 23, 59), local(2026, 6, 9, 0, 0)),
    (local(2026, 3, 9, 0, 30), local(2026, 3, 9, 0, 0)),            # after the 23-hour day (clocks forward)
    (local(2026, 11, 2, 0, 30), local(2026, 11, 2, 0, 0)),          # after the 25-hour day (clocks back)
    (local(2026, 3, 8, 12, 0), local(2026, 3, 8, 0, 0)),
])
def test_the_last_cutoff_is_that_of_the_local_day(at, expected):
    """It was taken as the first cut-off after 24 hours before: on 9 March at 00:30, after a day of
    23 hours, that is 8 March's, so a car in since 8 March at noon was not listed as overnight."""
    got = last_cutoff(at.astimezone(timezone.utc), LA, time(0))
    assert got == expected and got.tzinfo == timezone.utc


def test_a_cutoff_in_the_skipped_hour():
    """02:30 does not exist on 8 March 2026 in Los Angeles; its cut-off is an instant all the same,
    and the last one and the next one agree."""
    at = local(2026, 3, 8, 12, 0).astimezone(timezone.utc)
    cut = last_cutoff(at, LA, time(2, 30))
    assert cut < at and first_cutoff_after(cut, LA, time(2, 30)) > at


def test_a_cutoff_in_the_repeated_hour_is_the_next_after_the_entry():
    """On 1 November 2026 01:00-02:00 happens twice in Los Angeles. A car in at the second 01:15
    (PST) is past the first 01:30 (PDT, 15 minutes before it came) and reaches the second."""
    entry = datetime(2026, 11, 1, 9, 15, tzinfo=timezone.utc)            # 01:15 PST, the second one
    got = first_cutoff_after(entry, LA, time(1, 30))
    assert got == datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc) and got > entry
    first = datetime(2026, 11, 1, 8, 15, tzinfo=timezone.utc)            # 01:15 PDT, the first one
    assert first_cutoff_after(first, LA, time(1, 30)) == datetime(2026, 11, 1, 8, 30, tzinfo=timezone.utc)
    assert first_cutoff_after(datetime(2026, 6, 10, 9, 0, tzinfo=timezone.utc), LA, time(1, 30)) == \
        datetime(2026, 6, 11, 8, 30, tzinfo=timezone.utc)                 # 02:00 PDT: tomorrow's


# --- one rule for the listing and the charge -------------------------------------------------------

def _version(vehicle_type, effective_from, **settings):
    base = {"rate_code": "H", "period_minutes": 60, "price_per_period": "0.00", "daily_maximum": "",
            "grace_minutes": 0}
    return version_from_settings({**base, **settings}, facility_id="LOT", vehicle_type=vehicle_type,
                                 effective_from=effective_from, currency="USD")


OPERATOR = time(0)                                              # [facility.operator] overnight_cutoff
CHANGE = local(2026, 11, 1, 12, 0).astimezone(timezone.utc)     # the car tariff's cut-off changes then
SCHEDULE = Schedule((
    _version("car", EPOCH, overnight_cutoff="01:30", overnight_charge="15.00"),   # in the hour repeated on 1 Nov
    _version("car", CHANGE, overnight_cutoff="23:00", overnight_charge="10.00"),
    _version("motorcycle", EPOCH),                                                # no overnight charge
), LA)


def _nights(vehicle_type, entry, at):
    """What the stay's overnight charges come to (the rates are free: the fee is those alone)."""
    return SCHEDULE.fee(vehicle_type, entry, at)


def _listed(vehicle_type, entry, at):
    return entry < SCHEDULE.last_overnight(vehicle_type, at, OPERATOR)


def test_the_operator_and_the_tariff_cut_offs_no_longer_disagree():
    """The operator's cut-off (midnight) listed a car in at 22:00 overnight at 01:00, while its tariff
    charged the night only from 01:30: listed but not charged (and a car in at 00:30 the reverse). The
    tariff's cut-off, which it charges by, now decides the listing of its vehicles too."""
    evening = local(2026, 6, 9, 22, 0).astimezone(timezone.utc)
    for at, listed, charged in [(local(2026, 6, 10, 1, 0), False, "0.00"),
                                (local(2026, 6, 10, 1, 30), True, "15.00"),    # at the cut-off: both
                                (local(2026, 6, 10, 9, 0), True, "15.00")]:
        at = at.astimezone(timezone.utc)
        assert (_listed("car", evening, at), _nights("car", evening, at)) == (listed, Decimal(charged))
    night = local(2026, 6, 10, 0, 30).astimezone(timezone.utc)
    assert _listed("car", night, local(2026, 6, 10, 2, 0).astimezone(timezone.utc))
    assert SCHEDULE.first_overnight("car", night, OPERATOR) == local(2026, 6, 10, 1, 30)
    # A tariff with no cut-off charges no night: its vehicles are listed by the operator's (the one
    # difference left, by design: nothing is charged, whoever lists them).
    at = local(2026, 6, 10, 0, 30).astimezone(timezone.utc)
    assert _listed("motorcycle", evening, at) and _nights("motorcycle", evening, at) == Decimal("0.00")
    assert SCHEDULE.first_overnight("motorcycle", evening, OPERATOR) == local(2026, 6, 10, 0, 0)


def test_listed_overnight_exactly_when_a_night_is_charged():
    """Every entry and every instant over three days around 1 November (the clocks go back through the
    first version's cut-off) and a change of the car tariff's cut-off: listed overnight if and only
    if a night is charged, and the first night listed is the first charged."""
    start = local(2026, 10, 31, 0, 0).astimezone(timezone.utc)
    for e in range(0, 72 * 2, 3):                       # every 90 minutes
        entry = start + timedelta(minutes=30 * e)
        first = SCHEDULE.first_overnight("car", entry, OPERATOR)
        for a in range(e, e + 72 * 2):                  # every 30 minutes for three days after
            at = start + timedelta(minutes=30 * a)
            charged = _nights("car", entry, at) > 0
            assert _listed("car", entry, at) == charged == (first <= at), (entry, at)


# --- over SOAP --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gw(database_url):
    raw = configs.gateway(configs.facility(
        "LOT-NIGHT", configs.lane("N-IN", 1, "ENTRY"), timezone="America/New_York",
        tariff_=configs.tariff("NIGHT", "0.00", "24.00", grace_minutes=0, overnight_cutoff="02:00",
                               overnight_charge="15.00"),
        operator={"overnight_cutoff": "00:00"}))
    running = start_gateway(configs.parse(raw, database_url=database_url), SettableClock())
    add_test_users(database_url)
    yield running
    stop_gateway(running)


def test_a_car_is_listed_overnight_when_its_night_is_charged(gw):
    """The operator's cut-off is midnight, the tariff charges 15.00 a night from 02:00 (New York). At
    01:00 the car was listed overnight and owed nothing for a night; now neither, and at 02:30 both."""
    plate = unique_plate()
    gw.clock.now = datetime(2025, 1, 23, 3, 0, tzinfo=timezone.utc)              # 22:00 in New York
    gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": "LOT-NIGHT", "CameraID": "N-IN", "Direction": "ENTRY",
        "Timestamp": gw.clock(), "PlateText": plate, "Confidence": "0.97"})

    def now():
        listed = [v for v in gw.client("TicketService").ListOvernightVehicles(FacilityID="LOT-NIGHT")
                  if v.Plate == plate]
        due = gw.client("EventService").GetSession(FacilityID="LOT-NIGHT", Plate=plate).AmountDue._value_1
        return listed, due
    gw.clock.advance(timedelta(hours=3))                                          # 01:00
    assert now() == ([], Decimal("0.00"))
    gw.clock.advance(timedelta(hours=1, minutes=30))                              # 02:30
    listed, due = now()
    assert due == Decimal("15.00") and len(listed) == 1
    assert listed[0].Cutoff == datetime(2025, 1, 23, 7, 0, tzinfo=timezone.utc)   # 02:00 in New York
