"""Key files made on first use: two processes that start at once on a fresh installation both get
the one key, and neither reads the file while the other is still writing it (CI: a test worker read
an empty audit key, and every gateway of that worker failed to start)."""

import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from gateway.store import audit, keyring, signing


def _secret_of_audit(path):
    return audit.load_key(path).plate_hash("PLATE")


def _secret_of_permits(path):
    return signing.load_permit_key(path).public_key().public_bytes(serialization.Encoding.Raw,
                                                                   serialization.PublicFormat.Raw)


def _secret_of_keyring(path):
    keyring.init(path)
    return path.read_text()


@pytest.mark.parametrize("secret_of", [_secret_of_audit, _secret_of_permits, _secret_of_keyring],
                         ids=["audit", "permit-signing", "keyring"])
def test_a_key_file_made_by_two_processes_at_once_is_one_key_never_half_written(secret_of, tmp_path, monkeypatch):
    path = tmp_path / "var" / "key"
    real_fdopen, meanwhile = os.fdopen, []

    def fdopen(fd, *args, **kwargs):   # the first maker, about to write: the other process loads now
        monkeypatch.setattr(os, "fdopen", real_fdopen)
        meanwhile.append(secret_of(path))
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.delenv(audit.KEY_ENV, raising=False)
    monkeypatch.setattr(os, "fdopen", fdopen)
    first = secret_of(path)
    assert meanwhile == [first]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["key"]   # nothing left aside
