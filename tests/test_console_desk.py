"""The officer's day at the desk, over HTTP (issue 18 on issue 16's use cases): open a shift, an
entry with its vehicle type and ticket, the exit by the ticket's number with the fee, a cash payment
with the amount tendered and the change, the barrier, a lost ticket, the vehicles overnight, the
shift closed with the cash counted and its report; an admin's reports exported as CSV, Excel and
PDF. On SQLite and PostgreSQL."""

import re
from datetime import timedelta
from decimal import Decimal

import configs
import pytest
from console_client import logged_in

from conftest import TEST_CONFIG, SettableClock, migrated_with_users, start_gateway, stop_gateway, unique_plate


@pytest.fixture(scope="module")
def gw(database_url, tmp_path_factory, request):
    migrated_with_users(database_url, request)
    gateway = start_gateway(configs.parse(TEST_CONFIG, database_url=database_url), SettableClock())
    yield gateway
    stop_gateway(gateway)


def entry(officer, plate, vehicle_type="car"):
    html = officer.get("/entry").text
    event_id = re.search(r'name="event_id" value="(BOOTH-\w+)"', html).group(1)
    r = officer.post("/entry", {"lane": "CAM-IN", "plate": plate, "event_id": event_id, "vehicle_type": vehicle_type})
    assert "/console/ticket/" in r.url, r.text[-2000:]
    return re.search(r'id="ticket-number">([^<]+)<', r.text).group(1), r


def test_an_officers_day(gw):
    gw.clock.now = SettableClock().now
    officer = logged_in(gw, "operator")
    r = officer.get("/shift")
    if 'id="close-shift"' in r.text:          # a shift left open by an earlier run of this module's database
        officer.post("/shift/close", {"declared-CASH": "0"})
    r = officer.post("/shift/open", {"float": "50.00", "lane": "2"})
    assert "Shift opened" in r.text and 'id="close-shift"' in r.text

    plate = unique_plate()
    number, page = entry(officer, plate, "motorcycle")
    assert 'id="ticket-type">motorcycle<' in page.text
    gw.clock.advance(timedelta(hours=2, minutes=10))              # three started hours: $9.00
    officer = logged_in(gw, "operator")                           # (the idle timeout passed meanwhile)
    r = officer.get("/exit", params={"ticket": number})
    assert plate in r.text and 'id="due">$9.00<' in r.text
    assert officer.get("/exit", params={"plate": plate}).text.count(number) >= 1  # found by the plate too
    session = re.search(r'name="session" value="([^"]+)"', r.text).group(1)
    r = officer.post("/exit/pay", {"session": session, "method": "CASH", "tendered": "20", "lane": "CAM-OUT"})
    assert "/console/receipts/" in r.url
    receipt_url = r.url
    assert 'id="paid-amount">$9.00<' in r.text and 'id="tendered-amount">$20.00<' in r.text
    assert 'id="change">$11.00<' in r.text and 'id="still-due">$0.00<' in r.text
    r = officer.post("/exit/pay", {"session": session, "method": "CASH", "tendered": "5",
                                   "back": f"/console/exit?ticket={number}"})
    assert "nothing is due" in r.text and r.url.endswith(f"/console/exit?ticket={number}")  # a second press
    page = officer.get(receipt_url.split("/console")[1])
    event_id = re.search(r'name="event_id" value="(BOOTH-\w+)"', page.text).group(1)
    r = officer.post("/exit/leave", {"lane": "CAM-OUT", "ticket": number.replace("-", ""), "event_id": event_id})
    assert "Exit: OPEN" in r.text
    assert "USED" in officer.get("/exit", params={"ticket": number}).text

    lost_plate = unique_plate()
    entry(officer, lost_plate)
    r = officer.post("/lost", {"plate": lost_plate, "reason": "driver lost it in the lift"})
    assert 'id="lost-charge">$40.00<' in r.text and 'id="lost-due">$40.00<' in r.text
    r = officer.post("/lost", {"plate": lost_plate, "reason": "again"})
    assert "already" in r.text

    r = officer.post("/shift/close", {"declared-CASH": "58.00", "declared-CARD": ""})
    assert "Shift closed" in r.text and "/console/shift/" in r.url
    cash = re.search(r'id="method-CASH">(.*?)</tr>', r.text, re.S).group(1)
    assert "$59.00" in cash and "$58.00" in cash and "-$1.00" in cash   # float 50 + 9 taken; counted 58
    assert 'id="report-taken">$9.00<' in r.text


def test_overnight_vehicles_and_money_refused(gw):
    gw.clock.now = SettableClock().now - timedelta(days=1)
    officer = logged_in(gw, "operator")
    plate = unique_plate()
    entry(officer, plate)
    gw.clock.now = SettableClock().now
    officer = logged_in(gw, "operator")
    assert plate in officer.get("/overnight").text
    # The pages showed the plate: "who looked at it" finds them by the officer (the entry's ticket
    # page was the "system"'s), the overnight page's listing too.
    about = {(e.Action, e.User) for e in gw.client("AuditService", user="admin").QueryAudit(Plate=plate, Limit=1000)}
    assert {("GetTicket", "operator"), ("ListOvernightVehicles", "operator")} <= about
    assert "system" not in {user for _, user in about}
    gone = unique_plate()                                      # a search that finds nothing is recorded too
    assert officer.get("/exit", params={"plate": gone}).status_code in (200, 404)
    assert ("GetSession", "operator") in {(e.Action, e.User) for e in gw.client("AuditService", user="admin")
                                          .QueryAudit(Plate=gone, Limit=1000)}
    assert officer.post("/shift/open", {"float": "ten"}).status_code == 200
    assert "Write an amount as digits" in officer.last.text
    r = officer.get("/exit", params={"ticket": "0000-0000-0000-0000"})       # a mistyped number
    assert r.status_code == 400 and "<h1>Not possible</h1>" in r.text


def test_amounts_are_read_as_the_officers_language_writes_them(gw):
    """The Indonesian pages write US$1.250,00 for 1,250.00, so an officer there types 1.250 or 12,50.
    "1.250" was read as 1.25 and "50.00" as fifty; now a number that reads two ways is asked again."""
    gw.clock.now = SettableClock().now
    officer = logged_in(gw, "operator", language="id")
    r = officer.get("/shift")
    if 'id="close-shift"' in r.text:
        officer.post("/shift/close", {"declared-CASH": "0"})
    r = officer.post("/shift/open", {"float": "50.00"})
    assert 'id="close-shift"' not in r.text and "12,5" in r.text     # refused: 50,00 or 5.000? The hint in id
    r = officer.post("/shift/open", {"float": "1.250"})
    assert 'id="close-shift"' in r.text
    report = gw.service.use_cases.shifts.report("operator", "operator")
    assert report.shift.opening_float == Decimal("1250")
    r = officer.post("/shift/close", {"declared-CASH": "1.250,50"})
    cash = re.search(r'id="method-CASH">(.*?)</tr>', r.text, re.S).group(1)
    assert "US$1.250,50" in cash and "US$0,50" in cash                # counted 1,250.50 against 1,250.00
    english = logged_in(gw, "operator")
    english.post("/shift/open", {"float": "12.50"})
    assert gw.service.use_cases.shifts.report("operator", "operator").shift.opening_float == Decimal("12.50")
    english.post("/shift/close", {"declared-CASH": "12.50"})


def test_amounts_past_what_the_books_hold_are_asked_again(gw):
    """Found by fuzzing the console (test_fuzz_console.py): a shift closed with 99999999999999999999999
    counted was stored, and its report page failed for good (500) as it formatted the difference."""
    gw.clock.now = SettableClock().now
    officer = logged_in(gw, "operator")
    if 'id="close-shift"' in officer.get("/shift").text:
        officer.post("/shift/close", {"declared-CASH": "0"})
    r = officer.post("/shift/open", {"float": "1" + "0" * 12})
    assert r.status_code == 200 and 'id="close-shift"' not in r.text and "9999999999.99" in r.text
    officer.post("/shift/open", {"float": "10.00"})
    for counted in ("99999999999999999999999", "1e30", "10.005"):
        r = officer.post("/shift/close", {"declared-CASH": counted, "back": "/console/shift"})
        assert r.status_code == 200 and 'id="close-shift"' in r.text, counted     # still open, asked again
        assert "9999999999.99" in r.text or "whole cents" in r.text
    shift = gw.service.use_cases.shifts.report("operator", "operator").shift
    r = officer.post("/shift/close", {"declared-CASH": "10.00"})
    assert r.status_code == 200 and officer.get(f"/shift/{shift.id}").status_code == 200


def test_reports_export(gw):
    admin = logged_in(gw, "admin")
    r = admin.get("/reports", params={"kind": "daily"})
    assert r.status_code == 200 and 'id="report-revenue"' in r.text and "<svg" in r.text
    day = gw.clock().astimezone(gw.service.config.facilities["LOT-TEST"].timezone).date().isoformat()
    for fmt, magic in (("csv", b"facility,section"), ("xlsx", b"PK"), ("pdf", b"%PDF")):
        r = admin.get(f"/reports/export.{fmt}", params={"kind": "daily", "from": day})
        assert r.status_code == 200 and r.content.startswith(magic), fmt
        assert "attachment" in r.headers["Content-Disposition"]
    r = admin.get("/reports/export.doc")
    assert r.status_code == 400 and "exported as csv, xlsx, pdf" in r.text
    assert logged_in(gw, "operator").get("/reports").status_code == 403


def test_the_exit_page_compares_the_vehicle_with_its_entry_picture(gw):
    import cv2
    import numpy as np

    def picture(colour):
        scene = np.full((240, 320, 3), colour, np.uint8)
        cv2.rectangle(scene, (60, 60), (260, 200), (20, 20, 20), -1)
        return cv2.imencode(".jpg", scene)[1].tobytes()

    gw.clock.now = SettableClock().now
    officer = logged_in(gw, "operator")
    officer.get("/entry")
    red, blue = picture((30, 30, 200)), picture((200, 60, 20))
    officer.post("/entry/read", files={"image": ("entry.jpg", red, "image/jpeg")})   # the booth camera's shot
    number, page = entry(officer, unique_plate())
    session = page.url.split("/console/ticket/")[1].split("?")[0]
    assert officer.get(f"/sessions/{session}/entry-picture").content == red         # kept with the entry
    same = officer.post("/entry/read", data={"session": session},
                        files={"image": ("exit.jpg", red, "image/jpeg")}).json()
    other = officer.post("/entry/read", data={"session": session},
                         files={"image": ("exit.jpg", blue, "image/jpeg")}).json()
    assert same["match_ok"] and float(same["match"]) > float(other["match"]) and not other["match_ok"]
    assert 'id="match-meter"' in officer.get("/exit", params={"ticket": number}).text


def test_a_ticket_number_in_other_digits_is_not_a_ticket(gw):
    """A ticket number is sixteen ASCII digits: digits of another script (what ``\\d`` also matches)
    are refused as any mistyped number is, never a page that failed."""
    officer = logged_in(gw, "operator")
    r = officer.get("/exit", params={"ticket": "\u0661" * 16})            # ARABIC-INDIC DIGIT ONE
    assert r.status_code == 400 and "16 digits" in r.text


def test_days_and_times_off_the_calendar_are_refused_not_a_500(gw):
    """December 9999 ran the report's period (and the activity log's filter) off the calendar's end:
    an OverflowError, the console's 500 page."""
    admin = logged_in(gw, "admin")
    for params in ({"kind": "daily", "from": "9999-12-31"}, {"kind": "monthly", "from": "9999-12-01"}):
        for path in ("/reports", "/reports/export.csv"):
            r = admin.get(path, params=params)
            assert r.status_code == 400 and "9999-12-30" in r.text, (path, params, r.status_code)
    r = admin.get("/activity", params={"from": "9999-12-31T23:59"})
    assert r.status_code == 400 and "9999-12-30" in r.text
