"""SubmitEvent over real SOAP: sessions, decisions, charges, idempotency, faults."""

import threading
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
import zeep

from conftest import FACILITY, make_config, start_gateway, stop_gateway, unique, unique_plate
from gateway.store.schema import HotlistRecord
from test_hardening import envelope, post


def submit(gw, direction, plate, camera=None, event_id=None, confidence="0.97", at=None, facility=FACILITY,
           **extra):
    camera = camera or ("CAM-IN" if direction == "ENTRY" else "CAM-OUT")
    event = {"EventID": event_id or unique(), "FacilityID": facility, "CameraID": camera, "Direction": direction,
             "Timestamp": at or gw.clock(), "PlateText": plate, "Confidence": confidence, **extra}
    return gw.client("EventService").SubmitEvent(Event=event)


def issue_permit(gw, plate, facility=FACILITY, valid_from=date(2025, 1, 1), valid_until=date(2025, 1, 31)):
    return gw.client("PermitService").IssuePermit(Plate=plate, PermitType="Monthly", ValidFrom=valid_from,
                                                   ValidUntil=valid_until, FacilityID=facility)


def pay_station(gw):
    """RecordPayment is the integrators' channel (officers take payments on their shift)."""
    return gw.client("EventService", user="integrator")


def fault_of(call):
    with pytest.raises(zeep.exceptions.Fault) as info:
        call()
    return info.value


def test_entry_opens_a_session_and_exit_within_grace_is_free(gateway, clock):
    plate = unique_plate()
    entry = submit(gateway, "ENTRY", plate)
    assert (entry.Decision, entry.Reason) == ("OPEN", "TRANSIENT_ENTRY")
    session = entry.ParkingEvent.Session
    assert session.ExitTime._value_1 is None  # present, and nil: the car is still inside
    assert entry.ParkingEvent.Authorization.Status == "NONE"
    assert entry.ParkingEvent.Location.LaneNumber == 1

    clock.advance(timedelta(minutes=10))
    leave = submit(gateway, "EXIT", plate)
    assert (leave.Decision, leave.Reason) == ("OPEN", "WITHIN_GRACE")
    assert leave.ParkingEvent.Session.SessionID == session.SessionID
    assert leave.ParkingEvent.Session.Duration == timedelta(minutes=10)
    assert leave.ParkingEvent.Session.ExitTime._value_1 == "2025-01-22T14:40:45Z"  # as the document says it
    assert leave.ParkingEvent.Charges.CurrentCharge._value_1 == Decimal("0.00")


def test_plate_text_is_normalised(gateway, clock):
    plate = unique_plate()
    spaced = f"{plate[:3]} - {plate[3:6]}.{plate[6:]}".lower()
    entry = submit(gateway, "ENTRY", spaced)
    assert entry.ParkingEvent.Vehicle.LicensePlate.Number == plate
    view = gateway.client("EventService").GetSession(Plate=plate, FacilityID=FACILITY)
    assert view.Session.SessionID == entry.ParkingEvent.Session.SessionID


def test_exit_with_payment_due_holds_until_paid(gateway, clock):
    plate = unique_plate()
    entry = submit(gateway, "ENTRY", plate)
    sid = entry.ParkingEvent.Session.SessionID
    clock.advance(timedelta(hours=2, minutes=5))

    held = submit(gateway, "EXIT", plate)
    assert (held.Decision, held.Reason) == ("HOLD", "PAYMENT_DUE")
    assert held.ParkingEvent.Charges.CurrentCharge._value_1 == Decimal("9.00")  # 3 started hours
    assert held.ParkingEvent.Authorization.AccessGranted is False

    svc = gateway.client("EventService")
    quote = svc.QuoteFee(SessionID=sid)
    assert quote.AmountDue._value_1 == Decimal("9.00")
    assert quote.Duration == timedelta(hours=2, minutes=5)

    receipt = pay_station(gateway).RecordPayment(SessionID=sid, Method="card",
                                                 Amount={"_value_1": Decimal("9.00"), "currency": "USD"})
    assert receipt.AmountDue._value_1 == Decimal("0.00")

    clock.advance(timedelta(minutes=10))  # within the time allowed to reach the exit
    leave = submit(gateway, "EXIT", plate)
    assert (leave.Decision, leave.Reason) == ("OPEN", "PAID")
    assert leave.ParkingEvent.Charges.AmountPaid._value_1 == Decimal("9.00")
    view = svc.GetSession(SessionID=sid)
    assert view.Status == "CLOSED"


def test_paying_too_early_means_paying_the_difference(gateway, clock):
    plate = unique_plate()
    sid = submit(gateway, "ENTRY", plate).ParkingEvent.Session.SessionID
    clock.advance(timedelta(minutes=50))
    svc = gateway.client("EventService")
    pay_station(gateway).RecordPayment(SessionID=sid, Amount={"_value_1": Decimal("3.00"), "currency": "USD"},
                                       Method="cash")
    clock.advance(timedelta(minutes=40))  # past the 15 minutes allowed after paying
    held = submit(gateway, "EXIT", plate)
    assert (held.Decision, held.Reason) == ("HOLD", "PAYMENT_DUE")
    assert svc.QuoteFee(SessionID=sid).AmountDue._value_1 == Decimal("3.00")


def test_daily_maximum_caps_a_long_stay(gateway, clock):
    plate = unique_plate()
    sid = submit(gateway, "ENTRY", plate).ParkingEvent.Session.SessionID
    clock.advance(timedelta(days=1, hours=20))
    quote = gateway.client("EventService").QuoteFee(SessionID=sid)
    assert quote.Charges.CurrentCharge._value_1 == Decimal("48.00")


def test_valid_permit_enters_and_leaves_free(gateway, clock):
    plate = unique_plate()
    permit = issue_permit(gateway, plate)
    entry = submit(gateway, "ENTRY", plate)
    assert (entry.Decision, entry.Reason) == ("OPEN", "PERMIT_VALID")
    auth = entry.ParkingEvent.Authorization
    assert (auth.Status, auth.PermitNumber, auth.AccessGranted) == ("VALID", permit.PermitNumber, True)
    clock.advance(timedelta(hours=5))
    leave = submit(gateway, "EXIT", plate)
    assert (leave.Decision, leave.Reason) == ("OPEN", "PERMIT_VALID")
    assert leave.ParkingEvent.Charges.CurrentCharge._value_1 == Decimal("0.00")


def test_permit_only_facility_holds_vehicles_without_permit(gateway, clock):
    plate = unique_plate()
    held = submit(gateway, "ENTRY", plate, camera="SMALL-IN", facility="LOT-SMALL")
    assert (held.Decision, held.Reason) == ("HOLD", "NO_PERMIT")
    assert held.ParkingEvent.Session is None
    issue_permit(gateway, plate, facility="LOT-SMALL", valid_until=date(2025, 1, 10))
    held = submit(gateway, "ENTRY", plate, camera="SMALL-IN", facility="LOT-SMALL")
    assert (held.Decision, held.Reason) == ("HOLD", "PERMIT_EXPIRED")


def test_full_facility_holds_transients(gateway, clock):
    first, second = unique_plate(), unique_plate()
    assert submit(gateway, "ENTRY", first, camera="TINY-IN", facility="LOT-TINY").Decision == "OPEN"
    occupancy = gateway.client("EventService").GetOccupancy(FacilityID="LOT-TINY")
    assert (occupancy.Capacity, occupancy.Occupied, occupancy.Available) == (1, 1, 0)
    full = submit(gateway, "ENTRY", second, camera="TINY-IN", facility="LOT-TINY")
    assert (full.Decision, full.Reason) == ("HOLD", "FACILITY_FULL")
    clock.advance(timedelta(minutes=5))
    assert submit(gateway, "EXIT", first, camera="TINY-IN", facility="LOT-TINY").Decision == "OPEN"
    assert submit(gateway, "ENTRY", second, camera="TINY-IN", facility="LOT-TINY").Decision == "OPEN"


def test_low_confidence_goes_to_review_without_touching_sessions(gateway, clock):
    plate = unique_plate()
    review = submit(gateway, "ENTRY", plate, confidence="0.60")
    assert (review.Decision, review.Reason) == ("REVIEW", "LOW_CONFIDENCE")
    assert review.ParkingEvent.Session is None
    assert review.ParkingEvent.Vehicle.LicensePlate.Confidence == Decimal("0.60")
    fault = fault_of(lambda: gateway.client("EventService").GetSession(Plate=plate, FacilityID=FACILITY))
    assert fault.code.endswith("Client.NotFound")


def test_hotlisted_plate_is_held(gateway, clock):
    plate = unique_plate()
    with gateway.store.transaction() as db:
        db.add(HotlistRecord(plate=plate, facility_id=None, reason="stolen", added_at=clock()))
    held = submit(gateway, "ENTRY", plate)
    assert (held.Decision, held.Reason) == ("HOLD", "HOTLISTED")


def test_hotlisted_vehicle_is_held_at_exit_with_its_session_and_other_lots_hotlists_do_not_count(gateway, clock):
    plate, elsewhere = unique_plate(), unique_plate()
    entry = submit(gateway, "ENTRY", plate)
    with gateway.store.transaction() as db:
        db.add(HotlistRecord(plate=plate, facility_id=FACILITY, reason="unpaid fees", added_at=clock()))
        db.add(HotlistRecord(plate=elsewhere, facility_id="LOT-SMALL", reason="banned there", added_at=clock()))
    clock.advance(timedelta(minutes=5))
    held = submit(gateway, "EXIT", plate)
    assert (held.Decision, held.Reason) == ("HOLD", "HOTLISTED")
    assert held.ParkingEvent.Session.SessionID == entry.ParkingEvent.Session.SessionID
    assert submit(gateway, "ENTRY", elsewhere).Decision == "OPEN"


def test_the_current_permit_of_the_facility_decides_among_several(gateway, clock):
    plate = unique_plate()
    issue_permit(gateway, plate, valid_from=date(2024, 11, 1), valid_until=date(2024, 11, 30))
    current = issue_permit(gateway, plate)
    issue_permit(gateway, plate, facility="LOT-SMALL", valid_from=date(2025, 1, 1), valid_until=date(2025, 12, 31))
    entry = submit(gateway, "ENTRY", plate)
    assert (entry.Decision, entry.Reason) == ("OPEN", "PERMIT_VALID")
    assert entry.ParkingEvent.Authorization.PermitNumber == current.PermitNumber
    elsewhere_only = unique_plate()
    issue_permit(gateway, elsewhere_only, facility="LOT-SMALL")
    transient = submit(gateway, "ENTRY", elsewhere_only)
    assert (transient.Reason, transient.ParkingEvent.Authorization.Status) == ("TRANSIENT_ENTRY", "NONE")


def test_second_entry_of_a_parked_plate_goes_to_review(gateway, clock):
    plate = unique_plate()
    first = submit(gateway, "ENTRY", plate)
    clock.advance(timedelta(minutes=2))  # not another frame of the same arrival
    again = submit(gateway, "ENTRY", plate)
    assert (again.Decision, again.Reason) == ("REVIEW", "OPEN_SESSION_EXISTS")
    assert again.ParkingEvent.Session.SessionID == first.ParkingEvent.Session.SessionID


def test_exit_without_entry_record_is_held_with_lost_ticket_charge(gateway, clock):
    held = submit(gateway, "EXIT", unique_plate())
    assert (held.Decision, held.Reason) == ("HOLD", "NO_ENTRY_RECORD")
    assert held.ParkingEvent.Charges.CurrentCharge._value_1 == Decimal("40.00")


def test_same_event_id_returns_the_first_result_and_changes_nothing(gateway, clock):
    plate, event_id, at = unique_plate(), unique(), clock()
    first = submit(gateway, "ENTRY", plate, event_id=event_id, at=at)
    occupied = gateway.client("EventService").GetOccupancy(FacilityID=FACILITY).Occupied
    clock.advance(timedelta(minutes=1))  # the camera retries a minute later: the same request
    again = submit(gateway, "ENTRY", plate, event_id=event_id, at=at)
    assert again.ParkingEvent.Session.SessionID == first.ParkingEvent.Session.SessionID
    assert (again.Decision, again.Reason) == (first.Decision, first.Reason)
    assert again.ParkingEvent.Timestamp == first.ParkingEvent.Timestamp
    assert gateway.client("EventService").GetOccupancy(FacilityID=FACILITY).Occupied == occupied


@pytest.mark.parametrize("change", [{"PlateText": "OTHER1"}, {"Confidence": "0.99"}, {"Direction": "EXIT"},
                                    {"Timestamp": "later"}])
def test_an_event_id_used_again_for_another_request_is_a_conflict(gateway, clock, change):
    plate, event_id, at = unique_plate(), unique(), clock()
    first = submit(gateway, "ENTRY", plate, event_id=event_id, at=at)
    if change.get("Timestamp") == "later":
        change = {"Timestamp": at + timedelta(seconds=1)}
    if change.get("Direction") == "EXIT":
        change = {**change, "CameraID": "CAM-OUT"}
    event = {"EventID": event_id, "FacilityID": FACILITY, "CameraID": "CAM-IN", "Direction": "ENTRY",
             "Timestamp": at, "PlateText": plate, "Confidence": "0.97", **change}
    fault = fault_of(lambda: gateway.client("EventService").SubmitEvent(Event=event))
    assert fault.code.endswith("Client.Conflict")
    assert fault.detail[0].findtext("{urn:parkgate:v1}Field") == "EventID"
    # the key still answers its own request, the same way
    again = submit(gateway, "ENTRY", plate, event_id=event_id, at=at)
    assert again.ParkingEvent.Session.SessionID == first.ParkingEvent.Session.SessionID


def test_concurrent_duplicates_open_one_session(gateway, clock):
    plate, event_id = unique_plate(), unique()
    results, errors = [], []
    barrier = threading.Barrier(6)

    def go():
        try:
            client = zeep.Client(gateway.url("EventService") + "?wsdl",
                                 wsse=zeep.wsse.username.UsernameToken("operator", "s3cret-for-tests"))
            barrier.wait()
            results.append(client.service.SubmitEvent(Event={
                "EventID": event_id, "FacilityID": FACILITY, "CameraID": "CAM-IN", "Direction": "ENTRY",
                "Timestamp": clock(), "PlateText": plate, "Confidence": "0.95"}))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert {r.ParkingEvent.Session.SessionID for r in results} == {results[0].ParkingEvent.Session.SessionID}
    assert {r.Decision for r in results} == {"OPEN"}


def test_concurrent_entries_of_one_plate_open_one_session(gateway, clock):
    plate = unique_plate()
    results = []

    def go():
        results.append(submit(gateway, "ENTRY", plate, camera="CAM-BOTH"))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    opened = [r for r in results if r.Decision == "OPEN" and r.Reason == "TRANSIENT_ENTRY"]
    assert len(opened) == 1  # one session; the others are frames of it, or wait for a person
    assert all(r.Reason in ("TRANSIENT_ENTRY", "SAME_VEHICLE", "OPEN_SESSION_EXISTS") for r in results)
    sessions = {r.ParkingEvent.Session.SessionID for r in results if r.ParkingEvent.Session}
    assert sessions == {opened[0].ParkingEvent.Session.SessionID}


def test_event_replay_survives_a_restart(database_url, clock):
    cfg = make_config(database_url)
    event_id, plate = unique(), unique_plate()
    first_gw = start_gateway(cfg, clock)
    try:
        first = submit(first_gw, "ENTRY", plate, event_id=event_id)
    finally:
        stop_gateway(first_gw)
    second_gw = start_gateway(cfg, clock)
    try:
        again = submit(second_gw, "ENTRY", plate, event_id=event_id)
    finally:
        stop_gateway(second_gw)
    assert again.ParkingEvent.Session.SessionID == first.ParkingEvent.Session.SessionID
    assert again.Decision == first.Decision


def test_a_gateway_with_one_request_thread_serves(database_url, clock):
    gw = start_gateway(make_config(database_url, threads=1), clock)
    try:
        entry = submit(gw, "ENTRY", unique_plate())
    finally:
        stop_gateway(gw)
    assert entry.Decision == "OPEN"


@pytest.mark.parametrize("change, code, field", [
    ({"FacilityID": "LOT-NOWHERE"}, "Client.UnknownFacility", "FacilityID"),
    ({"CameraID": "CAM-NOWHERE"}, "Client.UnknownLane", "CameraID"),
    ({"LaneNumber": 7}, "Client.UnknownLane", "CameraID"),
    ({"Direction": "EXIT"}, "Client.InvalidInput", "Direction"),
    ({"PlateText": "AB/12"}, "Client.InvalidInput", "PlateText"),
    ({"PlateText": None}, "Client.InvalidInput", "PlateText"),
])
def test_bad_events_get_typed_faults(gateway, clock, change, code, field):
    event = {"EventID": unique(), "FacilityID": FACILITY, "CameraID": "CAM-IN", "Direction": "ENTRY",
             "Timestamp": clock(), "PlateText": unique_plate(), "Confidence": "0.9", **change}
    fault = fault_of(lambda: gateway.client("EventService").SubmitEvent(Event=event))
    assert fault.code.endswith(code)
    assert fault.detail is not None
    assert fault.detail[0].findtext("{urn:parkgate:v1}Field") == field


def test_impossible_times_are_refused(gateway, clock):
    future = clock() + timedelta(hours=1)
    fault = fault_of(lambda: submit(gateway, "ENTRY", unique_plate(), at=future))
    assert fault.code.endswith("Client.InvalidTime")
    plate = unique_plate()
    submit(gateway, "ENTRY", plate)
    fault = fault_of(lambda: submit(gateway, "EXIT", plate, at=clock() - timedelta(hours=1)))
    assert fault.code.endswith("Client.InvalidTime")
    # nothing was half-written: the session is still open and can be closed properly
    assert gateway.client("EventService").GetSession(Plate=plate, FacilityID=FACILITY).Status == "OPEN"


def test_unknown_session_and_payment_faults(gateway, clock):
    svc = gateway.client("EventService")
    assert fault_of(lambda: svc.GetSession(SessionID="S-NOPE")).code.endswith("Client.NotFound")
    assert fault_of(lambda: svc.QuoteFee(SessionID="S-NOPE")).code.endswith("Client.NotFound")
    assert fault_of(lambda: svc.GetSession()).code.endswith("Client.InvalidInput")
    plate = unique_plate()
    sid = submit(gateway, "ENTRY", plate).ParkingEvent.Session.SessionID
    wrong_currency = {"_value_1": Decimal("1.00"), "currency": "EUR"}
    assert fault_of(lambda: pay_station(gateway).RecordPayment(SessionID=sid, Amount=wrong_currency, Method="card")) \
        .code.endswith("Client.InvalidInput")
    submit(gateway, "EXIT", plate)
    paid = {"_value_1": Decimal("1.00"), "currency": "USD"}
    assert fault_of(lambda: pay_station(gateway).RecordPayment(SessionID=sid, Amount=paid, Method="card")) \
        .code.endswith("Client.Conflict")


def test_frames_of_one_vehicle_are_decided_once(gateway, clock):
    plate = unique_plate()
    first = submit(gateway, "ENTRY", plate, confidence="0.90")
    occupied = gateway.client("EventService").GetOccupancy(FacilityID=FACILITY).Occupied
    clock.advance(timedelta(seconds=1))
    misread = plate[:-1] + ("0" if plate[-1] != "0" else "1")
    second = submit(gateway, "ENTRY", misread, confidence="0.70")
    assert (second.Decision, second.Reason) == ("OPEN", "SAME_VEHICLE")
    assert second.ParkingEvent.Session.SessionID == first.ParkingEvent.Session.SessionID
    assert second.ParkingEvent.Vehicle.LicensePlate.Number == plate  # the vote, not the misreading
    assert second.Barrier.Result == "NOT_CONTROLLED"
    assert gateway.client("EventService").GetOccupancy(FacilityID=FACILITY).Occupied == occupied  # no 2nd session


def test_frames_complete_an_unsure_first_reading(gateway, clock):
    plate = unique_plate()
    first = submit(gateway, "ENTRY", plate, confidence="0.60")
    assert (first.Decision, first.Reason) == ("REVIEW", "LOW_CONFIDENCE")
    clock.advance(timedelta(milliseconds=500))
    second = submit(gateway, "ENTRY", plate, confidence="0.95")
    assert (second.Decision, second.Reason) == ("OPEN", "SAME_VEHICLE")
    session = gateway.client("EventService").GetSession(Plate=plate, FacilityID=FACILITY)
    assert session.Status == "OPEN"
    resolved = {i.EventID: i for i in gateway.client("EventService").ListReviews(State="RESOLVED")}
    assert resolved[first.ParkingEvent.EventID].ResolvedBy == "frame-vote"


def test_two_sure_different_plates_at_one_lane_are_two_vehicles(gateway, clock):
    first_plate = unique_plate()
    second_plate = first_plate[:-1] + ("1" if first_plate[-1] != "1" else "2")  # one character apart
    first = submit(gateway, "ENTRY", first_plate, confidence="0.97")
    second = submit(gateway, "ENTRY", second_plate, confidence="0.97")  # same lane, same second
    assert (first.Decision, first.Reason) == (second.Decision, second.Reason) == ("OPEN", "TRANSIENT_ENTRY")
    assert second.ParkingEvent.Vehicle.LicensePlate.Number == second_plate
    assert first.ParkingEvent.Session.SessionID != second.ParkingEvent.Session.SessionID
    events = gateway.client("EventService")
    assert events.GetSession(Plate=second_plate, FacilityID=FACILITY).Status == "OPEN"


def test_concurrent_different_plates_at_one_lane_each_get_a_session(database_url, clock):
    base = make_config(database_url)
    roomy = replace(base.facilities[FACILITY], capacity=100_000)
    gw = start_gateway(base.override(facilities={**base.facilities, FACILITY: roomy}), clock)
    prefix = unique_plate()[:5]
    plates = [f"{prefix}{n:02d}" for n in range(30)]  # alike: at most two characters apart
    try:
        answers = {}

        def go(plate):
            answers[plate] = post(gw, envelope(f"""<pg:SubmitEvent><pg:Event><pg:EventID>{unique()}</pg:EventID>
                <pg:FacilityID>{FACILITY}</pg:FacilityID><pg:CameraID>CAM-IN</pg:CameraID>
                <pg:Direction>ENTRY</pg:Direction><pg:Timestamp>{clock().isoformat()}</pg:Timestamp>
                <pg:PlateText>{plate}</pg:PlateText><pg:Confidence>0.97</pg:Confidence>
                </pg:Event></pg:SubmitEvent>"""))

        threads = [threading.Thread(target=go, args=(plate,)) for plate in plates]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(status == 200 and b">TRANSIENT_ENTRY<" in body for status, body in answers.values()), answers
        sessions = {gw.client("EventService").GetSession(Plate=plate, FacilityID=FACILITY).Session.SessionID
                    for plate in plates}
        assert len(sessions) == len(plates)  # no submitted plate vanished into another's session
    finally:
        stop_gateway(gw)


def test_a_frame_read_at_confidence_zero_does_not_break_its_lane(gateway, clock):
    plate = unique_plate()
    unread = submit(gateway, "ENTRY", plate, confidence="0")
    assert (unread.Decision, unread.Reason) == ("REVIEW", "LOW_CONFIDENCE")
    clock.advance(timedelta(milliseconds=300))
    also_zero = submit(gateway, "ENTRY", plate, confidence="0")
    assert (also_zero.Decision, also_zero.Reason) == ("REVIEW", "SAME_VEHICLE")
    clock.advance(timedelta(milliseconds=300))
    sure = submit(gateway, "ENTRY", plate, confidence="0.95")
    assert (sure.Decision, sure.Reason) == ("OPEN", "SAME_VEHICLE")  # the vote completes the unread one
    assert gateway.client("EventService").GetSession(Plate=plate, FacilityID=FACILITY).Status == "OPEN"


def test_a_fee_can_be_quoted_ahead(gateway, clock):
    """What will I owe in an hour?"""
    sid = submit(gateway, "ENTRY", unique_plate()).ParkingEvent.Session.SessionID
    clock.advance(timedelta(minutes=30))
    events = gateway.client("EventService")
    assert events.QuoteFee(SessionID=sid).AmountDue._value_1 == Decimal("3.00")
    ahead = events.QuoteFee(SessionID=sid, AsOf=clock() + timedelta(hours=1))
    assert ahead.AmountDue._value_1 == Decimal("6.00") and ahead.Duration == timedelta(minutes=90)
    naive = fault_of(lambda: events.QuoteFee(SessionID=sid, AsOf=clock().replace(tzinfo=None)))
    assert naive.code.endswith("Client.InvalidTime")
    # At most a year ahead: the fee is worked out a day at a time (AsOf 9999-12-29 took a minute).
    assert events.QuoteFee(SessionID=sid, AsOf=clock() + timedelta(days=365)).AmountDue._value_1 > 0
    far = fault_of(lambda: events.QuoteFee(SessionID=sid, AsOf=clock() + timedelta(days=367)))
    assert far.code.endswith("Client.InvalidTime") and "year ahead" in far.message


def test_a_session_looked_up_by_plate_and_not_found_names_the_plate(gateway, clock):
    fault = fault_of(lambda: gateway.client("EventService").GetSession(Plate=unique_plate(), FacilityID=FACILITY))
    assert fault.code.endswith("Client.NotFound")
    assert fault.detail[0].findtext("{urn:parkgate:v1}Field") == "Plate"
    fault = fault_of(lambda: gateway.client("EventService").GetSession(SessionID="S-NOPE"))
    assert fault.detail[0].findtext("{urn:parkgate:v1}Field") == "SessionID"


def test_record_payment_takes_the_domains_methods_and_counts_only_what_was_due(gateway, clock):
    """RecordPayment follows the payment rules of the domain: a known method (a fault naming Method
    otherwise), cash above what is due is change, a card above it is refused; the report's revenue
    counts what was due."""
    reports = gateway.client("ReportService", user="admin")
    before = reports.GetReport(Period="daily", FacilityID=FACILITY).Facility[0].Revenue._value_1
    sid = submit(gateway, "ENTRY", unique_plate()).ParkingEvent.Session.SessionID
    clock.advance(timedelta(hours=2, minutes=5))                     # 9.00 due
    usd = lambda a: {"_value_1": Decimal(a), "currency": "USD"}     # noqa: E731
    unknown = fault_of(lambda: pay_station(gateway).RecordPayment(SessionID=sid, Amount=usd("9.00"), Method="gold"))
    assert unknown.code.endswith("Client.InvalidInput")
    assert unknown.detail[0].findtext("{urn:parkgate:v1}Field") == "Method"
    too_much = fault_of(lambda: pay_station(gateway).RecordPayment(SessionID=sid, Amount=usd("9.01"), Method="card"))
    assert too_much.code.endswith("Client.InvalidInput") and "more than is due" in too_much.message
    cash = pay_station(gateway).RecordPayment(SessionID=sid, Amount=usd("20.00"), Method="cash")
    assert (cash.Amount._value_1, cash.AmountPaid._value_1, cash.AmountDue._value_1) == (
        Decimal("9.00"), Decimal("9.00"), Decimal("0.00"))
    again = fault_of(lambda: pay_station(gateway).RecordPayment(SessionID=sid, Amount=usd("1.00"), Method="CASH"))
    assert again.code.endswith("Client.Conflict")                   # nothing is due
    after = reports.GetReport(Period="daily", FacilityID=FACILITY).Facility[0]
    assert after.Revenue._value_1 - before == Decimal("9.00")
    assert "cash" not in {k.Key for k in after.ByMethod}            # one spelling: CASH
