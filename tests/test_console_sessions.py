"""Console sessions in the database (issue 18): a log-in survives a restart of the gateway and, on
PostgreSQL, works on another node with the same cookie (no sticky sessions); the table keeps only
the id's hash; the idle timeout runs on the injected clock and the last use is written about once a
minute, not per request; logging out on one node ends the session on every node; disabling a user
anywhere (the CLI's use case too) ends their sessions. And the caller's address: a console action
through a trusted proxy is audited with the address it forwarded for; from any other peer the
header is ignored."""

import hashlib
from datetime import timedelta

import configs
import pytest
from console_client import ConsoleClient, logged_in
from sqlalchemy import select

from conftest import TEST_CONFIG, SettableClock, add_test_users, start_gateway, stop_gateway, unique_plate
from gateway.app.auth import Users
from gateway.store.migrate import upgrade
from gateway.store.schema import ConsoleSessionRecord, table_of

COOKIE = "parkgate_console"
SESSIONS = table_of(ConsoleSessionRecord)


def node(database_url, clock, **server):
    raw = {**TEST_CONFIG, "console": {"idle_timeout_s": 600},
           "server": {**TEST_CONFIG.get("server", {}), **server}}
    return start_gateway(configs.parse(raw, database_url=database_url), clock)


@pytest.fixture(scope="module")
def db(database_url):
    upgrade(database_url)
    add_test_users(database_url)
    return database_url


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
def test_two_nodes_share_the_sessions(db, clock):
    if db.startswith("sqlite"):
        pytest.skip("two nodes share a PostgreSQL database")
    a, b = node(db, clock), node(db, clock)
    try:
        on_a = logged_in(a, "admin")
        on_b = moved(on_a, b)
        assert on_b.get("/users").status_code == 200                        # the cookie from node a
        r = on_b.post("/lanes/1", {"command": "OPEN", "reason": "from node b"})   # a's CSRF token too
        assert r.status_code == 200 and "Lane 1: OPEN -&gt;" in r.text
        on_b.post("/logout")
        assert "/console/login" in moved(on_b, a).get("/dashboard").url    # ended on both
    finally:
        stop_gateway(a)
        stop_gateway(b)


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
