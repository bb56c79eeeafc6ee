"""Entry and exit pictures over real SOAP (issue 16): kept once, sealed, in the vault; compared at the
exit off the request's unit of work; a vehicle that does not look like the one that entered goes to a
person (REVIEW, IMAGE_MISMATCH) with both pictures. Real photos: licence plates of
../shared/datasets/plate-crops (two plates of other states are other vehicles; one photo shot again,
moved and lit differently, is the same vehicle)."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import configs
import cv2
import numpy as np
import pytest

from conftest import TEST_CONFIG, SettableClock, migrated_with_users, start_gateway, stop_gateway, unique_plate
from gateway import config as configuration
from gateway.domain.decisions import OPEN, REVIEW, DecisionRules, LaneFacts, decide
from gateway.domain.sessions import ParkingSession
from test_events import submit

CROPS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "plate-crops" / "us"
pytestmark = pytest.mark.skipif(not CROPS.is_dir(), reason="needs ../shared/datasets/plate-crops")


def photo(name):
    """As a lane camera sends it: JPEG (the test gateway takes bodies up to 64 KiB)."""
    image = cv2.imread(str(CROPS / name), cv2.IMREAD_COLOR)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def shot_again(data):
    """The same vehicle at the exit camera: moved a little, lit differently, JPEG."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    moved = cv2.warpAffine(image, np.float32([[1, 0, 6], [0, 1, -4]]), (w, h), borderMode=cv2.BORDER_REPLICATE)
    relit = cv2.convertScaleAbs(moved, alpha=1.1, beta=8)
    return cv2.imencode(".jpg", relit, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


@pytest.fixture(scope="module")
def pictured(database_url, tmp_path_factory, request):
    """A gateway keeping pictures in a folder of its own (threshold 0.5, as configured by default)."""
    folder = tmp_path_factory.mktemp("pictures")
    cfg = configs.parse({**TEST_CONFIG, "storage": {"images_dir": str(folder)}}, database_url=database_url)
    migrated_with_users(database_url, request)  # the test configuration's keys are the template's
    gw = start_gateway(cfg, SettableClock())
    gw.folder = folder
    yield gw
    stop_gateway(gw)


def files_in(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file())


def session_of(gw, session_id):
    return gw.client("EventService").GetSession(SessionID=session_id)


def test_the_same_vehicle_leaves_and_the_score_is_kept(pictured):
    plate, entry_photo = unique_plate(), photo("al1181.png")
    entry = submit(pictured, "ENTRY", plate, Image=entry_photo)
    assert entry.Decision == "OPEN"
    kept = files_in(pictured.folder)
    assert kept and all(entry_photo not in p.read_bytes() for p in kept)   # sealed, not the picture as sent
    again = submit(pictured, "ENTRY", unique_plate(), Image=entry_photo)   # the same bytes: kept once
    assert again.Decision == "OPEN" and files_in(pictured.folder) == kept

    leaving = submit(pictured, "EXIT", plate, Image=shot_again(entry_photo))
    assert (leaving.Decision, leaving.Reason) == ("OPEN", "WITHIN_GRACE")
    view = session_of(pictured, entry.ParkingEvent.Session.SessionID)
    assert view.Status == "CLOSED"
    assert Decimal("0.5") <= view.ImageMatchScore <= 1
    stored = pictured.service.store
    with stored.connection() as conn:
        from gateway.store import sessions
        record = sessions.get(conn, view.Session.SessionID)
    assert record.entry_image and record.exit_image and record.entry_image != record.exit_image
    assert pictured.service.pictures.vault.get(record.entry_image) == entry_photo


def test_another_vehicle_under_the_plate_goes_to_a_person_with_both_pictures(pictured):
    plate, entry_photo, exit_photo = unique_plate(), photo("al1181.png"), photo("ak399.png")
    entry = submit(pictured, "ENTRY", plate, Image=entry_photo)
    leaving = submit(pictured, "EXIT", plate, Image=exit_photo)
    assert (leaving.Decision, leaving.Reason) == ("REVIEW", "IMAGE_MISMATCH")
    view = session_of(pictured, entry.ParkingEvent.Session.SessionID)
    assert view.Status == "OPEN"                       # the stay is not over until a person says so
    assert 0 <= view.ImageMatchScore < Decimal("0.5")
    reviews = pictured.client("EventService").ListReviews(IncludeImages=True)
    review = next(r for r in reviews if r.EventID == leaving.ParkingEvent.EventID)
    assert review.Reason == "IMAGE_MISMATCH"
    assert (review.Image, review.EntryImage) == (exit_photo, entry_photo)

    resolved = pictured.client("EventService").ResolveReview(ReviewID=review.ReviewID, Plate=plate)
    assert resolved.Decision == "OPEN"                 # a person confirmed it: the exit completes
    assert session_of(pictured, entry.ParkingEvent.Session.SessionID).Status == "CLOSED"


def test_text_only_events_do_no_picture_work(pictured):
    before = files_in(pictured.folder)
    plate = unique_plate()
    entry = submit(pictured, "ENTRY", plate)
    assert submit(pictured, "EXIT", plate).Decision == "OPEN"
    assert files_in(pictured.folder) == before
    assert session_of(pictured, entry.ParkingEvent.Session.SessionID).ImageMatchScore is None


def test_one_picture_only_or_an_unreadable_one_is_decided_without_a_score(pictured):
    plate = unique_plate()
    entry = submit(pictured, "ENTRY", plate, Image=photo("al1181.png"))
    assert submit(pictured, "EXIT", plate).Decision == "OPEN"          # no exit picture: nothing to compare
    assert session_of(pictured, entry.ParkingEvent.Session.SessionID).ImageMatchScore is None

    plate = unique_plate()
    entry = submit(pictured, "ENTRY", plate, Image=photo("al1181.png"))
    broken = submit(pictured, "EXIT", plate, Image=b"\xff\xd8\xff" + b"\x00" * 64)
    assert (broken.Decision, broken.Reason) == ("OPEN", "WITHIN_GRACE")
    assert session_of(pictured, entry.ParkingEvent.Session.SessionID).ImageMatchScore is None


def test_the_threshold_is_configured_and_zero_turns_it_off(tmp_path):
    path = tmp_path / "parkgate.toml"
    path.write_text(configs.toml({**TEST_CONFIG, "decisions": {"image_match_threshold": "0.3"}}))
    assert configuration.load(path).decision_rules.image_match_threshold == Decimal("0.3")

    when = datetime(2025, 1, 22, 12, tzinfo=timezone.utc)
    stay = ParkingSession(id="S-1", facility_id="LOT-TEST", plate="ABC123", status="OPEN",
                          entry_time=when - timedelta(minutes=5), exit_time=None, entry_event_id="E-0",
                          exit_event_id=None, lane_number=1, jurisdiction=None, country=None, space_assigned=None,
                          permit_number=None, amount_charged=None, amount_paid=Decimal("0"), paid_at=None)
    facility = configuration.load(path).facilities["LOT-TEST"]
    facts = LaneFacts(hotlisted=None, occupied=None, session=stay, permits=())
    for threshold, expected in (("0.5", REVIEW), ("0.1", OPEN), ("0", OPEN)):
        rules = DecisionRules(image_match_threshold=Decimal(threshold))
        verdict = decide(facts, facility, rules, "E-1", "EXIT", when, Decimal("0.97"), image_match=Decimal("0.2"))
        assert verdict.decision == expected
    assert decide(facts, facility, DecisionRules(), "E-1", "EXIT", when, None).decision == OPEN   # not compared
