"""Backups and restores (issue 19): a consistent copy while events stream in, restored into a new
place where every event acknowledged before it began is found; checksums verified; a database a
gateway serves is never restored over; an older copy is migrated up to the current schema. On
SQLite and PostgreSQL, through SOAP (MaintenanceService) and the CLI."""

import json
import secrets
import subprocess
import sys
import threading
from datetime import datetime, timezone
from urllib.parse import quote

import configs
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from conftest import PG_URL, TEST_CONFIG, SettableClock, migrated_with_users, start_gateway, stop_gateway, unique
from gateway.app.backups import Backups, RestoreRefused, read, restore
from gateway.store.engine import Store
from gateway.store.migrate import MIGRATIONS, upgrade
from test_events import fault_of
from test_hardening import envelope, post

#: The schema's revision now (what a backup says and a restore migrates to).
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


@pytest.fixture(scope="module")
def served(database_url, tmp_path_factory, request):
    """A gateway on the real clock (events are acknowledged now) with its own backup and image folders."""
    folder = tmp_path_factory.mktemp("backups")
    (folder / "images" / "2026").mkdir(parents=True)
    (folder / "images" / "2026" / "entry.jpg").write_bytes(b"\xff\xd8 a picture \xff\xd9")
    raw = {**TEST_CONFIG, "backup": {"directory": str(folder / "kept"), "keep": 2},
           "storage": {"images_dir": str(folder / "images")}}
    migrated_with_users(database_url, request)
    gw = start_gateway(configs.parse(raw, database_url=database_url), SettableClock(datetime.now(timezone.utc)))
    yield gw, folder
    stop_gateway(gw)


def stream(gw, acknowledged, stop):
    n = 0
    while not stop.is_set():
        event_id = unique("B")
        gw.clock.now = datetime.now(timezone.utc)
        status, data = post(gw, envelope(f"""<pg:SubmitEvent><pg:Event><pg:EventID>{event_id}</pg:EventID>
            <pg:FacilityID>LOT-TEST</pg:FacilityID><pg:CameraID>CAM-IN</pg:CameraID><pg:Direction>ENTRY</pg:Direction>
            <pg:Timestamp>{gw.clock.now.isoformat()}</pg:Timestamp><pg:PlateText>B{secrets.token_hex(4).upper()}
            </pg:PlateText></pg:Event></pg:SubmitEvent>"""))
        if status == 200:
            acknowledged.append(event_id)
        n += 1


def new_database(kind, tmp_path, source_url):
    """An empty place to restore into: a new SQLite file, or a new PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'restored' / 'parkgate.db'}", lambda: None
    name = f"test_ops_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0] + "/" + name
    schema = source_url.split("search_path%3D")[1]

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
    return f"{base}?options=-csearch_path%3D{quote(schema)}", drop


def event_ids(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        found = set(conn.execute(text("SELECT event_id FROM lane_events")).scalars())
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    return found, revision


def parkgate(url, *args):
    return subprocess.run([sys.executable, "-m", "gateway", "--database-url", url, *args], capture_output=True,
                          text=True, timeout=300)


def test_backup_under_load_restores_every_acknowledged_event(served, database_url, tmp_path):
    gw, folder = served
    acknowledged, stop = [], threading.Event()
    loaders = [threading.Thread(target=stream, args=(gw, acknowledged, stop)) for _ in range(2)]
    for t in loaders:
        t.start()
    try:
        while len(acknowledged) < 20:
            stop.wait(0.05)
        before = list(acknowledged)
        made = gw.client("MaintenanceService", user="admin").RunBackup()
        while len(acknowledged) < len(before) + 10:  # still serving, during and after
            stop.wait(0.05)
    finally:
        stop.set()
        for t in loaders:
            t.join(30)
    assert made.Verified and made.Images == 1 and made.SchemaRevision == HEAD and len(made.Checksum) == 64
    assert made.Database == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    listed = gw.client("MaintenanceService", user="admin").ListBackups()
    assert made.Name in [b.Name for b in listed]

    target, drop = new_database(made.Database, tmp_path, database_url)
    try:
        run = parkgate(target, "restore", str(folder / "kept" / made.Name), "--images-dir", str(tmp_path / "img"))
        assert run.returncode == 0, run.stderr
        restored, revision = event_ids(target)
        assert set(before) <= restored and revision == HEAD
        assert (tmp_path / "img" / "2026" / "entry.jpg").read_bytes() == b"\xff\xd8 a picture \xff\xd9"
        verify = parkgate(target, "audit", "verify")
        assert verify.returncode == 0, verify.stdout
        again = parkgate(target, "restore", str(folder / "kept" / made.Name))
        assert again.returncode == 2 and "has data" in again.stderr
    finally:
        drop()


def test_a_served_database_is_never_restored_over(served, database_url):
    gw, folder = served
    made = gw.client("MaintenanceService", user="admin").RunBackup()
    with pytest.raises(RestoreRefused, match="serving"):
        restore(folder / "kept" / made.Name, database_url, None, force=True)
    run = parkgate(database_url, "restore", str(folder / "kept" / made.Name), "--force")
    assert run.returncode == 2 and "serving" in run.stderr


def test_keep_and_a_broken_backup(served):
    gw, folder = served
    service = gw.client("MaintenanceService", user="admin")
    names = [service.RunBackup().Name for _ in range(3)]
    kept = [b.Name for b in service.ListBackups()]
    assert kept == names[:0:-1]  # the newest two, newest first
    victim = folder / "kept" / names[-1]
    manifest = json.loads((victim / "manifest.json").read_text())
    copy = next(name for name in manifest["files"] if name.startswith("database"))
    with open(victim / copy, "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x01\x02")
    broken = next(b for b in service.ListBackups() if b.Name == names[-1])
    assert not broken.Verified
    assert read(victim).problem == f"{copy} does not match its checksum"
    with pytest.raises(RestoreRefused, match="does not verify"):
        restore(victim, "sqlite:///nowhere/never.db", None)
    refused = fault_of(lambda: gw.client("MaintenanceService", user="operator").RunBackup())
    assert refused.code.endswith("Client.Authorization")


def test_an_older_copy_is_migrated_up(tmp_path):
    old = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(old, "0006")
    settings = configs.parse({**TEST_CONFIG, "backup": {"directory": str(tmp_path / "kept")}}).ops.backup
    store = Store(old)
    made = Backups(store, old, settings, None, SettableClock())._make()
    store.dispose()
    assert made.revision == "0006"
    target = f"sqlite:///{tmp_path / 'new' / 'parkgate.db'}"
    restore(made.path, target, None)
    assert event_ids(target)[1] == HEAD


def test_scheduled_backups_on_the_job_clock(tmp_path, request):
    from twisted.internet import task
    from twisted.internet.threads import blockingCallFromThread

    from conftest import reactor
    from gateway.service import GatewayService
    from test_plc import until
    url = f"sqlite:///{tmp_path / 'scheduled.db'}"
    migrated_with_users(url, request)
    jobs = task.Clock()
    cfg = configs.parse({**TEST_CONFIG, "backup": {"directory": str(tmp_path / "kept"), "interval_h": 1, "keep": 2}},
                        database_url=url)
    service = GatewayService(cfg, clock=SettableClock(), reactor=reactor, job_clock=jobs)
    blockingCallFromThread(reactor, service.startService)
    try:
        blockingCallFromThread(reactor, jobs.advance, 3599)
        assert service.backups.listing() == []
        blockingCallFromThread(reactor, jobs.advance, 1)
        until(lambda: len(service.backups.listing()) == 1, timeout=30)

        def names():
            return {b.path.name for b in service.backups.listing()}

        for _ in range(3):  # each hour a new backup, and the oldest beyond `keep` pruned once it is written
            before = names()

            def next_hour(before=before):  # (on the reactor: the job clock is advanced where its calls run)
                now = names()
                if not now - before:
                    jobs.advance(3600)  # skipped while the last run is still finishing: the next hour
                return bool(now - before) and len(now) == 2
            until(next_hour, timeout=30, interval=0.2)
        assert all(b.verified for b in service.backups.listing())
    finally:
        blockingCallFromThread(reactor, service.stopService)
