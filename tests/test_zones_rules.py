"""Zones without a database (issue 16): FACILITY_FULL per zone and vehicle type as a table, zone
versions, and the configuration (zones, the default capacity, the lane's one vehicle type)."""

from dataclasses import replace

import configs
import pytest

from gateway import config as configuration
from gateway.domain.decisions import HOLD, OPEN, LaneFacts, decide
from gateway.domain.errors import InvalidInput
from gateway.domain.zones import LEVEL, ZoneSpaces, changed, in_force, spaces, zone
from test_decisions import LOT, NOW, RULES, permit

L1 = zone("LOT", "L1", name="Level 1", kind=LEVEL, capacity={"car": 2, "van": 1})
MOTO = zone("LOT", "MOTO", capacity={"motorcycle": 1})
RESERVED = zone("LOT", "RES", capacity={"car": 5}, permit_only=True)


def at_zone(z, zone_occupied, occupied=0, permits=()):
    return LaneFacts(None, occupied, None, tuple(permits), zone=z, zone_occupied=zone_occupied)


ZONE_TABLE = [
    # (why, facts, vehicle type) -> (decision, reason)
    ("a car with a space in its zone", at_zone(L1, 1), "car", (OPEN, "TRANSIENT_ENTRY")),
    ("the zone's cars all in", at_zone(L1, 2), "car", (HOLD, "FACILITY_FULL")),
    ("a van: its own spaces there", at_zone(L1, 0), "van", (OPEN, "TRANSIENT_ENTRY")),
    ("a type the zone has no spaces for", at_zone(L1, 0), "bus", (HOLD, "FACILITY_FULL")),
    ("a motorcycle in the motorcycle area", at_zone(MOTO, 0), "motorcycle", (OPEN, "TRANSIENT_ENTRY")),
    ("the motorcycle area full", at_zone(MOTO, 1), "motorcycle", (HOLD, "FACILITY_FULL")),
    ("a full zone, but a permit holder", at_zone(L1, 2, permits=[permit()]), "car", (OPEN, "PERMIT_VALID")),
    ("a zone with space in a full facility", at_zone(L1, 0, occupied=10), "car", (HOLD, "FACILITY_FULL")),
    ("a permit-only zone, no permit", at_zone(RESERVED, 0), "car", (HOLD, "NO_PERMIT")),
    ("a permit-only zone, a permit", at_zone(RESERVED, 0, permits=[permit()]), "car", (OPEN, "PERMIT_VALID")),
    ("a lane of no zone: the facility alone", at_zone(None, None, occupied=9), "bus", (OPEN, "TRANSIENT_ENTRY")),
]


@pytest.mark.parametrize("why, facts, kind, expected", ZONE_TABLE, ids=[row[0] for row in ZONE_TABLE])
def test_entry_per_zone_and_type(why, facts, kind, expected):
    verdict = decide(facts, LOT, RULES, "E-1", "ENTRY", NOW, None, kind)
    assert (verdict.decision, verdict.reason) == expected


def test_an_exit_ignores_zones():
    assert decide(at_zone(L1, 99), LOT, RULES, "E-2", "EXIT", NOW, None, "car").reason == "NO_ENTRY_RECORD"


def test_a_zone_version_changes_what_is_given_and_keeps_the_rest():
    v1 = changed(L1, "LOT", "L1", capacity={"car": "5"})
    assert (v1.name, v1.kind, dict(v1.capacity)) == ("Level 1", LEVEL, {"car": 5, "van": 1})
    new = changed(None, "LOT", "L2", capacity={"Motorcycle": 3})
    assert (new.name, new.kind, dict(new.capacity)) == ("L2", "area", {"motorcycle": 3})
    now = in_force([L1, MOTO], [replace(v1, version=7), replace(changed(v1, "LOT", "L1", name="One"), version=9)])
    assert now["L1"].name == "One" and now["L1"].spaces("car") == 5 and now["MOTO"] is MOTO


def test_a_level_keeps_its_configured_floor_in_every_version():
    b1 = zone("LOT", "B1", kind=LEVEL, capacity={"car": 2}, floor=-1)
    assert b1.floor == "-1" and changed(b1, "LOT", "B1", capacity={"car": 3}).floor == "-1"
    stored = zone("LOT", "B1", kind=LEVEL, capacity={"car": 9}, version=4)   # a version as the store reads it
    roof = zone("LOT", "ROOF", kind=LEVEL, capacity={"car": 1}, version=5)  # set at run time: no floor known
    now = in_force([b1], [stored, roof])
    assert (now["B1"].floor, now["B1"].spaces("car"), now["ROOF"].floor) == ("-1", 9, None)
    for bad in ("", "first floor", "x" * 17):
        with pytest.raises(InvalidInput) as refused:
            zone("LOT", "B1", kind=LEVEL, floor=bad)
        assert refused.value.field == "Floor"


@pytest.mark.parametrize("change, field", [({"capacity": {"car": -1}}, "Capacity"),
                                           ({"capacity": {"hovercraft": 1}}, "Capacity"),
                                           ({"capacity": {"car": "many"}}, "Capacity"),
                                           ({"kind": "basement"}, "Kind")])
def test_a_bad_zone_is_refused(change, field):
    with pytest.raises(InvalidInput) as refused:
        changed(L1, "LOT", "L1", **change)
    assert refused.value.field == field


def test_spaces_per_zone_and_type():
    found = spaces({"L1": L1, "MOTO": MOTO}, {("L1", "car"): 2, ("MOTO", "motorcycle"): 0, ("L1", "bus"): 1})
    assert [(s.zone.id, s.vehicle_type, s.capacity, s.occupied, s.available, s.status) for s in found] == [
        ("L1", "car", 2, 2, 0, "FULL"), ("L1", "van", 1, 0, 1, "SPACES_AVAILABLE"),
        ("L1", "bus", 0, 1, 0, "FULL"), ("MOTO", "motorcycle", 1, 0, 1, "SPACES_AVAILABLE")]
    assert ZoneSpaces(L1, "car", 1).status == "SPACES_AVAILABLE"


def _parse(*lanes, **facility):
    return configs.parse(configs.gateway(configs.facility("LOT", *lanes, **facility))).facilities["LOT"]


def test_zones_configured_and_the_capacity_their_sum():
    zones = [{"id": "L1", "name": "Level 1", "kind": "level", "capacity": {"car": 120, "motorcycle": 40}},
             {"id": "M", "capacity": {"motorcycle": 10}, "permit_only": True}]
    raw = configs.facility("LOT", dict(configs.lane("IN", 1), zone="L1"), zone=zones)
    del raw["capacity"]
    fac = configs.parse(configs.gateway(raw)).facilities["LOT"]
    assert fac.capacity == 170 and [z.id for z in fac.zones] == ["L1", "M"]
    assert fac.zones[1].permit_only and fac.zones[1].kind == "area" and fac.lanes["IN"].zone == "L1"
    assert _parse(configs.lane("IN", 1), capacity=30).capacity == 30          # no zones: as today


@pytest.mark.parametrize("lane, zones, message", [
    ({"zone": "NOWHERE"}, [], "zone"),
    ({}, [{"id": "L1", "capacity": {"hovercraft": 3}}], "hovercraft"),
    ({}, [{"id": "L1", "spaces": 3}], "unknown keys"),
    ({}, [{"id": "L1"}, {"id": "L1"}], "twice"),
    ({"vehicle_class": "Hovercraft"}, [], "vehicle_class"),
])
def test_bad_zones_fail_at_start(lane, zones, message):
    with pytest.raises(configuration.ConfigError, match=message):
        _parse(dict(configs.lane("IN", 1), **lane), zone=zones)


def test_the_lane_says_one_vehicle_type_and_vehicle_class_is_its_old_name():
    fac = _parse(dict(configs.lane("A", 1), vehicle_type="Motorcycle"), dict(configs.lane("B", 2), vehicle_class="Bus"),
                 dict(configs.lane("C", 3), vehicle_class="SUV"))
    assert [fac.lanes[c].vehicle_type for c in "ABC"] == ["motorcycle", "bus", "car"]
    assert not hasattr(fac.lanes["A"], "vehicle_class")
