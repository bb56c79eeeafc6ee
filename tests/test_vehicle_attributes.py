"""Vehicle attributes in the ParkingEvent (issue 17): the body colour recognition measured (real
pixels, a real recognition worker) when it is sure enough, the class from a motorcycle lane or the
caller; nothing that was neither measured nor given."""

from dataclasses import replace

import configs
import pytest

from conftest import SettableClock, migrated_with_users, start_gateway, stop_gateway, unique, unique_plate
from gateway import config as configuration
from gateway.app.images import LaneImages
from gateway.domain.events import VehicleAttributes
from test_recognition import encoded, scene

LOT = "LOT-ATTR"


@pytest.fixture(scope="module")
def gateway(database_url, request):
    raw = configs.gateway(configs.facility(LOT, configs.lane("CAR-IN", 1, "ENTRY"),
                                           dict(configs.lane("MOTO-IN", 2, "ENTRY"), vehicle_class="Motorcycle"),
                                           plate_regions=["US"]),
                          server={"max_body_bytes": 4 * 1024 * 1024})
    cfg = configs.parse(raw, database_url=database_url)
    cfg = cfg.override(recognition=replace(cfg.recognition, workers=1, time_limit=60))
    migrated_with_users(database_url, request)
    gw = start_gateway(cfg, SettableClock())
    yield gw
    stop_gateway(gw)


def enter(gw, camera="CAR-IN", **event):
    base = {"EventID": unique(), "FacilityID": LOT, "CameraID": camera, "Direction": "ENTRY",
            "Timestamp": gw.clock()}
    return gw.client("EventService").SubmitEvent(Event={**base, **event}).ParkingEvent.Vehicle.Attributes


def test_the_lane_or_the_caller_says_the_class_and_nothing_else_is_made_up(gateway):
    assert enter(gateway, PlateText=unique_plate(), Confidence="0.97") is None
    moto = enter(gateway, camera="MOTO-IN", PlateText=unique_plate(), Confidence="0.97")
    assert (moto.VehicleClass, moto.Color) == ("Motorcycle", None)
    told = enter(gateway, camera="MOTO-IN", PlateText=unique_plate(), Confidence="0.97",
                 Vehicle={"VehicleClass": "Bus", "Color": "Blue"})
    assert (told.VehicleClass, told.Color) == ("Bus", "Blue")


def test_the_measured_colour_goes_in_when_sure_and_the_caller_s_wins(gateway):
    red = encoded(scene(body=(35, 35, 190)))
    assert enter(gateway, Image=red).Color == "RED"
    assert enter(gateway, Image=red, Vehicle={"Color": "Maroon"}).Color == "Maroon"


class _Settings:
    colour_min_confidence = 0.8


@pytest.mark.parametrize("reading, given, colour", [
    ({"colour": "RED", "colour_confidence": 0.92}, None, "RED"),
    ({"colour": "RED", "colour_confidence": 0.79}, None, None),       # not sure enough: not written
    ({"colour": None, "colour_confidence": 0.0}, None, None),
    ({"colour": "RED", "colour_confidence": 0.95}, VehicleAttributes(color="Blue"), "Blue"),
])
def test_the_colour_threshold(reading, given, colour):
    images = LaneImages(_Settings(), 4)
    found = images._coloured(given, reading)
    assert (found.color if found else None) == colour


def test_a_lane_class_that_is_not_a_vehicle_class_is_refused():
    raw = configs.gateway(configs.facility(LOT, dict(configs.lane("X", 1), vehicle_class="Hovercraft")))
    with pytest.raises(configuration.ConfigError, match="vehicle_class"):
        configs.parse(raw)
