"""The parkgate command line, run as a user would run it."""

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conftest import SettableClock
from gateway import config as configuration
from gateway.app.auth import PASSWORD_TEXT, Authenticator, UsernameToken
from gateway.store.engine import Store
from gateway.store.migrate import upgrade
from gateway.store.schema import Base, HotlistRecord


def parkgate(*args, db=None, input=None):
    extra = ["--database-url", db] if db else []
    return subprocess.run([sys.executable, "-m", "gateway", *extra, *args], capture_output=True, text=True,
                          input=input, timeout=120)


@pytest.mark.parametrize("args", [[], ["serve"], ["wsdl"], ["user", "add"], ["db", "upgrade"], ["hotlist", "add"]])
def test_help(args):
    run = parkgate(*args, "--help")
    assert run.returncode == 0, run.stderr
    assert "usage: parkgate" in run.stdout


def test_checked_in_wsdls_are_current():
    run = parkgate("wsdl", "--check")
    assert run.returncode == 0, run.stderr


def test_user_add_and_hotlist(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    run = parkgate("user", "add", "gatekeeper", "--role", "operator", "--password", "pw-123456", db=db)
    assert run.returncode == 0, run.stderr
    store = Store(db)
    token = UsernameToken("gatekeeper", "pw-123456", PASSWORD_TEXT)
    assert Authenticator(store, SettableClock()).authenticate(token) == ("gatekeeper", "operator")

    generated = parkgate("user", "add", "robot", "--role", "integrator", db=db, input="")
    assert "generated password:" in generated.stdout

    assert parkgate("hotlist", "add", "abc 123", "--reason", "stolen", db=db).returncode == 0
    with store.transaction() as s:
        assert [h.plate for h in s.query(HotlistRecord)] == ["ABC123"]
    assert "1 hotlist entry removed" in parkgate("hotlist", "remove", "ABC-123", db=db).stdout
    bad = parkgate("user", "add", "x", "--role", "king", db=db)
    assert bad.returncode == 2
    store.dispose()


def test_bad_configuration_is_reported(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[facility]]\nid = "A"\n[facility.tariff]\nrate_code = "R"\nprice_per_period = 3.0\n'
                   'daily_maximum = "24"\n')
    run = subprocess.run([sys.executable, "-m", "gateway", "--config", str(cfg), "db", "upgrade"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "floats lose cents" in run.stderr


def test_migrations_match_the_models(database_url):
    upgrade(database_url)
    store = Store(database_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.dispose()
    assert diff == []


def test_recognition_precision_is_a_checked_setting(tmp_path):
    cfg = tmp_path / "bf16.toml"
    cfg.write_text('[recognition]\nprecision = "BF16"\n')
    assert configuration.load(cfg).recognition.precision == "bf16"
    cfg.write_text('[recognition]\nprecision = "int4"\n')
    with pytest.raises(configuration.ConfigError, match="recognition.precision"):
        configuration.load(cfg)
