"""The operator console over HTTP (issue 18): log-in with the gateway's users, the session cookie,
CSRF, the idle timeout, roles, languages, and each page calling the use cases (dashboard counts that
follow SOAP lane events, the review queue, lanes, users, the activity log and its CSV, backups).
On SQLite and PostgreSQL. The real-browser tests are in test_console_browser.py."""

import io
import re
import tarfile
from datetime import timedelta
from decimal import Decimal

import configs
import pytest
from console_client import ConsoleClient, logged_in
from werkzeug.test import Client

from conftest import TEST_CONFIG, SettableClock, migrated_with_users, start_gateway, stop_gateway, unique, unique_plate
from gateway.app.auth import Users
from gateway.web.console import Console
from gateway.web.console.i18n import LANGUAGES, compile_catalogue, extracted


@pytest.fixture(scope="module")
def gw(database_url, tmp_path_factory, request):
    """A gateway whose console ends log-ins after 10 idle minutes, with its own backup folder."""
    folder = tmp_path_factory.mktemp("console")
    raw = {**TEST_CONFIG, "backup": {"directory": str(folder / "backups"), "keep": 2},
           "storage": {"images_dir": str(folder / "images")}, "console": {"idle_timeout_s": 600}}
    migrated_with_users(database_url, request)
    gateway = start_gateway(configs.parse(raw, database_url=database_url), SettableClock())
    yield gateway
    stop_gateway(gateway)


@pytest.fixture(autouse=True)
def reset_clock(request):
    """Each test that uses the gateway starts at the same moment."""
    if "gw" in request.fixturenames:
        request.getfixturevalue("gw").clock.now = SettableClock().now


def submit(gw, camera, direction, plate, confidence="0.97"):
    return gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": "LOT-TEST", "CameraID": camera, "Direction": direction,
        "Timestamp": gw.clock(), "PlateText": plate, "Confidence": confidence})


def figure(html, element_id):
    found = re.search(rf'id="{element_id}"[^>]*>(?:<a [^>]*>)?([^<]+)<', html)
    assert found, element_id
    return found.group(1).strip()


def test_login_sets_a_strict_httponly_cookie_and_rotates_the_session(gw):
    client = ConsoleClient(gw.base_url)
    r = client.get("/dashboard")
    assert r.url.split("?")[0].endswith("/console/login") and "next=/console/dashboard" in r.url
    before = client.http.cookies.get("parkgate_console")
    set_cookie = r.history[0].headers["Set-Cookie"] if r.history else r.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/console" in set_cookie
    assert "Secure" not in set_cookie  # plain HTTP here; under TLS it is Secure (test below)
    r = client.post("/login", {"username": "operator", "password": "s3cret-for-tests", "next": "/console/lanes"})
    assert r.status_code == 200 and r.url.endswith("/console/lanes")
    after = client.http.cookies.get("parkgate_console")
    assert after and after != before  # an id planted before log-in is worth nothing after it
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"


def test_the_cookie_is_secure_under_tls(gw):
    console = Console(use_cases=gw.service.use_cases, facilities=gw.service.config.facilities, language="en",
                      secure=True)
    r = Client(console).get("/login")
    assert "Secure" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]


def test_wrong_password_disabled_roles_and_open_redirects(gw):
    client = ConsoleClient(gw.base_url)
    client.get("/login")
    r = client.post("/login", {"username": "operator", "password": "wrong"})
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = client.post("/login", {"username": "integrator", "password": "s3cret-for-tests"})
    assert r.status_code == 403 and "no console pages" in r.text
    r = client.post("/login", {"username": "operator", "password": "s3cret-for-tests",
                               "next": "https://evil.example/console/"})
    assert r.status_code == 200 and r.url.endswith("/console/dashboard")
    r = gw.client("AuditService", user="admin").QueryAudit(Action="ConsoleLoginFailed")
    assert any(e.User == "operator" for e in (r or []))


def test_every_post_needs_the_csrf_token(gw):
    client = logged_in(gw, "operator")
    r = client.post("/lanes/1", {"command": "OPEN", "reason": "test"}, csrf=False)
    assert r.status_code == 403 and "expired" in r.text
    r = client.post("/lanes/1", {"command": "OPEN", "reason": "test", "csrf": "forged"})
    assert r.status_code == 403
    r = client.post("/logout", csrf=False)
    assert r.status_code == 403
    assert client.get("/dashboard").status_code == 200  # still logged in
    anonymous = ConsoleClient(gw.base_url)
    assert anonymous.post("/login", {"username": "operator", "password": "s3cret-for-tests"},
                          csrf=False).status_code == 403


def test_officers_are_refused_admin_pages(gw):
    client = logged_in(gw, "operator")
    for path in ("/users", "/zones", "/activity", "/activity.csv", "/backups"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "for administrators" in r.text
    assert client.post("/users", {"username": "x", "password": "y", "role": "admin"}).status_code == 403
    assert 'href="/console/users"' not in client.get("/dashboard").text


def test_an_idle_session_ends_and_a_refresh_is_not_use(gw):
    client = logged_in(gw, "operator")
    gw.clock.advance(timedelta(minutes=9))
    assert client.get("/dashboard").url.endswith("/console/dashboard")   # use: the timeout starts again
    for _ in range(3):
        gw.clock.advance(timedelta(minutes=4))
        r = client.get("/dashboard/live")                                # the page's own refresh
    assert r.status_code == 401
    r = client.get("/dashboard")
    assert "/console/login" in r.url and "without use" in r.text


def test_logout_ends_the_session(gw):
    client = logged_in(gw, "admin")
    r = client.post("/logout")
    assert r.url.split("?")[0].endswith("/console/login")
    assert "/console/login" in client.get("/dashboard").url
    assert client.post("/lanes/1", {"command": "OPEN", "reason": "x"}).status_code in (401, 403)


def test_indonesian_from_the_browser_and_the_switch(gw):
    client = ConsoleClient(gw.base_url, language="id-ID,id;q=0.9,en;q=0.5")
    r = client.get("/login")
    assert 'lang="id"' in r.text and "Kata sandi" in r.text
    client.post("/language", {"language": "en", "back": "/console/login"})
    r = client.get("/login")
    assert 'lang="en"' in r.text and "Password" in r.text
    client.post("/login", {"username": "admin", "password": "s3cret-for-tests"})
    r = client.post("/language", {"language": "id", "back": "/console/dashboard"})
    assert r.url.endswith("/console/dashboard") and "Kendaraan di dalam" in r.text and "Pendapatan hari ini" in r.text


def test_every_message_has_an_indonesian_translation():
    from babel.messages.pofile import read_po

    from gateway.web.console.i18n import po_path
    messages = extracted()
    assert len(messages) > 50
    with open(po_path("id"), "rb") as f:
        catalogue = read_po(f, locale="id")
    missing = [m for m in messages if catalogue.get(m) is None or not catalogue.get(m).string]
    assert not missing, missing
    assert compile_catalogue("id").gettext("Log in") == "Masuk"
    assert set(LANGUAGES) == {"en", "id"}


def test_the_dashboard_follows_lane_events_and_payments(gw):
    admin = logged_in(gw, "admin")
    html = admin.get("/dashboard/live").text
    before_in, before_free = int(figure(html, "vehicles-in")), int(figure(html, "free-spaces").replace(",", ""))
    plates = [unique_plate() for _ in range(3)]
    for plate in plates:
        assert submit(gw, "CAM-IN", "ENTRY", plate).Decision == "OPEN"
    gw.clock.advance(timedelta(hours=2))
    session_id = gw.service.use_cases.sessions.get(plate=plates[0], facility_id="LOT-TEST").session.id
    pay_station = gw.client("EventService", user="integrator")  # RecordPayment: the integrators' channel
    pay_station.RecordPayment(SessionID=session_id, Amount={"_value_1": Decimal("6.00"), "currency": "USD"},
                              Method="CASH")
    submit(gw, "CAM-OUT", "EXIT", plates[0])
    html = logged_in(gw, "admin").get("/dashboard/live").text  # two hours on: the first log-in has ended
    assert int(figure(html, "vehicles-in")) == before_in + 2
    assert int(figure(html, "free-spaces").replace(",", "")) == before_free - 2
    assert "CASH: $6.00" in html
    # the hour chart: a bar for the entries' hour (09:00 in New York) and one for the exit's (11:00)
    assert re.search(r"<title>Entries 09:00: [1-9]\d*</title>", html)
    assert re.search(r"<title>Exits 11:00: [1-9]\d*</title>", html)
    assert "<svg" in html and 'role="img"' in html
    view = gw.service.use_cases.dashboard.view("LOT-TEST")
    assert view.days[-1].entries == sum(t.entries for t in view.hours) and len(view.days) == 30
    assert view.days[-1].start.date() == gw.clock().astimezone(view.facility.timezone).date()


def test_the_review_queue_resolves_with_the_plate_read(gw):
    plate = unique_plate()
    r = submit(gw, "CAM-IN", "ENTRY", plate, confidence="0.40")
    assert r.Decision == "REVIEW"
    officer = logged_in(gw, "operator")
    html = officer.get("/reviews").text
    review_id = re.search(r'id="review-(\d+)"', html.split(plate)[0][-2000:] + html).group(1)
    assert ("ListReviews", "operator") in {(e.Action, e.User) for e in gw.client(   # the page showed the plate
        "AuditService", user="admin").QueryAudit(Plate=plate, Limit=1000)}
    ids = re.findall(r'id="review-(\d+)"', html)
    assert review_id in ids
    r = officer.post(f"/reviews/{max(ids, key=int)}", {"plate": plate.lower()})
    assert r.status_code == 200 and "Review resolved: decision OPEN" in r.text
    r = officer.post(f"/reviews/{max(ids, key=int)}", {"plate": plate})
    assert "already resolved" in r.text  # a clear message, not a crash
    assert officer.get("/reviews/999999/image").status_code == 404


def test_lanes_show_status_and_commands_need_a_reason(gw):
    officer = logged_in(gw, "operator")
    html = officer.get("/lanes").text
    assert 'id="lane-1"' in html and 'for="reason-1"' in html and "no PLC" in html
    r = officer.post("/lanes/1", {"command": "OPEN", "reason": " "})
    assert "needs a reason" in r.text
    r = officer.post("/lanes/1", {"command": "OPEN", "reason": "driver lost ticket"})
    assert "NOT_CONTROLLED" in r.text
    assert officer.post("/lanes/99", {"command": "OPEN", "reason": "x"}).status_code == 200  # flashed, not 500
    assert "has no lane 99" in officer.last.text


def test_admin_manages_users_and_a_disabled_user_cannot_log_in(gw):
    name = f"officer-{unique_plate().lower()}"
    admin = logged_in(gw, "admin")
    r = admin.post("/users", {"username": name, "password": "first-pass-1", "role": "operator"})
    assert f"User {name} added" in r.text
    r = admin.post("/users", {"username": name, "password": "other", "role": "admin"})
    assert "exists" in r.text
    officer = logged_in(gw, name, "first-pass-1")
    r = admin.post(f"/users/{name}", {"action": "disable"})
    assert "can no longer log in" in r.text
    assert "/console/login" in officer.get("/dashboard").url                # their session ended
    refused = ConsoleClient(gw.base_url).log_in(name, "first-pass-1")
    assert refused.status_code == 401                                        # at once, not after a cache expiry
    admin.post(f"/users/{name}", {"action": "enable"})
    admin.post(f"/users/{name}", {"action": "password", "password": "second-pass-2"})
    assert ConsoleClient(gw.base_url).log_in(name, "first-pass-1").status_code == 401
    logged_in(gw, name, "second-pass-2")
    admin.post(f"/users/{name}", {"action": "role", "role": "admin"})
    assert Users(gw.store).get(name).role == "admin"
    r = admin.post("/users/admin", {"action": "disable"})
    assert "cannot disable yourself" in r.text and not Users(gw.store).get("admin").disabled


def test_the_activity_log_filters_and_exports(gw):
    admin = logged_in(gw, "admin")
    logged_in(gw, "operator").post("/lanes/2", {"command": "CLOSE", "reason": "wet floor"})
    r = admin.get("/activity", params={"user": "operator", "action": "BarrierClose"})
    assert "wet floor" in r.text and "BarrierClose" in r.text and "127.0.0.1" in r.text
    r = admin.get("/activity", params={"user": "operator", "kind": "SYSTEM"})
    assert "ConsoleLogin" in r.text and "BarrierClose" not in r.text
    assert admin.get("/activity", params={"from": "yesterday"}).status_code == 400
    r = admin.get("/activity.csv", params={"user": "operator", "action": "BarrierClose"})
    assert r.headers["Content-Type"].startswith("text/csv") and "attachment" in r.headers["Content-Disposition"]
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("id,at,username") and all(",operator," in line for line in lines[1:]) and len(lines) > 1


def test_backups_run_and_download(gw):
    admin = logged_in(gw, "admin")
    r = admin.post("/backups")
    assert "written and verified" in r.text
    name = re.search(r"Backup (parkgate-[\w-]+) written", r.text).group(1)
    r = admin.get(f"/backups/{name}/download")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(r.content)) as tar:
        assert f"{name}/manifest.json" in tar.getnames()
    assert admin.get("/backups/..%2F..%2Fetc/download").status_code == 404
    assert admin.get("/backups/nothing-here/download").status_code == 404


def test_unknown_pages_and_the_root(gw):
    import requests
    r = requests.get(gw.base_url + "/console/no-such-page", timeout=10)
    assert r.status_code == 404 and r.text
    r = requests.get(gw.base_url + "/", timeout=10, allow_redirects=False)
    assert r.status_code in (301, 302) and r.headers["Location"].endswith("/console/")
    r = requests.get(gw.base_url + "/console/static/console.css", timeout=10)
    assert r.status_code == 200 and "text/css" in r.headers["Content-Type"]
    assert requests.get(gw.base_url + "/console/static/../app.py", timeout=10).status_code == 404


def test_an_entry_typed_at_the_booth_opens_a_session_once(gw):
    officer = logged_in(gw, "operator")
    html = officer.get("/entry").text
    event_id = re.search(r'name="event_id" value="(BOOTH-\w+)"', html).group(1)
    plate = unique_plate()
    r = officer.post("/entry", {"lane": "CAM-IN", "plate": plate.lower(), "event_id": event_id})
    assert "/console/ticket/" in r.url and plate in r.text
    number = re.search(r'id="ticket-number">([^<]+)<', r.text).group(1)
    again = officer.post("/entry", {"lane": "CAM-IN", "plate": plate, "event_id": event_id})  # pressed twice
    assert re.search(r'id="ticket-number">([^<]+)<', again.text).group(1) == number
    ticket = gw.service.use_cases.tickets.get("LOT-TEST", number=number.replace("-", ""))
    assert ticket.session.plate == plate and ticket.ticket.state == "ISSUED"
    r = officer.post("/entry", {"lane": "CAM-OUT", "plate": plate, "event_id": "BOOTH-X1"})
    assert "Choose an entry lane" in r.text
    r = officer.post("/entry", {"lane": "CAM-IN", "plate": "NOT A PLATE!!", "event_id": "BOOTH-X2"})
    assert "a plate is 1 to 12 letters" in r.text


def test_the_booth_camera_reading_refuses_what_is_no_picture(gw):
    officer = logged_in(gw, "operator")
    officer.get("/entry")
    r = officer.post("/entry/read", {})
    assert r.status_code == 400 and "at most 2 MB" in r.json()["message"]
    r = officer.post("/entry/read", files={"image": ("x.jpg", b"not a picture", "image/jpeg")})
    assert r.status_code == 200 and r.json()["unread"] == "IMAGE_UNREADABLE" and r.json()["plate"] == ""


def test_charts_scale_bars_to_a_round_axis():
    from gateway.web.console.charts import grouped_bars
    chart = grouped_bars("t", ["08:00", "09:00", "10:00"], [("in", [1, 7, 0]), ("out", [0, 3, 2])], width=300,
                         height=130)
    assert [value for _, value in chart.grid] == [0, 5, 10]
    heights = {(b.label, b.series): b.height for b in chart.bars}
    plot = chart.plot_bottom - chart.plot_top
    assert heights[("09:00", 0)] == pytest.approx(plot * 0.7) and heights[("10:00", 0)] == 0
    assert all(b.y + b.height == pytest.approx(chart.plot_bottom) for b in chart.bars)
    assert len({b.x for b in chart.bars}) == 6  # side by side, none on top of another
    assert grouped_bars("empty", ["a"], [("in", [0])]).grid[-1][1] == 2


def test_a_review_shows_the_picture_the_camera_sent(gw):
    broken = b"\xff\xd8\xff" + b"\x00" * 64          # a JPEG's start, nothing a reader can use
    r = gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": "LOT-TEST", "CameraID": "CAM-IN", "Direction": "ENTRY",
        "Timestamp": gw.clock(), "Image": broken})
    assert r.Decision == "REVIEW"
    officer = logged_in(gw, "operator")
    html = officer.get("/reviews").text
    review_id = max(re.findall(r'/console/reviews/(\d+)/image', html), key=int)
    picture = officer.get(f"/reviews/{review_id}/image")
    assert picture.content == broken and picture.headers["Content-Type"] == "image/jpeg"
    assert picture.headers["Cache-Control"] == "private, no-store"
    assert ConsoleClient(gw.base_url).get(f"/reviews/{review_id}/image").url.split("?")[0].endswith("/login")


def test_the_dashboard_names_a_lane_whose_plc_is_offline(tmp_path, request):
    import socket
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()                                   # nothing listens there: the lane's PLC is offline
    url = f"sqlite:///{tmp_path / 'offline.db'}"
    migrated_with_users(url, request)
    raw = configs.gateway(configs.facility("LOT-PLC", configs.lane("PLC-IN", 1, "ENTRY", plc=(port, 1)),
                                           configs.lane("PLC-OUT", 2, "EXIT")),
                          plc={"timeout_ms": 200, "reconnect_max_s": 0.2})
    gateway = start_gateway(configs.parse(raw, database_url=url), SettableClock())
    try:
        html = logged_in(gateway, "operator").get("/dashboard/live").text
        attention = re.search(r'<ul class="plain" id="attention">(.*?)</ul>', html, re.S)
        assert attention and "Lane 1" in attention.group(1) and "offline" in attention.group(1)
        assert "Lane 2" not in attention.group(1)   # no PLC: nothing to go wrong
    finally:
        stop_gateway(gateway)


def test_a_locked_account_is_refused_and_an_admin_unlocks_it(gw):
    name = f"locked-{unique_plate().lower()}"
    admin = logged_in(gw, "admin")
    admin.post("/users", {"username": name, "password": "right-password-1", "role": "operator"})
    guesser = ConsoleClient(gw.base_url)
    for _ in range(10):                                    # [auth] lockout: 10 in a row
        assert guesser.log_in(name, "wrong-guess").status_code == 401
    assert ConsoleClient(gw.base_url).log_in(name, "right-password-1").status_code == 401   # locked now
    row = admin.get("/users").text.split(f'id="user-{name}"')[1].split("</tr>")[0]
    assert "locked until" in row and f'id="unlock-{name}"' in row
    r = admin.post(f"/users/{name}", {"action": "unlock"})
    assert "can try to log in again" in r.text
    logged_in(gw, name, "right-password-1")
    assert admin.post("/users", {"username": f"{name}-2", "password": "short", "role": "operator"}).status_code == 200
    assert "at least 8 characters" in admin.last.text    # the password policy, said plainly


@pytest.mark.parametrize("path", ["/reviews/9223372036854775808/image", "/reviews/99999999999999999999/image",
                                  "/ticket//0", "/shift//x"])
def test_a_path_that_names_no_page_is_not_found(gw, path):
    """Found by fuzzing the console: a review number past the database's integer was a 500 (overflow
    in the driver), and an empty part ("//") a 500 too (werkzeug's redirect to the merged path)."""
    admin = logged_in(gw, "admin")
    r = admin.get(path, allow_redirects=False)
    assert r.status_code == 404 and r.text
