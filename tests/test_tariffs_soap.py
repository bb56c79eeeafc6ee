"""GetTariffs and SetTariff over real SOAP (zeep, SQLite and PostgreSQL), and lane exits charged by the
versions in force while the stay lasted, per vehicle type."""

from datetime import timedelta
from decimal import Decimal

import pytest
import zeep

from conftest import FACILITY, unique, unique_plate


def submit(gw, direction, plate, **extra):
    camera = "CAM-IN" if direction == "ENTRY" else "CAM-OUT"
    return gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": FACILITY, "CameraID": camera, "Direction": direction,
        "Timestamp": gw.clock(), "PlateText": plate, "Confidence": "0.97", **extra})


def fault_of(call):
    with pytest.raises(zeep.exceptions.Fault) as info:
        call()
    return info.value


def test_get_tariffs_shows_the_configured_version_of_every_vehicle_type(gateway, clock):
    versions = gateway.client("TariffService").GetTariffs(FacilityID=FACILITY, At=clock())
    assert [v.VehicleType for v in versions] == ["car", "motorcycle", "van", "truck", "bus"]
    car = versions[0]
    assert (car.Version, car.Currency, car.SetBy) == (0, "USD", "config")
    assert car.Rules.Rates.PricePerPeriod == Decimal("3.00") and car.Rules.LostTicket == Decimal("40.00")


def test_set_tariff_charges_a_stay_by_the_versions_in_force_while_it_lasted(gateway, clock):
    plate = unique_plate()
    entry = submit(gateway, "ENTRY", plate, VehicleType="van")
    assert entry.Decision == "OPEN"
    clock.advance(timedelta(hours=2))
    admin = gateway.client("TariffService", user="admin")
    new = admin.SetTariff(FacilityID=FACILITY, VehicleType="van", Reason="van prices up",
                          Rules={"Rates": {"PricePerPeriod": "5.00", "DailyMaximum": "40.00"},
                                 "OvernightCutoff": "02:00", "OvernightCharge": "10.00"})
    assert new.Version >= 1 and new.SetBy == "admin" and new.EffectiveFrom == clock()
    assert new.Rules.Rates.PricePerPeriod == Decimal("5.00") and new.Rules.GraceMinutes == 15  # the rest kept
    clock.advance(timedelta(hours=2))
    exit_ = submit(gateway, "EXIT", plate)
    # two hours at 3.00, then two at 5.00: the change splits the stay
    assert (exit_.Decision, exit_.Reason) == ("HOLD", "PAYMENT_DUE")
    assert exit_.ParkingEvent.Charges.CurrentCharge._value_1 == Decimal("16.00")
    history = gateway.client("TariffService").GetTariffs(FacilityID=FACILITY, VehicleType="van")
    assert [v.Version for v in history][0] == 0 and history[-1].Version == new.Version
    # a car in the same stay: its own tariff, not changed
    car_plate = unique_plate()
    submit(gateway, "ENTRY", car_plate)
    clock.advance(timedelta(hours=2))
    assert submit(gateway, "EXIT", car_plate).ParkingEvent.Charges.CurrentCharge._value_1 == Decimal("6.00")


def test_set_tariff_is_for_admins_and_never_rewrites_history(gateway, clock):
    rules = {"Rates": {"PricePerPeriod": "4.00"}}
    operator = gateway.client("TariffService", user="operator")
    assert "Authorization" in fault_of(lambda: operator.SetTariff(FacilityID=FACILITY, VehicleType="car",
                                                                   Rules=rules)).code
    admin = gateway.client("TariffService", user="admin")
    past = fault_of(lambda: admin.SetTariff(FacilityID=FACILITY, VehicleType="car", Rules=rules,
                                            EffectiveFrom=clock() - timedelta(minutes=1)))
    assert "InvalidTime" in past.code
    empty = fault_of(lambda: admin.SetTariff(FacilityID=FACILITY, VehicleType="car", Rules={}))
    assert "InvalidInput" in empty.code
    bad = fault_of(lambda: admin.SetTariff(FacilityID=FACILITY, VehicleType="car",
                                           Rules={"Rates": {"PeriodMinutes": 0}}))
    assert "InvalidInput" in bad.code
    unknown = fault_of(lambda: admin.SetTariff(FacilityID="NOPE", VehicleType="car", Rules=rules))
    assert "UnknownFacility" in unknown.code
    assert gateway.client("TariffService").GetTariffs(FacilityID=FACILITY, VehicleType="car", At=clock())[0] \
        .Rules.Rates.PricePerPeriod == Decimal("3.00")


def test_a_scheduled_version_applies_from_its_time_on(gateway, clock):
    admin = gateway.client("TariffService", user="admin")
    later = clock() + timedelta(days=1)
    admin.SetTariff(FacilityID=FACILITY, VehicleType="bus", EffectiveFrom=later,
                    Rules={"Rates": {"PricePerPeriod": "9.00", "DailyMaximum": "90.00"}})
    tariffs = gateway.client("TariffService")
    assert tariffs.GetTariffs(FacilityID=FACILITY, VehicleType="bus", At=clock())[0].Rules.Rates.PricePerPeriod \
        == Decimal("3.00")
    assert tariffs.GetTariffs(FacilityID=FACILITY, VehicleType="bus", At=later)[0].Rules.Rates.PricePerPeriod \
        == Decimal("9.00")
