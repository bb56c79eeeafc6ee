"""Shared fixtures: a real gateway on a free port, real databases, zeep clients, a test clock.

The Twisted reactor runs in a background thread for the whole session; each gateway is
started and stopped on it with ``blockingCallFromThread``. Tests talk to the gateway over
HTTP on loopback, exactly as a parking platform would.
"""

import asyncio
import functools
import os
import secrets
import shutil
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from gateway.web import reactor as gateway_reactor

gateway_reactor.install(asyncio.new_event_loop())  # as `parkgate serve` does: pymodbus runs on it

import configs  # noqa: E402
import psycopg  # noqa: E402
import pytest  # noqa: E402
import zeep  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from twisted.internet import reactor  # noqa: E402
from twisted.internet.threads import blockingCallFromThread  # noqa: E402
from zeep.wsse.username import UsernameToken  # noqa: E402

from gateway.app.auth import PasswordPolicy, Users  # noqa: E402
from gateway.service import GatewayService  # noqa: E402
from gateway.store.engine import Store  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.turns import lock_key  # noqa: E402

PG_URL = os.environ.get("PARKGATE_TEST_PG_URL")
PASSWORD = "s3cret-for-tests"
FACILITY = "LOT-TEST"

#: Three facilities: a garage with entry, exit and two-way lanes, a permit-only lot and a lot of one space.
TEST_CONFIG = configs.gateway(
    configs.facility("LOT-TEST", configs.lane("CAM-IN", 1, "ENTRY"), configs.lane("CAM-OUT", 2, "EXIT"),
                     configs.lane("CAM-BOTH", 3, "BOTH"), name="Test Garage", capacity=500,
                     timezone="America/New_York", currency="USD",
                     tariff_=configs.tariff("HOURLY-TEST", "3.00", "24.00", grace_minutes=15, period_minutes=60,
                                            lost_ticket="40.00", exit_after_payment_minutes=15),
                     citations={"EXPIRED_TIME": ("50.00", 30), "FIRE_LANE": ("150.00", 14)}),
    configs.facility("LOT-SMALL", configs.lane("SMALL-IN", 1, "ENTRY"), name="Small Permit Lot", capacity=1,
                     permit_only=True, tariff_=configs.tariff("FLAT", "5.00", "5.00", grace_minutes=0)),
    configs.facility("LOT-TINY", configs.lane("TINY-IN", 1, "BOTH"), name="Tiny Public Lot", capacity=1,
                     tariff_=configs.tariff("FLAT", "5.00", "5.00", grace_minutes=10)),
    server={"max_body_bytes": 65536, "threads": 8}, decisions={"confidence_threshold": "0.85"})

USERS = {"admin": "admin", "operator": "operator", "integrator": "integrator", "enforcement": "enforcement",
         "digester": "integrator"}


class SettableClock:
    """The gateway's notion of now, set by the test (timezone-aware UTC)."""

    def __init__(self, now=None):
        self.now = now or datetime(2025, 1, 22, 14, 30, 45, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, delta):
        self.now += delta


@pytest.fixture(scope="session", autouse=True)
def reactor_thread():
    if not reactor.running:
        thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True)
        thread.start()
        ready = threading.Event()
        reactor.callFromThread(ready.set)
        assert ready.wait(10), "the reactor did not start"
    yield reactor
    # The reactor thread is a daemon; it dies with the test process.


@pytest.fixture(scope="module")
def receiver():
    """An HTTP relay destination on the reactor (``legacy.doubles.HttpReceiver``), shared by a module's tests."""
    from legacy.doubles import HttpReceiver

    r = HttpReceiver()
    blockingCallFromThread(reactor, r.start)
    yield r
    blockingCallFromThread(reactor, r.stop)


def _fresh_pg_schema():
    """A schema of its own in the CI database: tests never see each other's rows."""
    name = f"t_{secrets.token_hex(6)}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    engine.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{name}", name


def blank_database(kind, tmp_path):
    """(url, schema) of an empty database of ``kind`` ("sqlite" or "postgres": a schema of its own,
    skipped without PARKGATE_TEST_PG_URL), for a test that brings it up to an old revision itself."""
    if kind == "postgres":
        if not PG_URL:
            pytest.skip("PostgreSQL tests need PARKGATE_TEST_PG_URL")
        return _fresh_pg_schema()
    return f"sqlite:///{tmp_path / 'old.db'}", None


def _drop_pg_schema(name):
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], scope="module")
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'parkgate.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need PARKGATE_TEST_PG_URL")
    url, schema = _fresh_pg_schema()
    yield url
    _drop_pg_schema(schema)


class RunningGateway:
    def __init__(self, service, clock):
        self.service = service
        self.clock = clock
        self._clients = {}

    @property
    def base_url(self):
        return self.service.base_url

    @property
    def store(self):
        return self.service.store

    def url(self, name):
        return f"{self.base_url}/soap/{name}"

    def client(self, name, user="operator", password=PASSWORD, **wsse):
        key = (name, user, password, tuple(sorted(wsse.items())))
        if key not in self._clients:
            token = UsernameToken(user, password, **wsse) if user else None
            self._clients[key] = zeep.Client(self.url(name) + "?wsdl", wsse=token)
        return self._clients[key].service


def make_config(database_url, **overrides):
    return configs.parse(TEST_CONFIG, database_url=database_url, **overrides)


def start_gateway(cfg, clock):
    upgrade(cfg.database_url, keys=cfg.ops.key_ring())
    service = GatewayService(cfg, clock=clock, reactor=reactor)
    blockingCallFromThread(reactor, service.startService)
    return RunningGateway(service, clock)


def stop_gateway(gw):
    blockingCallFromThread(reactor, gw.service.stopService)


@functools.cache
def _test_user_hash(username):
    """A test user's password hash, made once a session: scrypt is what the authentication tests
    measure, not what every module's databases need (each user keeps a salt of its own)."""
    return configs.QUICK_PASSWORDS.hash(PASSWORD)


@dataclass(frozen=True)
class _RememberedPasswords(PasswordPolicy):
    """QUICK_PASSWORDS, with the test password of ``username`` hashed once a session."""
    username: str = ""

    def hash(self, password):
        return _test_user_hash(self.username) if password == PASSWORD else super().hash(password)


def add_test_users(database_url):
    store = Store(database_url)
    for username, role in USERS.items():
        Users(store, passwords=_RememberedPasswords(n=configs.QUICK_PASSWORDS.n, username=username)).add(
            username, PASSWORD, role, allow_digest=(username == "digester"))
    store.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    """A SQLite database migrated to head with the test users, made once a session and copied."""
    path = tmp_path_factory.mktemp("template") / "parkgate.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    add_test_users(url)
    return path


def _libpq(url):
    """The URL as libpq (pg_dump, psycopg) spells it: without SQLAlchemy's driver name."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def _pg_template():
    """A PostgreSQL schema migrated to head with the test users, made once a session and kept as
    the SQL (pg_dump) that makes it again, and the schema's name in that SQL: the counterpart of
    ``_sqlite_template`` (a schema cannot be copied in PostgreSQL, a database can but is not what
    the tests get)."""
    url, name = _fresh_pg_schema()
    try:
        upgrade(url)
        add_test_users(url)
        dump = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", "--inserts", "--schema", name,
                               _libpq(PG_URL)], capture_output=True, text=True, check=True, timeout=120).stdout
    finally:
        _drop_pg_schema(name)
    # \restrict and the like are psql's commands; the copy's schema is made already.
    sql = "\n".join(line for line in dump.splitlines()
                    if not line.startswith("\\") and line != f"CREATE SCHEMA {name};")
    return sql, name


def _pg_schema_of(database_url):
    return database_url.split("search_path%3D", 1)[1] if "search_path%3D" in database_url else None


def _pg_copy_template(database_url, request):
    """Fill ``database_url``'s schema, still empty, from the session's template; whether it was empty."""
    schema = _pg_schema_of(database_url)
    if schema is None:
        return False
    with psycopg.connect(_libpq(PG_URL)) as conn:
        if conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s LIMIT 1",
                        (schema,)).fetchone():
            return False
        sql, template = request.getfixturevalue("_pg_template")
        conn.execute(sql.replace(template, schema))
    return True


def migrated_with_users(database_url, request):
    """Migrate ``database_url`` to head and add the test users; a SQLite file not made yet, or a
    PostgreSQL schema still empty, is a copy of the session's template (the same schema and rows,
    without running the migrations)."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and not os.path.exists(database_url[len(prefix):]):
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), database_url[len(prefix):])
        return
    if database_url.startswith("postgresql") and _pg_copy_template(database_url, request):
        return
    upgrade(database_url)
    add_test_users(database_url)


@pytest.fixture(scope="module")
def gateway(database_url, request):
    """A running gateway on its own database, shared by the tests of one module."""
    clock = SettableClock()
    cfg = make_config(database_url)
    migrated_with_users(database_url, request)
    gw = start_gateway(cfg, clock)
    yield gw
    stop_gateway(gw)


@pytest.fixture
def clock(gateway):
    """The gateway's clock, reset for each test."""
    gateway.clock.now = SettableClock().now
    return gateway.clock


def waits_for_a_turn(store, *what):
    """Whether a unit of work waits for the turn of ``what`` (gateway.store.turns): on PostgreSQL, a
    backend of this database waiting on that advisory lock (not any: other tests share the server);
    on SQLite, a unit waiting for the writer (units take turns there anyway)."""
    if store.dialect == "sqlite":
        return store._waiting > 0
    key = lock_key(*what) & 0xFFFF_FFFF_FFFF_FFFF   # a bigint lock: classid its high half, objid its low
    with store.engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = :high AND objid::bigint = :low"), {"high": key >> 32, "low": key & 0xFFFF_FFFF}
        ).scalar() > 0


def unique(prefix="E"):
    return f"{prefix}-{secrets.token_hex(6)}"


def unique_plate():
    return "T" + secrets.token_hex(4).upper()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test item (``item.rep_call``): browser tests screenshot a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
