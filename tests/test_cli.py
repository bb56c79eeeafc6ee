"""The parkgate command line, run as a user would run it."""

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conftest import SettableClock
from gateway import config as configuration
from gateway import demo
from gateway.app.auth import PASSWORD_TEXT, Authenticator, UsernameToken
from gateway.domain.errors import AuthenticationFailed
from gateway.domain.users import ROLES
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


def test_the_command_line_and_its_configuration_import_no_heavy_library():
    """Each command imports what it needs: the command line itself and the configuration (every command reads it)
    leave Twisted, OpenCV, requests, SQLAlchemy, spyne and pymodbus to the commands (a start in 0.2 s, not 1-3 s)."""
    heavy = ("twisted", "cv2", "numpy", "requests", "sqlalchemy", "spyne", "pymodbus")
    code = ("import sys; import gateway.cli; from gateway import config; config.load(None); "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


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


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "ten"])
def test_an_amount_that_is_no_number_is_refused_by_the_command_line(tmp_path, amount):
    """--float Infinity opened a shift with an infinite float; --float NaN ended in a traceback."""
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    for args in (["shift", "open", "--officer", "o", "--facility", "LOT-DOWNTOWN-A", "--float", amount],
                 ["pay", "--officer", "o", "--session", "S-1", "--tendered", amount]):
        run = parkgate(*args, db=db)
        assert run.returncode == 2 and "invalid amount value" in run.stderr and "Traceback" not in run.stderr


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


def test_wsdls_are_checked_against_the_published_address_whatever_the_gateway_listens_on(tmp_path):
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('[server]\nlisten = "127.0.0.1:9931"\n')
    check = parkgate("--config", str(cfg), "wsdl", "--check")
    assert check.returncode == 0, check.stderr
    printed = parkgate("--config", str(cfg), "wsdl")
    assert 'location="http://127.0.0.1:9931/soap/EventService"' in printed.stdout  # printed as this one serves


def test_wsdl_into_a_pipe_that_closes_early_ends_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "wsdl"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(200)  # `parkgate wsdl | head`
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and proc.returncode == 0, err


def test_users_can_be_listed_and_disabled(tmp_path):
    db = f"sqlite:///{tmp_path / 'users.db'}"
    assert parkgate("user", "add", "clerk", "--role", "operator", "--password", "pw-123456", db=db).returncode == 0
    listed = parkgate("user", "list", db=db)
    assert listed.returncode == 0 and listed.stdout.split() == ["clerk", "operator"]
    assert parkgate("user", "disable", "clerk", db=db).returncode == 0
    assert parkgate("user", "list", db=db).stdout.split() == ["clerk", "operator", "disabled"]
    store = Store(db)
    with pytest.raises(AuthenticationFailed):
        Authenticator(store, SettableClock()).authenticate(UsernameToken("clerk", "pw-123456", PASSWORD_TEXT))
    store.dispose()
    unknown = parkgate("user", "disable", "nobody", db=db)
    assert unknown.returncode == 2 and "nobody" in unknown.stderr


def test_the_hotlist_can_be_listed(tmp_path):
    db = f"sqlite:///{tmp_path / 'hot.db'}"
    assert "empty" in parkgate("hotlist", "list", db=db).stdout
    assert parkgate("hotlist", "add", "xyz-987", "--reason", "unpaid fees", "--facility", "LOT-DOWNTOWN-A",
                    db=db).returncode == 0
    listed = parkgate("hotlist", "list", db=db).stdout
    assert "XYZ987" in listed and "LOT-DOWNTOWN-A" in listed and "unpaid fees" in listed
    unknown = parkgate("hotlist", "add", "ABC1", "--reason", "x", "--facility", "LOT-NOWHERE", db=db)
    assert unknown.returncode == 2 and "LOT-NOWHERE" in unknown.stderr

    # An entry past its expiry is listed only when asked for.
    from datetime import datetime, timedelta, timezone

    from gateway.app.hotlist import Hotlist
    lapsed = datetime.now(timezone.utc) - timedelta(days=2)
    store = Store(db)
    Hotlist({}, store, clock=lambda: lapsed).add(
        "OLD-111", "sought last week", expires_at=lapsed + timedelta(days=1))
    store.dispose()
    listed = parkgate("hotlist", "list", db=db).stdout
    assert "XYZ987" in listed and "OLD111" not in listed
    assert "OLD111" in parkgate("hotlist", "list", "--include-expired", db=db).stdout


def test_demo_passwords_are_written_where_the_readme_says(tmp_path):
    elsewhere = configuration.parse({"database": {"url": f"sqlite:///{tmp_path / 'elsewhere' / 'db.sqlite'}"}})
    assert elsewhere.demo_users_file == configuration.REPO_ROOT / "var" / "demo-users.txt"
    cfg = elsewhere.override(demo_users_file=tmp_path / "var" / "demo-users.txt")
    upgrade(cfg.database_url)
    store = Store(cfg.database_url)
    lines = demo.seed(cfg, store, SettableClock())
    store.dispose()
    assert [line.split()[0] for line in lines] == [f"demo-{role}" for role in ROLES]
    assert cfg.demo_users_file.read_text().splitlines() == lines
    assert cfg.demo_users_file.stat().st_mode & 0o077 == 0  # the owner's only
