"""Issue 15, authentication: over HTTP to a running gateway of its own (its own failed-login counts).

Nonce replay in other spellings, the same work for unknown users, account changes that take effect
on the next request, lockout and the per-address limit, rehash on login, failed logins logged.
"""

import base64
import hashlib
import logging
import secrets
import string
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import PASSWORD, SettableClock, make_config, start_gateway, stop_gateway
from gateway.app import auth
from gateway.app.auth import PASSWORD_DIGEST, PasswordPolicy, Users, password_digest
from gateway.domain.users import Lockout
from gateway.store.engine import Store
from gateway.store.migrate import upgrade
from gateway.store.schema import UserRecord, table_of
from test_events import fault_of
from test_hardening import SOAP_ENV, fault, post

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
# Low costs, so that the module's hundred hashes take seconds: the gateway's here, and its users'
# below it (each is rehashed on its first login).
COST = 2 ** 12
USERS = PasswordPolicy(n=2 ** 11)


@pytest.fixture(scope="module")
def gateway(database_url):
    upgrade(database_url)
    users = Users(_store(database_url), passwords=USERS)
    for username, role in [("operator", "operator"), ("integrator", "integrator"), ("admin", "admin")]:
        users.add(username, PASSWORD, role)
    users.add("digester", PASSWORD, "integrator", allow_digest=True)
    users.store.dispose()
    cfg = make_config(database_url, passwords=PasswordPolicy(n=COST), lockout=Lockout(max_failures=5))
    gw = start_gateway(cfg, SettableClock())
    yield gw
    stop_gateway(gw)


def _store(url):
    return Store(url)


@pytest.fixture
def clock(gateway):
    """A new minute for each test: the per-address failure window starts empty."""
    gateway.clock.advance(timedelta(minutes=2))
    return gateway.clock


def account(gateway, username):
    users = table_of(UserRecord)
    with gateway.store.connection() as conn:
        return conn.execute(select(users).where(users.c.username == username)).first()


def digest_envelope(nonce_text, nonce_bytes, created, user="digester", secret=PASSWORD):
    digest = password_digest(nonce_bytes, created, secret)
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:pg="urn:parkgate:v1"><soapenv:Header>'
            f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
            f"<wsse:Username>{user}</wsse:Username>"
            f'<wsse:Password Type="{PASSWORD_DIGEST}">{digest}</wsse:Password>'
            f"<wsse:Nonce>{nonce_text}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
            f"</wsse:UsernameToken></wsse:Security></soapenv:Header>"
            f"<soapenv:Body><pg:Ping/></soapenv:Body></soapenv:Envelope>").encode()


def other_spellings(nonce):
    """Base64 texts other than the canonical one that lenient decoders read as ``nonce``: the last
    character's unused bits set."""
    canonical = base64.b64encode(nonce).decode()
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
    body, pad = canonical.rstrip("="), "=" * (len(canonical) - len(canonical.rstrip("=")))
    keep = alphabet.index(body[-1]) & ~(0b1111 if pad == "==" else 0b11)
    free = 0b1111 if pad == "==" else 0b11
    spellings = [body[:-1] + alphabet[keep | bits] + pad for bits in range(free + 1)]
    return [s for s in spellings if s != canonical and base64.b64decode(s) == nonce]


def test_a_captured_digest_is_accepted_once_in_any_spelling(gateway, clock):
    nonce = hashlib.sha256(b"captured").digest()[:16]
    created = clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    status, data = post(gateway, digest_envelope(base64.b64encode(nonce).decode(), nonce, created))
    assert status == 200 and b"ServerTime" in data
    spellings = other_spellings(nonce)
    assert len(spellings) == 15
    for text in spellings:  # each would pass a lenient decoder as a fresh nonce
        status, data = post(gateway, digest_envelope(text, nonce, created))
        assert fault(data)[0].endswith("Client.Authentication"), text
    status, data = post(gateway, digest_envelope(base64.b64encode(nonce).decode(), nonce, created))
    assert fault(data)[0].endswith("Client.Authentication")  # and the canonical one again: a replay


@pytest.mark.parametrize("nonce_text", ["not base64!", "QUJD", "QUJDREVGR0hJSktMTU5PUA"])
def test_nonces_that_are_not_strict_base64_of_enough_bytes_are_refused(gateway, clock, nonce_text):
    created = clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    status, data = post(gateway, digest_envelope(nonce_text, b"ABCDEFGHIJKLMNOP", created))
    assert fault(data)[0].endswith("Client.Authentication")


def test_a_digest_that_is_not_ascii_is_a_failed_login_not_an_internal_error(gateway, clock):
    """The digest is compared as bytes: a Password of any text (here one no base64 spells) is a
    wrong digest, counted against the account, never a Server fault that says the account exists."""
    Users(gateway.store, passwords=USERS).add("wide", PASSWORD, "integrator", allow_digest=True)
    nonce = secrets.token_bytes(16)
    created = clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    body = digest_envelope(base64.b64encode(nonce).decode(), nonce, created, user="wide")
    right = password_digest(nonce, created, PASSWORD).encode()
    status, data = post(gateway, body.replace(right, "é".encode() + right[2:]))
    assert status == 500 and fault(data)[0].endswith("Client.Authentication")
    assert account(gateway, "wide").failed_logins == 1
    status, data = post(gateway, body)                        # the right digest still logs in
    assert status == 200 and b"ServerTime" in data


def test_an_unknown_user_costs_the_same_hash_as_a_wrong_password(gateway, clock, monkeypatch):
    hashed = []
    real = auth.check_password
    monkeypatch.setattr(auth, "check_password",
                        lambda stored, pw: hashed.append(stored.split("$")[1]) or real(stored, pw))
    for user in ["operator", "nobody-at-all", "operator"]:
        guess(gateway, user, 1)
    # One hash each, and nobody's at the configured cost like the known user's (rehashed on login or not,
    # an unknown name pays at least as much).
    assert len(hashed) == 3
    assert int(hashed[1]) >= int(hashed[0])


def test_reset_role_change_and_disable_take_effect_on_the_next_request(gateway, clock):
    users = Users(gateway.store, passwords=USERS)
    users.add("changing", PASSWORD, "operator")
    events = gateway.client("EventService", user="changing")
    assert events.Ping() == clock()
    assert events.GetOccupancy(FacilityID="LOT-TEST").Capacity == 500
    users.add("changing", PASSWORD, "enforcement")          # role change
    submit = lambda: events.SubmitEvent(Event={  # noqa: E731
        "EventID": "E-role-change", "FacilityID": "LOT-TEST", "CameraID": "CAM-IN", "Direction": "ENTRY",
        "Timestamp": clock(), "PlateText": "ROLE2"})
    assert fault_of(submit).code.endswith("Client.Authorization")
    users.add("changing", PASSWORD + "-new", "operator")    # password reset
    assert fault_of(lambda: events.Ping()).code.endswith("Client.Authentication")
    renewed = gateway.client("EventService", user="changing", password=PASSWORD + "-new")
    assert renewed.Ping() == clock()
    users.disable("changing")
    assert fault_of(lambda: renewed.Ping()).code.endswith("Client.Authentication")


def test_passwords_are_rehashed_at_the_configured_cost_on_login(gateway, clock):
    Users(gateway.store, passwords=USERS).add("old-hash", PASSWORD, "operator")
    assert account(gateway, "old-hash").password_hash.startswith(f"scrypt${USERS.n}$")
    assert gateway.client("EventService", user="old-hash").Ping() == clock()
    assert account(gateway, "old-hash").password_hash.startswith(f"scrypt${COST}$")
    assert gateway.client("PermitService", user="old-hash").Ping() == clock()  # the new hash verifies


def guess(gateway, user, times, service="EventService"):
    for n in range(times):
        wrong = f"guess-{n}-secret"
        code = fault_of(lambda: gateway.client(service, user=user, password=wrong).Ping()).code  # noqa: B023
        assert code.endswith("Client.Authentication")


def test_failed_logins_lock_the_account_and_are_logged_without_the_password(gateway, clock, caplog):
    Users(gateway.store, passwords=USERS).add("guessed", PASSWORD, "operator")
    caplog.set_level(logging.WARNING, logger="parkgate")
    guess(gateway, "guessed", 5)
    row = account(gateway, "guessed")
    assert row.failed_logins == 5 and row.locked_until > clock()
    # Locked: the right password is not even checked.
    client = gateway.client("PermitService", user="guessed")
    assert fault_of(lambda: client.Ping()).code.endswith("Client.Authentication")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "login failed: user 'guessed' from 127.0.0.1 (5 in a row); locked until" in logged
    assert "guess-" not in logged and PASSWORD not in logged
    # Visible to admins, and lifted by one.
    listed = Users(gateway.store).listing()
    assert next(u for u in listed if u.username == "guessed").locked_until is not None
    Users(gateway.store).unlock("guessed", by="admin")
    assert client.Ping() == clock()
    assert account(gateway, "guessed").failed_logins == 0


def test_a_client_verified_before_the_guessing_keeps_working(gateway, clock):
    Users(gateway.store, passwords=USERS).add("steady", PASSWORD, "operator")
    steady = gateway.client("EventService", user="steady")
    assert steady.Ping() == clock()
    guess(gateway, "steady", 5)
    assert account(gateway, "steady").locked_until > clock()
    assert steady.Ping() == clock()  # it knows the password: no guess is checked for it


def test_the_lock_lapses(gateway, clock):
    Users(gateway.store, passwords=USERS).add("patient", PASSWORD, "operator")
    guess(gateway, "patient", 5)
    assert fault_of(lambda: gateway.client("EventService", user="patient").Ping()).code.endswith(
        "Client.Authentication")
    clock.advance(timedelta(minutes=16))
    assert gateway.client("PermitService", user="patient").Ping() == clock()


def test_an_address_that_guesses_is_refused_without_checking(gateway, clock, monkeypatch):
    integrator = gateway.client("EventService", user="integrator")
    assert integrator.Ping() == clock()
    for n in range(20):  # spread over many names: no account locks
        guess(gateway, f"name-{n}", 1)
    hashed = []
    real = auth.check_password
    monkeypatch.setattr(auth, "check_password", lambda stored, pw: hashed.append(1) or real(stored, pw))
    newcomer = gateway.client("PermitService", user="admin")
    assert fault_of(lambda: newcomer.Ping()).code.endswith("Client.Authentication")
    assert hashed == []  # refused before the slow hash
    assert integrator.Ping() == clock()  # verified before: still served
    clock.advance(timedelta(minutes=1, seconds=1))
    assert newcomer.Ping() == clock()


def test_user_list_shows_the_lock(gateway, clock, tmp_path):
    url = gateway.store.url
    Users(gateway.store, passwords=USERS).add("listed-lock", PASSWORD, "operator")
    guess(gateway, "listed-lock", 5)
    run = subprocess.run([sys.executable, "-m", "gateway", "--database-url", url, "user", "list"],
                         capture_output=True, text=True, timeout=120)
    line = next(line for line in run.stdout.splitlines() if line.startswith("listed-lock"))
    assert "locked until" in line and "5 failed logins in a row" in line
    run = subprocess.run([sys.executable, "-m", "gateway", "--database-url", url, "user", "unlock", "listed-lock"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert account(gateway, "listed-lock").locked_until is None


def test_a_password_being_hashed_holds_up_no_writer(gateway, clock, monkeypatch):
    events = gateway.client("EventService", user="operator")
    assert events.Ping() == clock()  # verified now: its next requests need no hash
    hashing, release = threading.Event(), threading.Event()
    real = auth.check_password

    def held(stored, password):
        hashing.set()
        release.wait(30)
        return real(stored, password)
    monkeypatch.setattr(auth, "check_password", held)
    wrong = threading.Thread(target=lambda: guess(gateway, "integrator", 1))
    wrong.start()
    try:
        assert hashing.wait(10)
        # The hash is under way (and held there): lane events are written meanwhile.
        decided = events.SubmitEvent(Event={"EventID": f"E-{secrets.token_hex(6)}", "FacilityID": "LOT-TEST",
                                            "CameraID": "CAM-IN", "Direction": "ENTRY", "Timestamp": clock(),
                                            "PlateText": "W" + secrets.token_hex(4).upper()})
        assert decided.Decision == "OPEN"
    finally:
        release.set()
        wrong.join(30)
