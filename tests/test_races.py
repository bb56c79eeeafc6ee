"""Two callers changing one record at once, on PostgreSQL (which runs requests side by side;
SQLite takes its writers in turn). Each test holds a row the way a concurrent transaction
would, sends the request, waits until PostgreSQL shows it waiting for that row's lock, then
commits the other transaction: the request must see what was committed, not overwrite it.
"""

import threading
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
import zeep
from sqlalchemy import create_engine, text

from conftest import (
    FACILITY,
    PG_URL,
    SettableClock,
    _drop_pg_schema,
    _fresh_pg_schema,
    add_test_users,
    make_config,
    start_gateway,
    stop_gateway,
    unique,
    unique_plate,
)
from gateway.store.migrate import upgrade

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_gateway():
    if not PG_URL:
        pytest.skip("PostgreSQL tests need PARKGATE_TEST_PG_URL")
    url, schema = _fresh_pg_schema()
    upgrade(url)
    add_test_users(url)
    gw = start_gateway(make_config(url), SettableClock())
    engine = create_engine(url)
    yield gw, engine
    engine.dispose()
    stop_gateway(gw)
    _drop_pg_schema(schema)


@contextmanager
def other_transaction(engine, statement, **params):
    """``statement`` run in a transaction of its own, committed when the block ends."""
    with engine.connect() as conn:
        tx = conn.begin()
        assert conn.execute(text(statement), params).rowcount == 1
        yield
        tx.commit()


def in_thread(call):
    """Run ``call`` in a thread; the returned function joins it (at most ``timeout`` seconds) and
    returns its result or raises."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except Exception as e:  # noqa: BLE001 - handed to the test below
            outcome["error"] = e

    thread = threading.Thread(target=run)
    thread.start()

    def result(timeout=30):
        thread.join(timeout)
        assert not thread.is_alive(), f"still running after {timeout} s"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]
    return result


def wait_for_lock_wait(engine):
    """Until a backend of this database waits for a row lock (the request reached the held row)."""
    waiting = threading.Event()
    for _ in range(3000):
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database()")).scalar():
                return
        waiting.wait(0.01)
    raise AssertionError("the request never waited for the held row")


def submit(gw, direction, plate, confidence="0.97", camera=None):
    return gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": FACILITY,
        "CameraID": camera or ("CAM-IN" if direction == "ENTRY" else "CAM-OUT"),
        "Direction": direction, "Timestamp": gw.clock(), "PlateText": plate, "Confidence": confidence})


def test_of_two_exits_at_once_one_closes_the_session_and_the_other_is_decided_again(pg_gateway):
    gw, engine = pg_gateway
    plate = unique_plate()
    session_id = submit(gw, "ENTRY", plate).ParkingEvent.Session.SessionID
    gw.clock.advance(timedelta(minutes=5))
    with other_transaction(engine, "UPDATE sessions SET status = 'CLOSED', exit_time = entry_time, "
                                   "exit_event_id = 'E-OTHER-LANE', amount_charged = 0 WHERE id = :id", id=session_id):
        exit_ = in_thread(lambda: submit(gw, "EXIT", plate))
        wait_for_lock_wait(engine)
    second = exit_()
    assert (second.Decision, second.Reason) == ("HOLD", "NO_ENTRY_RECORD")  # as if it had come second
    with engine.connect() as conn:
        assert conn.execute(text("SELECT exit_event_id FROM sessions WHERE id = :id"),
                            {"id": session_id}).scalar() == "E-OTHER-LANE"


def test_two_payments_at_once_both_count(pg_gateway):
    gw, engine = pg_gateway
    session_id = submit(gw, "ENTRY", unique_plate()).ParkingEvent.Session.SessionID
    gw.clock.advance(timedelta(hours=2))
    events = gw.client("EventService", user="integrator")
    with other_transaction(engine, "UPDATE sessions SET amount_paid = '2.00' WHERE id = :id", id=session_id):
        payment = in_thread(lambda: events.RecordPayment(
            SessionID=session_id, Amount={"_value_1": Decimal("3.00"), "currency": "USD"}, Method="card"))
        wait_for_lock_wait(engine)
    assert Decimal(payment().AmountPaid._value_1) == Decimal("5.00")  # 6.00 due: 2.00 + 3.00


def test_a_review_resolved_by_two_people_at_once_is_resolved_once(pg_gateway):
    gw, engine = pg_gateway
    plate = unique_plate()
    unsure = submit(gw, "ENTRY", plate, confidence="0.40")
    events = gw.client("EventService")
    review_id = {r.EventID: r.ReviewID for r in events.ListReviews()}[unsure.ParkingEvent.EventID]
    with other_transaction(engine, "UPDATE reviews SET state = 'RESOLVED', resolved_by = 'admin' WHERE id = :id",
                           id=review_id):
        resolve = in_thread(lambda: events.ResolveReview(ReviewID=review_id, Plate=plate))
        wait_for_lock_wait(engine)
    with pytest.raises(zeep.exceptions.Fault) as fault:
        resolve()
    assert fault.value.code.endswith("Client.Conflict")


def test_a_permit_revoked_by_two_callers_at_once_is_revoked_once(pg_gateway):
    gw, engine = pg_gateway
    permits = gw.client("PermitService")
    number = permits.IssuePermit(Plate=unique_plate(), PermitType="Monthly", ValidFrom="2025-01-01",
                                 ValidUntil="2025-01-31", FacilityID=FACILITY).PermitNumber
    with other_transaction(engine, "UPDATE permits SET state = 'REVOKED' WHERE permit_number = :n", n=number):
        revoke = in_thread(lambda: permits.RevokePermit(PermitNumber=number, Reason="sold the car"))
        wait_for_lock_wait(engine)
    with pytest.raises(zeep.exceptions.Fault) as fault:
        revoke()
    assert fault.value.code.endswith("Client.Conflict")


def test_a_frame_waiting_for_the_database_holds_up_only_its_own_lane(pg_gateway):
    """Lane CAM-IN's next frame waits for the row lock of its vehicle's review; meanwhile a frame at
    lane CAM-BOTH is recorded (one lock per lane, not one for every camera)."""
    gw, engine = pg_gateway
    gw.clock.advance(timedelta(minutes=10))  # no vehicle of an earlier test is still in a window
    waiting, other = unique_plate(), unique_plate()
    unsure = submit(gw, "ENTRY", waiting, confidence="0.40")
    assert unsure.Reason == "LOW_CONFIDENCE"
    assert submit(gw, "ENTRY", other, camera="CAM-BOTH").Decision == "OPEN"
    review_id = {r.EventID: r.ReviewID for r in gw.client("EventService").ListReviews()}[unsure.ParkingEvent.EventID]
    with other_transaction(engine, "UPDATE reviews SET resolved_by = 'someone' WHERE id = :id", id=review_id):
        completing = in_thread(lambda: submit(gw, "ENTRY", waiting, confidence="0.95"))
        wait_for_lock_wait(engine)
        elsewhere = in_thread(lambda: submit(gw, "ENTRY", other, confidence="0.90", camera="CAM-BOTH"))
        assert elsewhere(timeout=10).Reason == "SAME_VEHICLE"
    assert (completing().Decision, completing().Reason) == ("OPEN", "SAME_VEHICLE")
