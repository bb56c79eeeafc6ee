"""WS-Security UsernameToken: PasswordText, PasswordDigest with replay and freshness checks, roles."""

from datetime import timedelta

import pytest
from configs import QUICK_PASSWORDS

from conftest import PASSWORD, SettableClock
from gateway.app.auth import (
    PASSWORD_DIGEST,
    PASSWORD_TEXT,
    Authenticator,
    UsernameToken,
    Users,
)
from gateway.domain.errors import AuthenticationFailed
from gateway.domain.passwords import check_password, hash_password
from test_events import fault_of


def test_password_text_authenticates(gateway, clock):
    assert gateway.client("EventService", user="integrator").Ping() == clock()


@pytest.mark.parametrize("user, password", [("operator", "wrong"), ("nobody", PASSWORD), ("operator", "")])
def test_bad_credentials_get_a_fault_that_reveals_nothing(gateway, clock, user, password):
    fault = fault_of(lambda: gateway.client("EventService", user=user, password=password).Ping())
    assert fault.code.endswith("Client.Authentication")
    assert fault.message == "authentication failed"


def test_missing_token_is_refused(gateway, clock):
    fault = fault_of(lambda: gateway.client("EventService", user=None).Ping())
    assert fault.code.endswith("Client.Authentication")


def test_password_digest_with_fresh_nonce(gateway, clock):
    svc = gateway.client("PermitService", user="digester", use_digest=True, created=clock())
    assert svc.Ping() == clock()


def test_password_digest_replay_is_refused(gateway, clock):
    token = dict(use_digest=True, nonce="replayed-nonce-1", created=clock())
    assert gateway.client("EventService", user="digester", **token).Ping() == clock()
    fault = fault_of(lambda: gateway.client("PermitService", user="digester", **token).Ping())
    assert fault.code.endswith("Client.Authentication")


def test_password_digest_outside_the_freshness_window_is_refused(gateway, clock):
    stale = dict(use_digest=True, created=clock() - timedelta(minutes=6))
    assert fault_of(lambda: gateway.client("EventService", user="digester", **stale).Ping()).code.endswith(
        "Client.Authentication")


def test_password_digest_needs_a_user_allowed_to_use_it(gateway, clock):
    token = dict(use_digest=True, created=clock())
    assert fault_of(lambda: gateway.client("EventService", user="operator", **token).Ping()).code.endswith(
        "Client.Authentication")


def test_roles_are_enforced_per_operation(gateway, clock):
    enforcement = gateway.client("EventService", user="enforcement")
    assert enforcement.GetOccupancy(FacilityID="LOT-TEST").Capacity == 500
    fault = fault_of(lambda: enforcement.SubmitEvent(Event={
        "EventID": "E-role", "FacilityID": "LOT-TEST", "CameraID": "CAM-IN", "Direction": "ENTRY",
        "Timestamp": clock(), "PlateText": "ROLE1"}))
    assert fault.code.endswith("Client.Authorization")


def test_passwords_are_stored_as_slow_hashes():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert check_password(stored, "correct horse")
    assert not check_password(stored, "correct horsf")


def test_demo_users_only_on_loopback(gateway):
    Users(gateway.store, passwords=QUICK_PASSWORDS).add("demo-x", "pw-demo-x", "operator", demo=True)
    clock = SettableClock()
    token = UsernameToken("demo-x", "pw-demo-x", PASSWORD_TEXT)
    assert Authenticator(gateway.store, clock, allow_demo=True).authenticate(token) == ("demo-x", "operator")
    with pytest.raises(AuthenticationFailed):
        Authenticator(gateway.store, clock, allow_demo=False).authenticate(token)


def test_digest_token_without_nonce_is_refused(gateway):
    token = UsernameToken("digester", "x", PASSWORD_DIGEST, nonce=None, created="2025-01-22T14:30:45Z")
    with pytest.raises(AuthenticationFailed):
        Authenticator(gateway.store, SettableClock()).authenticate(token)
