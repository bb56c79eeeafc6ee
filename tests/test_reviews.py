"""Lane events that bring a picture: read in the pool, fetched only from allowed sources; what
cannot be read surely goes to the review queue, where a person completes it."""

import logging
import socket
import threading
from dataclasses import replace
from datetime import timedelta
from functools import partial

import pytest
import zeep
from lxml import etree

import pool_tasks
from conftest import (
    FACILITY,
    SettableClock,
    make_config,
    migrated_with_users,
    start_gateway,
    stop_gateway,
    unique,
    unique_plate,
)
from gateway import config as configuration
from gateway.store.migrate import upgrade
from recognition.pool import RecognitionPool
from test_contract import xmllint
from test_events import fault_of, submit
from test_plc import until
from test_pool_fetch import JPEG, image_server  # noqa: F401 - the fixture
from test_recognition import encoded, scene

NS = "{urn:parkgate:v1}"


@pytest.fixture(scope="module")
def reading_gateway(database_url, request):
    base = make_config(database_url)
    facility = base.facilities[FACILITY]
    allowed = configuration.ImageSources.parse({"allowed_sources": ["127.0.0.1/32"]})
    cfg = base.override(
        facilities={**base.facilities, FACILITY: replace(facility, image_sources=allowed)},
        recognition=configuration.RecognitionSettings(workers=1, time_limit=30, queue=4),
        max_body_bytes=4 * 1024 * 1024)
    migrated_with_users(database_url, request)
    gw = start_gateway(cfg, SettableClock())
    yield gw
    stop_gateway(gw)


def with_image(gw, **event):
    base = {"EventID": unique(), "FacilityID": FACILITY, "CameraID": "CAM-IN", "Direction": "ENTRY",
            "Timestamp": gw.clock()}
    return gw.client("EventService").SubmitEvent(Event={**base, **event})


def test_inline_image_is_read(reading_gateway):
    r = with_image(reading_gateway, Image=JPEG)
    plate = r.ParkingEvent.Vehicle.LicensePlate
    assert plate.Number == "7ABC123" and plate.Confidence >= 0.85
    assert (r.Decision, r.Reason) == ("OPEN", "TRANSIENT_ENTRY")


def test_image_url_is_fetched_and_read(reading_gateway, image_server):  # noqa: F811
    reading_gateway.clock.advance(timedelta(minutes=1))
    r = with_image(reading_gateway, ImageURL=f"{image_server}/plate.jpg", Direction="EXIT", CameraID="CAM-OUT")
    assert r.ParkingEvent.Vehicle.LicensePlate.Number == "7ABC123"
    assert r.ParkingEvent.Image.OriginalURL == f"{image_server}/plate.jpg"


def test_forbidden_image_url_is_the_callers_error(reading_gateway):
    fault = fault_of(lambda: with_image(reading_gateway, ImageURL="http://169.254.169.254/latest/meta-data/"))
    assert fault.code.endswith("Client.InvalidInput")
    assert fault.detail[0].findtext(f"{NS}Field") == "ImageURL"


def test_unreadable_pictures_wait_for_a_person(reading_gateway, tmp_path):
    broken = with_image(reading_gateway, Image=b"\xff\xd8\xff" + b"\x00" * 64)
    assert (broken.Decision, broken.Reason) == ("REVIEW", "IMAGE_UNREADABLE")
    assert broken.ParkingEvent.Vehicle.LicensePlate.Number is None
    blank = with_image(reading_gateway, Image=encoded(scene("")))
    assert (blank.Decision, blank.Reason) == ("REVIEW", "NO_PLATE_READ")

    events = reading_gateway.client("EventService")
    queue = events.ListReviews(FacilityID=FACILITY, IncludeImages=True)
    mine = {item.EventID: item for item in queue}
    item = mine[broken.ParkingEvent.EventID]
    assert item.Reason == "IMAGE_UNREADABLE" and item.State == "OPEN" and item.Image.startswith(b"\xff\xd8\xff")

    plate = unique_plate()
    done = events.ResolveReview(ReviewID=item.ReviewID, Plate=plate.lower())
    assert (done.Decision, done.Reason) == ("OPEN", "TRANSIENT_ENTRY")
    assert done.ParkingEvent.EventID == broken.ParkingEvent.EventID
    assert done.ParkingEvent.Vehicle.LicensePlate.Number == plate
    assert events.GetSession(Plate=plate, FacilityID=FACILITY).Status == "OPEN"
    resolved = {i.EventID: i for i in events.ListReviews(State="RESOLVED")}[broken.ParkingEvent.EventID]
    assert (resolved.ResolvedBy, resolved.ResolvedPlate, resolved.Decision) == ("operator", plate, "OPEN")
    again = fault_of(lambda: events.ResolveReview(ReviewID=item.ReviewID, Plate=plate))
    assert again.code.endswith("Client.Conflict")
    assert fault_of(lambda: events.ResolveReview(ReviewID=999999, Plate=plate)).code.endswith("Client.NotFound")

    # the camera's retry of that request now replays the person's decision; another request under
    # its EventID is refused
    replay = with_image(reading_gateway, EventID=broken.ParkingEvent.EventID, Image=b"\xff\xd8\xff" + b"\x00" * 64,
                        Timestamp=broken.ParkingEvent.Timestamp)
    assert replay.ParkingEvent.Vehicle.LicensePlate.Number == plate
    assert replay.Barrier.Result == "NOT_CONTROLLED" and replay.Decision == "OPEN"
    conflict = fault_of(lambda: submit(reading_gateway, "ENTRY", "IGNORED1", event_id=broken.ParkingEvent.EventID))
    assert conflict.code.endswith("Client.Conflict")


def test_low_confidence_text_goes_to_the_queue(reading_gateway):
    r = submit(reading_gateway, "ENTRY", unique_plate(), confidence="0.42")
    assert r.Decision == "REVIEW"
    queue = reading_gateway.client("EventService").ListReviews()
    item = {i.EventID: i for i in queue}[r.ParkingEvent.EventID]
    assert (item.Reason, item.Image) == ("LOW_CONFIDENCE", None)


def test_review_document_without_a_plate_is_schema_valid(reading_gateway, tmp_path):
    from gateway.store.schema import LaneEventRecord
    r = with_image(reading_gateway, Image=b"\xff\xd8\xff" + b"\x00" * 64)
    with reading_gateway.store.transaction() as db:
        document = db.query(LaneEventRecord).filter_by(event_id=r.ParkingEvent.EventID).one().document
    assert etree.fromstring(document.encode()).find(f"{NS}Vehicle/{NS}LicensePlate/{NS}Number") is None
    xmllint(tmp_path, document.encode())


def test_operators_only(reading_gateway):
    integrator = reading_gateway.client("EventService", user="integrator")
    assert fault_of(lambda: integrator.ListReviews()).code.endswith("Client.Authorization")



class HeldReadings:
    """Where the pool's held readings (pool_tasks.held) wait: each finishes once released."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.releasing = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        held = []
        while True:
            conn = self.server.accept()[0]
            conn.settimeout(0.2)
            try:
                said = conn.recv(1, socket.MSG_PEEK)  # a reading says nothing: it waits
            except TimeoutError:
                said = None
            if said == b"!":  # close(): the end
                conn.close()
                break
            if said == b"":  # release(): wakes this loop
                conn.close()
            else:
                held.append(conn)
            if self.releasing.is_set():
                for c in held:
                    c.sendall(b"x")
                    c.close()
                held.clear()

    def release(self):
        self.releasing.set()
        socket.create_connection(("127.0.0.1", self.port)).close()  # wakes the server to release

    def close(self):
        self.releasing.set()
        with socket.create_connection(("127.0.0.1", self.port)) as conn:
            conn.sendall(b"!")
        self.thread.join(10)
        self.server.close()


def test_pictures_beyond_what_the_pool_can_take_are_answered_busy_at_once_with_the_defaults(database_url, request):
    """40 image events at once with the default request threads and queue: the pool takes what it
    can, the others are told Server.Busy at once, and the gateway answers other requests meanwhile."""
    defaults = configuration.Config()
    cfg = make_config(database_url).override(threads=defaults.threads, max_body_bytes=4 * 1024 * 1024,
                                             recognition=replace(defaults.recognition, workers=2, time_limit=120))
    migrated_with_users(database_url, request)
    gw = start_gateway(cfg, SettableClock())
    gw.service.images.pool_factory = partial(RecognitionPool, task=pool_tasks.held)
    readings = HeldReadings()
    answers = []

    def go():
        try:
            answers.append(with_image(gw, Image=str(readings.port).encode()))
        except zeep.exceptions.Fault as e:
            answers.append(e)

    def busy():
        return [a for a in answers if isinstance(a, zeep.exceptions.Fault)]

    threads = [threading.Thread(target=go) for _ in range(40)]
    try:
        for t in threads:
            t.start()
        # Every request beyond what the request threads hold must be answered while readings wait.
        until(lambda: len(busy()) >= 40 - defaults.threads, timeout=60, interval=0.05)
        assert all(f.code.endswith("Server.Busy") for f in busy())
        assert len(answers) == len(busy())  # no reading finished: they are all still held
        assert gw.client("EventService").Ping() is not None  # a request thread is free for other work
    finally:
        readings.release()
        for t in threads:
            t.join(60)
        readings.close()
        stop_gateway(gw)
    read = [a for a in answers if not isinstance(a, zeep.exceptions.Fault)]
    assert len(answers) == 40 and read
    assert all(a.ParkingEvent.Vehicle.LicensePlate.Number == "HELD1" for a in read)


def test_the_recognition_workers_start_with_the_gateway_and_say_so(database_url, caplog):
    caplog.set_level(logging.INFO, logger="parkgate")
    cfg = make_config(database_url).override(recognition=configuration.RecognitionSettings(workers=1,
                                                                                           warm_at_start=True))
    upgrade(database_url)
    gw = start_gateway(cfg, SettableClock())
    try:
        until(lambda: "recognition: 1 worker(s) ready in" in caplog.text, timeout=120, interval=0.1)
        assert "recognition: starting 1 worker(s)" in caplog.text
    finally:
        stop_gateway(gw)
