"""Console sessions in the database (issue 18): a log-in survives a restart of the gateway and, on
PostgreSQL, works on another node with the same cookie (no sticky sessions); the table keeps only
the id's hash; the idle timeout runs on the injected clock and the last use is written about once a
minute, not per request; logging out on one node ends the session on every node; disabling a user
anywhere (the CLI's use case too) ends their sessions. And the caller's address: a console action
through a trusted proxy is audited with the address it forwarded for; from any other peer the
header is ignored. A visitor's session is stored only once it carries state: cookie-less visits
write nothing, and the log-in form's token is derived from the cookie's id (the same on every node)."""

import dataclasses
import hashlib
from datetime import timedelta

import configs
import pytest
import requests
from console_client import TOKEN, ConsoleClient, logged_in
from sqlalchemy import select
from werkzeug.test import Client

from conftest import (
    PASSWORD,
    TEST_CONFIG,
    SettableClock,
    migrated_with_users,
    start_gateway,
    stop_gateway,
    unique_plate,
)
from gateway.app.auth import Users
from gateway.app.retention import Retention
from gateway.domain.errors import Busy
from gateway.store.schema import ConsoleSessionRecord, table_of

COOKIE = "parkgate_console"
SESSIONS = table_of(ConsoleSessionRecord)


def node(database_url, clock, **server):
    raw = {**TEST_CONFIG, "console": {"idle_timeout_s": 600},
           "server": {**TEST_CONFIG.get("server", {}), **server}}
    return start_gateway(configs.parse(raw, database_url=database_url), clock)


@pytest.fixture(scope="module")
def db(database_url, request):
    migrated_with_users(database_url, request)
    return database_url


@pytest.fixture
def two_nodes(db, clock):
    """Two gateway nodes on one PostgreSQL database, stopped after the test."""
    if db.startswith("sqlite"):
        pytest.skip("two nodes share a PostgreSQL database")
    a, b = node(db, clock), node(db, clock)
    yield a, b
    stop_gateway(a)
    stop_gateway(b)


@pytest.fixture
def clock():
    return SettableClock()


def moved(client, gw):
    """The same browser (its cookie jar) pointed at another node or a restarted gateway."""
    other = ConsoleClient(gw.base_url)
    other.http.cookies = client.http.cookies
    other.csrf = client.csrf
    return other


def stored(gw, cookie):
    with gw.store.read() as conn:
        return conn.execute(select(SESSIONS).where(
            SESSIONS.c.id_hash == hashlib.sha256(cookie.encode()).hexdigest())).first()


def test_a_login_survives_a_restart_and_only_its_hash_is_kept(db, clock):
    first = node(db, clock)
    try:
        client = logged_in(first, "operator")
        client.post("/language", {"language": "id", "back": "/console/dashboard"})
        cookie = client.http.cookies.get(COOKIE)
        row = stored(first, cookie)
        assert row is not None and row.username == "operator" and row.language == "id"
        with first.store.read() as conn:
            assert not [r for r in conn.execute(select(SESSIONS)) if cookie in (r.id_hash, r.csrf)]
    finally:
        stop_gateway(first)
    second = node(db, clock)
    try:
        again = moved(client, second)
        r = again.get("/dashboard")
        assert r.status_code == 200 and r.url.endswith("/console/dashboard") and "Dasbor" in r.text
        assert again.post("/lanes/1", {"command": "OPEN", "reason": "after the restart"}).status_code == 200
        assert "Jalur 1: OPEN -&gt;" in again.last.text                        # its flash, in its language
    finally:
        stop_gateway(second)


def test_the_idle_timeout_on_the_injected_clock_and_uses_written_once_a_minute(db, clock):
    gw = node(db, clock)
    try:
        client = logged_in(gw, "operator")
        cookie = client.http.cookies.get(COOKIE)
        logged_at = stored(gw, cookie).last_seen
        for _ in range(5):
            clock.advance(timedelta(seconds=10))
            assert client.get("/dashboard").status_code == 200
        assert stored(gw, cookie).last_seen == logged_at                 # five uses in 50 s: no write
        clock.advance(timedelta(seconds=15))
        client.get("/dashboard")
        assert stored(gw, cookie).last_seen == clock.now                 # past a minute: written
        clock.advance(timedelta(minutes=9, seconds=59))
        assert client.get("/dashboard").url.endswith("/console/dashboard")
        clock.advance(timedelta(minutes=10, seconds=1))
        r = client.get("/dashboard")
        assert "/console/login" in r.url and "without use" in r.text
        assert stored(gw, cookie) is None
        assert client.http.cookies.get(COOKIE) != cookie                 # a visitor again, of a new id
    finally:
        stop_gateway(gw)


def test_disabling_a_user_through_the_use_case_ends_their_console_sessions(db, clock):
    gw = node(db, clock)
    try:
        name = f"booth-{unique_plate().lower()}"
        users = Users(gw.store, passwords=configs.QUICK_PASSWORDS)
        users.add(name, "booth-password-1", "operator")
        officer = logged_in(gw, name, "booth-password-1")
        cookie = officer.http.cookies.get(COOKIE)
        users.update(name, disabled=True, by="admin")                      # as `parkgate user disable` does
        assert stored(gw, cookie) is None
        assert "/console/login" in officer.get("/dashboard").url
    finally:
        stop_gateway(gw)


@pytest.mark.postgres
def test_two_nodes_share_the_sessions(two_nodes):
    a, b = two_nodes
    on_a = logged_in(a, "admin")
    on_b = moved(on_a, b)
    assert on_b.get("/users").status_code == 200                        # the cookie from node a
    r = on_b.post("/lanes/1", {"command": "OPEN", "reason": "from node b"})   # a's CSRF token too
    assert r.status_code == 200 and "Lane 1: OPEN -&gt;" in r.text
    on_b.post("/logout")
    assert "/console/login" in moved(on_b, a).get("/dashboard").url    # ended on both


def addresses(gw, action):
    found = gw.client("AuditService", user="admin").QueryAudit(Action=action) or []
    return [e.Address for e in found]


def test_a_console_action_behind_a_trusted_proxy_is_audited_with_the_forwarded_address(db, clock):
    behind = node(db, clock, trusted_proxies=["127.0.0.0/8"])
    try:
        client = ConsoleClient(behind.base_url)
        client.http.headers["X-Forwarded-For"] = "203.0.113.9, 127.0.0.2"
        client.log_in("operator")
        reason = f"proxied {unique_plate()}"
        client.post("/lanes/1", {"command": "OPEN", "reason": reason})
        entries = behind.client("AuditService", user="admin").QueryAudit(Action="ConsoleLogin") or []
        assert entries[-1].Address == "203.0.113.9"
        commands = [e for e in behind.client("AuditService", user="admin").QueryAudit(User="operator") or []
                    if e.Detail and reason in e.Detail]
        assert commands and all(e.Address == "203.0.113.9" for e in commands)
    finally:
        stop_gateway(behind)
    direct = node(db, clock)                                                # no proxy trusted
    try:
        client = ConsoleClient(direct.base_url)
        client.http.headers["X-Forwarded-For"] = "198.51.100.1"             # anybody can write one
        client.log_in("admin")
        entries = direct.client("AuditService", user="admin").QueryAudit(Action="ConsoleLogin") or []
        assert entries[-1].Address == "127.0.0.1"
    finally:
        stop_gateway(direct)


def every_row(gw):
    """The console-session table as it is (ids' hashes, last uses, languages, users)."""
    with gw.store.read() as conn:
        return sorted(tuple(r) for r in conn.execute(select(
            SESSIONS.c.id_hash, SESSIONS.c.last_seen, SESSIONS.c.language, SESSIONS.c.username)))


def test_cookie_less_visits_and_a_failed_log_in_write_no_session(db, clock):
    gw = node(db, clock)
    try:
        logged_in(gw, "operator")                                           # a table not empty
        before = every_row(gw)
        tokens = set()
        for i in range(60):                                                 # a scanner, a health check
            r = requests.get(gw.base_url + ("/console/" if i % 2 else "/console/login"), timeout=30)
            assert r.status_code == 200 and r.url.split("?")[0].endswith("/console/login")
            tokens.add(TOKEN.search(r.text).group(1))
        assert every_row(gw) == before and len(tokens) == 60                # each visitor its own token
        visitor = ConsoleClient(gw.base_url)
        visitor.get("/login")
        cookie, token = visitor.http.cookies.get(COOKIE), visitor.csrf
        for _ in range(3):                                                  # coming back: the same id, token
            visitor.get("/login")
            assert (visitor.http.cookies.get(COOKIE), visitor.csrf) == (cookie, token)
        r = visitor.post("/login", {"username": "operator", "password": "wrong"})
        assert r.status_code == 401 and "Wrong user name or password" in r.text   # its flash, on that page
        assert every_row(gw) == before
        r = visitor.post("/login", {"username": "operator", "password": PASSWORD})
        assert r.url.endswith("/console/dashboard")                         # the form checks without a row
        after = visitor.http.cookies.get(COOKIE)
        assert after != cookie and stored(gw, cookie) is None and stored(gw, after).username == "operator"
        assert len(every_row(gw)) == len(before) + 1
    finally:
        stop_gateway(gw)


def test_a_token_of_another_id_or_none_is_refused(db, clock):
    gw = node(db, clock)
    try:
        mine, theirs = ConsoleClient(gw.base_url), ConsoleClient(gw.base_url)
        mine.get("/login")
        theirs.get("/login")
        assert mine.csrf != theirs.csrf
        login = {"username": "operator", "password": PASSWORD}
        for token in (theirs.csrf, "forged", "", "é" + mine.csrf[1:]):       # any text: refused, not a bug
            r = mine.post("/login", {**login, "csrf": token})
            assert r.status_code == 403 and "expired" in r.text
        assert mine.post("/language", {"language": "id", "csrf": theirs.csrf}).status_code == 403
        r = requests.get(gw.base_url + "/console/login", headers={"Cookie": f"{COOKIE}={'x' * 42}"}, timeout=30)
        assert len(r.cookies.get(COOKIE)) == 43                             # no id: the visitor gets a new one
        assert mine.post("/login", login).url.endswith("/console/dashboard")
    finally:
        stop_gateway(gw)


def test_a_language_picked_before_log_in_is_stored_and_the_form_still_checks(db, clock):
    gw = node(db, clock)
    try:
        visitor = ConsoleClient(gw.base_url)
        visitor.get("/login")
        cookie, token = visitor.http.cookies.get(COOKIE), visitor.csrf
        assert stored(gw, cookie) is None
        r = visitor.post("/language", {"language": "id", "back": "/console/login"})
        assert 'lang="id"' in r.text and visitor.csrf == token             # the page's token is the same
        row = stored(gw, cookie)
        assert row.language == "id" and row.username is None
        clock.advance(timedelta(seconds=30))
        r = visitor.post("/login", {"username": "operator", "password": PASSWORD})
        assert r.url.endswith("/console/dashboard") and "Dasbor" in r.text
        assert stored(gw, cookie) is None                                   # replaced, with a new id
        assert stored(gw, visitor.http.cookies.get(COOKIE)).language == "id"
    finally:
        stop_gateway(gw)


class Crowded:
    def authenticate(self, token, source=None):
        raise Busy("too many logins at once; try again")


def test_a_flash_shown_after_a_redirect_stores_the_visitors_session(db, clock):
    gw = node(db, clock)
    try:
        from gateway.web.console import Console
        console = Console(use_cases=dataclasses.replace(gw.service.use_cases, authenticator=Crowded()),
                          facilities=gw.service.config.facilities, language="en", secure=False)
        browser = Client(console)
        before = every_row(gw)
        page = browser.get("/login").get_data(as_text=True)
        assert every_row(gw) == before
        token = TOKEN.search(page).group(1)
        r = browser.post("/login", data={"csrf": token, "username": "operator", "password": PASSWORD})
        assert r.status_code == 303                                         # flashed, then redirected
        cookie = browser.get_cookie("parkgate_console").value
        assert stored(gw, cookie).flashes is not None
        r = browser.get(r.headers["Location"], follow_redirects=True)
        assert "too many logins" in r.get_data(as_text=True)
        assert stored(gw, cookie).flashes is None                           # shown once
    finally:
        stop_gateway(gw)


@pytest.mark.postgres
def test_a_visitors_token_from_one_node_checks_on_the_other(two_nodes):
    a, b = two_nodes
    before = every_row(a)
    visitor = ConsoleClient(a.base_url)
    visitor.get("/login")                                               # the form from node a
    assert every_row(b) == before
    on_b = moved(visitor, b)
    assert on_b.post("/login", {"username": "operator", "password": PASSWORD, "csrf": "forged"}
                     ).status_code == 403
    r = on_b.post("/login", {"username": "operator", "password": PASSWORD})   # a's token, checked on b
    assert r.status_code == 200 and r.url.endswith("/console/dashboard")
    assert moved(on_b, a).get("/dashboard").url.endswith("/console/dashboard")


def kept_with(gw, flash, picture):
    """A visitor's session stored with a message and a booth picture, as the console keeps them."""
    sessions = gw.service.use_cases.console_sessions
    session = sessions.visitor(None, "en")
    before = session.state()
    session.flashes.append(("info", flash))
    sessions.save(session, before)
    sessions.keep_capture(session, picture)
    return session


def test_a_request_amid_an_erasure_does_not_write_its_message_back(db, clock):
    """A request read the session (a message quoting a plate among its messages), an erasure of the
    plate took the message out, then the request added a message of its own: it wrote back every
    message it began with, the erased one too. Now it writes what it changed: its own message."""
    gw = node(db, clock)
    try:
        plate = unique_plate()
        sessions = gw.service.use_cases.console_sessions
        kept = kept_with(gw, f"Entry of {plate} not admitted", b"JPEG")
        in_flight, _ = sessions.get(kept.id)
        before = in_flight.state()
        in_flight.flashes.append(("info", "Shift opened."))
        assert gw.service.use_cases.erasure.erase(plate, "admin").erased["console_sessions"] == 1
        sessions.save(in_flight, before)
        flashes = stored(gw, kept.id).flashes
        assert plate not in flashes and "Shift opened." in flashes
        shown, _ = sessions.get(kept.id)
        assert shown.flashes == [("info", "Shift opened.")]
    finally:
        stop_gateway(gw)


def test_retention_takes_the_messages_and_pictures_of_sessions_long_unused(db, clock):
    """Ended sessions were pruned only as new ones were stored: with nobody logging in, a booth picture
    and a message quoting a plate stayed for ever. Now the plates' retention takes sessions unused
    past it, and the images' retention their pictures (where plates are kept longer)."""
    gw = node(db, clock)
    try:
        plate = unique_plate()
        old = kept_with(gw, f"Entry of {plate} not admitted", b"JPEG of a plate")
        used = kept_with(gw, "Shift opened.", b"JPEG of another")
        pictured = kept_with(gw, "Shift closed.", b"JPEG kept")
        with gw.store.connection() as conn:
            conn.execute(SESSIONS.update().where(SESSIONS.c.id_hash == used.id_hash)
                         .values(last_seen=clock() + timedelta(days=31)))          # used since: stays
        clock.advance(timedelta(days=31))                                          # past the plates' 30 days
        run = gw.service.retention.run("admin")
        assert run.error is None and run.rows["console_sessions"] >= 2      # this module's other sessions too
        assert stored(gw, old.id) is None and stored(gw, pictured.id) is None
        assert stored(gw, used.id).capture is not None
        # plates kept for ever, pictures 90 days: the images' step takes the picture, the session stays
        settings = dataclasses.replace(gw.service.config.ops.retention, plates_days=0, images_days=20)
        images = Retention(gw.store, settings, clock, sleep=lambda s: None)
        clock.advance(timedelta(days=21))
        assert images.run("admin").rows["console_captures"] == 1
        kept = stored(gw, used.id)
        assert kept.capture is None and kept.flashes is not None
        assert gw.service.use_cases.console_sessions.take_capture(used) is None
    finally:
        stop_gateway(gw)
