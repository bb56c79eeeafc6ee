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


def _money(m):
    return None if m is None else m._value_1


def test_charges_show_the_tariff_of_the_sessions_vehicle_type(gateway, clock):
    """The ParkingEvent's and the ticket's Charges: the truck's rate and maximum for a truck (the
    version it came in under), the car's for a car."""
    admin = gateway.client("TariffService", user="admin")
    admin.SetTariff(FacilityID=FACILITY, VehicleType="truck",
                    Rules={"RateCode": "TRUCK", "Rates": {"PricePerPeriod": "7.00", "DailyMaximum": "70.00"}})
    truck, car = unique_plate(), unique_plate()
    entered = submit(gateway, "ENTRY", truck, VehicleType="truck")
    submit(gateway, "ENTRY", car)
    shown = entered.ParkingEvent.Charges
    assert (shown.RateCode, _money(shown.BaseRate), _money(shown.MaximumDaily)) == \
        ("TRUCK", Decimal("7.00"), Decimal("70.00"))
    clock.advance(timedelta(hours=2))
    ticket = gateway.client("TicketService").GetTicket(FacilityID=FACILITY, TicketNumber=entered.TicketNumber)
    assert (ticket.Charges.RateCode, _money(ticket.Charges.BaseRate), _money(ticket.Charges.MaximumDaily),
            _money(ticket.Charges.CurrentCharge)) == ("TRUCK", Decimal("7.00"), Decimal("70.00"), Decimal("14.00"))
    # a later version changes what new trucks are shown, not this stay's
    admin.SetTariff(FacilityID=FACILITY, VehicleType="truck", Rules={"Rates": {"PricePerPeriod": "8.00"}})
    left = submit(gateway, "EXIT", truck).ParkingEvent.Charges
    assert (left.RateCode, _money(left.BaseRate), _money(left.MaximumDaily), _money(left.CurrentCharge)) == \
        ("TRUCK", Decimal("7.00"), Decimal("70.00"), Decimal("14.00"))
    car_left = submit(gateway, "EXIT", car).ParkingEvent.Charges
    assert (_money(car_left.BaseRate), _money(car_left.MaximumDaily), _money(car_left.CurrentCharge)) == \
        (Decimal("3.00"), Decimal("24.00"), Decimal("6.00"))


def test_set_tariff_clears_what_clear_names(gateway, clock):
    admin = gateway.client("TariffService", user="admin")
    admin.SetTariff(FacilityID=FACILITY, VehicleType="motorcycle",
                    Rules={"Rates": {"PricePerPeriod": "1.00", "DailyMaximum": "8.00",
                                     "Band": [{"Name": "night", "Start": "20:00", "End": "06:00",
                                               "PricePerPeriod": "0.50"}]},
                           "OvernightCutoff": "02:00", "OvernightCharge": "5.00",
                           "SpecialRate": [{"Name": "sun", "Weekday": ["SUN"], "Rates": {"PricePerPeriod": "0.00"}}]})
    cleared = admin.SetTariff(FacilityID=FACILITY, VehicleType="motorcycle", Rules={"GraceMinutes": 5},
                              Clear=["DailyMaximum", "OvernightCutoff", "Band", "SpecialRate"], Reason="no cap")
    rules = cleared.Rules
    assert rules.Rates.DailyMaximum is None and rules.OvernightCutoff is None
    assert not rules.Rates.Band and not rules.SpecialRate
    assert (rules.Rates.PricePerPeriod, rules.GraceMinutes) == (Decimal("1.00"), 5)   # the rest kept
    in_force = gateway.client("TariffService").GetTariffs(FacilityID=FACILITY, VehicleType="motorcycle", At=clock())
    assert in_force[0].Version == cleared.Version and in_force[0].Rules.Rates.DailyMaximum is None
    # Clear alone is a change; a setting both given and cleared is refused, the field named
    admin.SetTariff(FacilityID=FACILITY, VehicleType="motorcycle", Rules={}, Clear=["DailyMaximum"])
    both = fault_of(lambda: admin.SetTariff(FacilityID=FACILITY, VehicleType="motorcycle",
                                            Rules={"Rates": {"DailyMaximum": "9.00"}}, Clear=["DailyMaximum"]))
    assert "InvalidInput" in both.code and "both given and cleared" in both.message
