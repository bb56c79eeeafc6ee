"""DATEX II v3 per zone (issues 16, 17): a zoned facility is the top of a place hierarchy whose
zones are places of layer 1 under it, each with its live status; ids stay stable across a zone's
versions, and a zone set at run time is a new version (and, where the facility's capacity is its
zones' sum, a new capacity). Over real HTTP and SOAP, valid against the official schemas (xmlschema
and xmllint); the CLI on parkgate.toml's demo facility."""

from datetime import timedelta

import configs
import pytest
from lxml import etree

from conftest import SettableClock, add_test_users, start_gateway, stop_gateway, unique, unique_plate
from test_cli import parkgate
from test_datex2 import NS, XSI_TYPE, assert_valid, get

LOT, PLAIN = "LOT-LEVELS", "LOT-PLAIN"
ZONES = [{"id": "B1", "name": "Basement", "kind": "level", "floor": -1, "capacity": {"car": 2, "van": 1}},
         {"id": "MOTO", "name": "Motorcycle area", "capacity": {"motorcycle": 1, "bus": 0}, "permit_only": True}]


@pytest.fixture(scope="module")
def gw(database_url):
    raw = configs.gateway(
        configs.facility(LOT, dict(configs.lane("L-IN", 1, "ENTRY"), zone="B1"),
                         dict(configs.lane("L-MOTO", 2, "ENTRY"), zone="MOTO", vehicle_type="motorcycle"),
                         configs.lane("L-OUT", 3, "EXIT"), name="Levels Garage",
                         tariff_=configs.tariff(grace_minutes=60), zone=ZONES),
        configs.facility(PLAIN, configs.lane("P-IN", 1, "ENTRY"), name="Plain Lot", capacity=7))
    del raw["facility"][0]["capacity"]   # the sum of its zones: a zone set at run time changes it
    running = start_gateway(configs.parse(raw, database_url=database_url), SettableClock())
    add_test_users(database_url)
    yield running
    stop_gateway(running)


def places(doc):
    return {p.get("id"): p for p in doc.iterfind("prk:parkingTable/prk:hierarchyElementGeneral", NS)}


def text(element, path):
    return element.findtext(path, namespaces=NS)


def ref(element, path):
    found = element.find(path, NS)
    assert found.get("targetClass") == "fac:FacilityObject"
    return found.get("id"), found.get("version")


def statuses(doc):
    """Place id -> (version, occupied, vacant, status, the floors it is full at)."""
    out = {}
    for info in doc.iterfind("prk:parkingStatusInformation", NS):
        assert info.get(XSI_TYPE) == "prk:PlaceStatus"
        place, version = ref(info, "fac:reference")
        out[place] = (version, int(text(info, "prk:occupancy/prk:numberOfOccupiedSpaces")),
                      int(text(info, "prk:occupancy/prk:numberOfVacantSpaces")), text(info, "prk:status"),
                      [f.text for f in info.iterfind("prk:parkingPlaceFullAtFloor", NS)])
    return out


def enter(gw, camera, **more):
    gw.clock.advance(timedelta(seconds=1))
    return gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": LOT, "CameraID": camera, "Direction": "ENTRY", "Timestamp": gw.clock(),
        "PlateText": unique_plate(), "Confidence": "0.97", **more})


def test_each_zone_is_a_place_under_its_site(gw, tmp_path):
    doc = assert_valid(get(gw, "/datex2/table"), tmp_path)
    found = places(doc)
    assert list(found) == [LOT, f"{LOT}/B1", f"{LOT}/MOTO", PLAIN]
    site, level, moto = found[LOT], found[f"{LOT}/B1"], found[f"{LOT}/MOTO"]
    assert (text(site, "prk:layer"), text(site, "prk:type")) == ("0", "place")
    assert text(site, "prk:commonComponents/prk:characteristics/prk:spacesTotal") == "4"   # 2 + 1 + 1
    assert text(site, "prk:availableFloors") == "-1"
    # The site names its children and each child its parent, by the ids and versions the table gives them.
    assert [ref(c, ".") for c in site.iterfind("prk:childId", NS)] == [
        (p.get("id"), p.get("version")) for p in (level, moto)]
    for zone in (level, moto):
        assert zone.get(XSI_TYPE) == "prk:Place"
        assert (text(zone, "prk:layer"), text(zone, "prk:type")) == ("1", "subplaceElement")
        assert ref(zone, "prk:parentId") == (site.get("id"), site.get("version"))
    assert text(level, "fac:name/com:values/com:value") == "Basement"
    assert [v.text for v in level.iterfind("fac:applicableForVehicles/com:vehicleType", NS)] == ["car", "van"]
    assert text(level, "prk:commonComponents/prk:characteristics/prk:spacesTotal") == "3"
    assert text(level, "prk:commonComponents/prk:additionalCharacteristics/prk:floor") == "-1"
    assert text(level, "prk:commonComponents/prk:characteristics/prk:openToPublic") == "true"
    # An area has no floor; a type of no spaces is not one it is for; permit holders only: not public.
    assert [v.text for v in moto.iterfind("fac:applicableForVehicles/com:vehicleType", NS)] == ["motorcycle"]
    assert moto.find("prk:commonComponents/prk:additionalCharacteristics", NS) is None
    assert text(moto, "prk:commonComponents/prk:characteristics/prk:openToPublic") == "false"
    # A facility without zones is one place, as it always was.
    plain = found[PLAIN]
    assert plain.find("prk:childId", NS) is None and plain.find("prk:availableFloors", NS) is None
    assert text(plain, "prk:commonComponents/prk:characteristics/prk:spacesTotal") == "7"


def test_each_zone_has_its_status_and_a_full_level_is_said_at_its_floor(gw, tmp_path):
    table = places(etree.fromstring(get(gw, f"/datex2/table?facility={LOT}")))
    version = {pid: p.get("version") for pid, p in table.items()}
    now = statuses(assert_valid(get(gw, f"/datex2/status?facility={LOT}"), tmp_path))
    assert now == {LOT: (version[LOT], 0, 4, "spacesAvailable", []),
                   f"{LOT}/B1": (version[f"{LOT}/B1"], 0, 3, "spacesAvailable", []),
                   f"{LOT}/MOTO": (version[f"{LOT}/MOTO"], 0, 1, "spacesAvailable", [])}
    assert enter(gw, "L-IN").Decision == "OPEN"
    assert enter(gw, "L-IN").Decision == "OPEN"
    now = statuses(assert_valid(get(gw, f"/datex2/status?facility={LOT}"), tmp_path))
    assert now[f"{LOT}/B1"][1:] == (2, 1, "spacesAvailable", [])    # the van's space is still free
    assert now[LOT][1:] == (2, 2, "spacesAvailable", [])
    assert enter(gw, "L-IN", VehicleType="van").Decision == "OPEN"
    now = statuses(assert_valid(get(gw, "/datex2/status"), tmp_path))
    assert now[f"{LOT}/B1"][1:] == (3, 0, "full", [])
    assert now[LOT][1:] == (3, 1, "spacesAvailable", ["-1"])      # full at the basement's floor
    assert now[f"{LOT}/MOTO"][1:] == (0, 1, "spacesAvailable", [])
    assert now[PLAIN][1:] == (0, 7, "spacesAvailable", [])


def test_a_zone_set_at_run_time_is_a_new_version_of_the_same_place(gw, tmp_path):
    before = places(etree.fromstring(get(gw, f"/datex2/table?facility={LOT}")))
    made = gw.client("ZoneService", "admin").SetZone(FacilityID=LOT, ZoneID="B1",
                                                     Capacity=[{"VehicleType": "car", "Spaces": 12}])
    assert made.Version > 0
    doc = assert_valid(get(gw, f"/datex2/table?facility={LOT}"), tmp_path)
    after = places(doc)
    assert list(after) == list(before)                                    # the same ids
    level, site = after[f"{LOT}/B1"], after[LOT]
    assert level.get("version") != before[f"{LOT}/B1"].get("version")
    assert site.get("version") != before[LOT].get("version")             # its child changed
    assert after[f"{LOT}/MOTO"].get("version") == before[f"{LOT}/MOTO"].get("version")
    assert text(level, "prk:commonComponents/prk:characteristics/prk:spacesTotal") == "13"
    assert text(level, "prk:commonComponents/prk:additionalCharacteristics/prk:floor") == "-1"   # kept
    # The facility's capacity is its zones' sum: it follows the zone (issue 16's leftover).
    assert text(site, "prk:commonComponents/prk:characteristics/prk:spacesTotal") == "14"
    status = statuses(assert_valid(get(gw, f"/datex2/status?facility={LOT}"), tmp_path))
    assert status[LOT][0] == site.get("version") and status[f"{LOT}/B1"][0] == level.get("version")
    assert status[f"{LOT}/B1"][1:] == (3, 10, "spacesAvailable", [])
    assert status[LOT][1:] == (3, 11, "spacesAvailable", [])
    assert enter(gw, "L-IN").Decision == "OPEN"                           # the new spaces admit at once


def test_a_floor_is_one_word():
    raw = configs.gateway(configs.facility("LOT-F", configs.lane("F-IN", 1, "ENTRY"),
                                           zone=[{"id": "L1", "kind": "level", "floor": "first floor"}]))
    with pytest.raises(configs.configuration.ConfigError, match="floor"):
        configs.parse(raw)


def test_the_cli_shows_the_demo_facility_s_zones(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    moved = parkgate("zone", "set", "LOT-DOWNTOWN-A", "MOTO", "motorcycle=35", db=db)
    assert moved.returncode == 0, moved.stderr
    table = parkgate("datex2", "table", "--facility", "LOT-DOWNTOWN-A", db=db)
    assert table.returncode == 0, table.stderr
    found = places(assert_valid(table.stdout.encode(), tmp_path))
    assert list(found) == ["LOT-DOWNTOWN-A", "LOT-DOWNTOWN-A/L1", "LOT-DOWNTOWN-A/MOTO"]
    assert text(found["LOT-DOWNTOWN-A/L1"], "prk:commonComponents/prk:additionalCharacteristics/prk:floor") == "1"
    assert text(found["LOT-DOWNTOWN-A/MOTO"], "prk:commonComponents/prk:characteristics/prk:spacesTotal") == "35"
    # Its capacity is configured (250): a zone set does not change it.
    assert text(found["LOT-DOWNTOWN-A"], "prk:commonComponents/prk:characteristics/prk:spacesTotal") == "250"
    status = parkgate("datex2", "status", "--facility", "LOT-DOWNTOWN-A", db=db)
    assert status.returncode == 0, status.stderr
    now = statuses(assert_valid(status.stdout.encode(), tmp_path))
    assert {pid: s[1:3] for pid, s in now.items()} == {
        "LOT-DOWNTOWN-A": (0, 250), "LOT-DOWNTOWN-A/L1": (0, 230), "LOT-DOWNTOWN-A/MOTO": (0, 35)}
    assert now["LOT-DOWNTOWN-A/MOTO"][0] == found["LOT-DOWNTOWN-A/MOTO"].get("version")
