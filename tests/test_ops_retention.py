"""Retention (issue 19): images, plates, records and the activity log kept as long as configured,
then removed or anonymised in small batches by a registry of purge steps; open sessions and unpaid
citations stay; the audit chain still verifies; the job runs on an injected clock; SQLite gives the
freed pages back. On SQLite and PostgreSQL, over SOAP and the CLI."""

import threading
from datetime import date, timedelta

import configs
import pytest
from sqlalchemy import func, select, text
from twisted.internet import task
from twisted.internet.threads import blockingCallFromThread

from conftest import FACILITY, TEST_CONFIG, SettableClock, add_test_users, reactor, unique, unique_plate
from gateway.app.retention import PurgeStep, Retention
from gateway.service import GatewayService
from gateway.store import audit as audit_store
from gateway.store.engine import Store
from gateway.store.migrate import upgrade
from gateway.store.schema import LaneEventRecord, ReviewRecord, SessionRecord
from test_events import issue_permit
from test_plc import until


def submit(gateway, plate, direction="ENTRY", camera="CAM-IN", confidence="0.97"):
    return gateway.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": FACILITY, "CameraID": camera, "Direction": direction,
        "Timestamp": gateway.clock(), "PlateText": plate, "Confidence": confidence})


def count(gateway, model, *where):
    with gateway.store.connection() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_each_kind_of_data_for_as_long_as_configured(gateway, clock):
    visitor, parked, unsure = unique_plate(), unique_plate(), unique_plate()
    submit(gateway, visitor)
    submit(gateway, visitor, "EXIT", "CAM-OUT")          # a closed session
    submit(gateway, parked)                              # still parked: stays, however old
    submit(gateway, unsure, confidence="0.40")           # a review
    issue_permit(gateway, unique_plate(), valid_from=date(2025, 1, 1), valid_until=date(2025, 1, 31))
    with gateway.store.connection() as conn:
        conn.execute(text("UPDATE reviews SET image = :img"), {"img": b"picture"})
    maintenance = gateway.client("MaintenanceService", user="admin")

    clock.advance(timedelta(days=31))                    # past the plates' 30 days, not the records' 183
    run = maintenance.RunRetention(Wait=True)
    rows = {s.Step: s.Rows for s in run.Step}
    assert run.Started and run.Error is None and rows["event_plates"] >= 3 and rows["session_plates"] >= 1
    assert count(gateway, LaneEventRecord, LaneEventRecord.plate_index == visitor) == 0
    with gateway.store.connection() as conn:
        docs = conn.execute(select(LaneEventRecord.document)).scalars().all()
        plates = conn.execute(select(SessionRecord.plate, SessionRecord.status)).all()
    assert not any(visitor in d for d in docs)
    assert ("ANONYMISED", "CLOSED") in plates and (parked, "OPEN") in plates
    assert count(gateway, ReviewRecord, ReviewRecord.image.is_not(None)) >= 1   # images: 90 days

    clock.advance(timedelta(days=60))
    assert {s.Step: s.Rows for s in maintenance.RunRetention(Wait=True).Step}["review_images"] >= 1
    assert count(gateway, ReviewRecord, ReviewRecord.image.is_not(None)) == 0

    clock.advance(timedelta(days=120))                   # past the records' 183 days
    rows = {s.Step: s.Rows for s in maintenance.RunRetention(Wait=True).Step}
    assert rows["lane_events"] >= 4 and rows["closed_sessions"] >= 1 and rows["ended_permits"] >= 1
    assert count(gateway, LaneEventRecord) == 0
    assert count(gateway, SessionRecord, SessionRecord.status == "CLOSED") == 0
    assert count(gateway, SessionRecord, SessionRecord.plate_index == parked) == 1
    check = gateway.client("AuditService", user="admin").VerifyAudit()
    assert check.Verified
    last = gateway.client("AuditService", user="admin").QueryAudit(Action="RetentionRun", Limit=1000)[-1]
    assert last.Kind == "SYSTEM" and "lane_events" in last.Detail and last.User == "admin"


def test_the_audit_log_past_its_retention_still_verifies(database_url, tmp_path):
    upgrade(database_url)
    clock = SettableClock()
    cfg = configs.parse({**TEST_CONFIG, "retention": {"audit_days": 30, "batch": 7, "pause_s": 0}},
                        database_url=database_url)
    store = GatewayService(cfg, clock=clock).store
    try:
        with store.connection() as conn:
            conn.execute(text("DELETE FROM audit_log"))
            conn.execute(text("UPDATE audit_head SET first_id = NULL, last_id = NULL, last_hash = :g"),
                         {"g": "0" * 64})
        for i in range(20):
            with store.connection() as conn:
                audit_store.record(conn, clock(), "admin", "ListHotlist", f"P{i}", None, plates=[f"P{i}A", f"P{i}B"])
            clock.advance(timedelta(days=2))
        retention = Retention(store, cfg.ops.retention, clock, sleep=lambda s: None)
        run = retention.run("admin")
        assert run.rows["audit_log"] == 20 - 15 and run.error is None
        with store.connection() as conn:   # the plates the purged entries showed went with them
            assert conn.execute(text("SELECT count(*) FROM audit_plates")).scalar() == 15 * 2
        from gateway.app.audit import Audit
        check = Audit(store, clock).verify()
        assert check.verified and check.entries == 16  # 15 kept and the run's own entry
        with store.connection() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT MIN(id) FROM audit_log)"))
        broken = Audit(store, clock).verify()
        assert not broken.verified and "start" in broken.problem
    finally:
        store.dispose()


def test_other_tables_plug_in_a_step_in_order(gateway, clock):
    retention = gateway.service.retention
    calls = []

    def tickets(conn, cutoff, limit, cursor=None):
        calls.append((cutoff, limit, cursor))
        done = len(calls) >= 3
        return 2, len(calls), done
    retention.register(PurgeStep("tickets", "records", tickets), before="closed_sessions")
    try:
        names = [s.name for s in retention.steps]
        assert names.index("tickets") == names.index("closed_sessions") - 1
        run = retention.run("admin")
        assert run.rows["tickets"] == 6 and [c[2] for c in calls] == [None, 1, 2]   # batches, cursor handed on
        assert calls[0][0] == clock() - timedelta(days=183) and calls[0][1] == 500
    finally:
        retention.steps = [s for s in retention.steps if s.name != "tickets"]


def test_the_job_runs_on_its_clock(database_url):
    upgrade(database_url)
    add_test_users(database_url)
    jobs = task.Clock()
    cfg = configs.parse({**TEST_CONFIG, "retention": {"interval_s": 600}, "audit": {"verify_interval_s": 300}},
                        database_url=database_url)
    service = GatewayService(cfg, clock=SettableClock(), reactor=reactor, job_clock=jobs)
    blockingCallFromThread(reactor, service.startService)
    try:
        assert service.retention.last is None
        blockingCallFromThread(reactor, jobs.advance, 599)
        assert service.retention.last is None
        blockingCallFromThread(reactor, jobs.advance, 1)
        until(lambda: service.retention.last is not None, timeout=30)
        assert service.retention.last.error is None
    finally:
        blockingCallFromThread(reactor, service.stopService)


def test_sqlite_gives_the_freed_pages_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'vacuum.db'}"
    upgrade(url)
    clock = SettableClock()
    cfg = configs.parse({**TEST_CONFIG, "retention": {"pause_s": 0}}, database_url=url)
    store = GatewayService(cfg, clock=clock).store
    try:
        with store.connection() as conn:
            conn.execute(text("INSERT INTO lane_incidents (at, facility_id, lane_number, kind, detail) "
                              "VALUES (:at, 'LOT-TEST', 1, 'NO_PASSAGE', :d)"),
                         [{"at": clock().replace(tzinfo=None), "d": "x" * 400} for _ in range(3000)])
        clock.advance(timedelta(days=400))
        retention = Retention(store, cfg.ops.retention, clock, sleep=lambda s: None)
        assert retention.run("admin").rows["lane_incidents"] == 3000
        with store.connection() as conn:
            driver = conn.connection.driver_connection
            assert driver.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
            assert driver.execute("PRAGMA freelist_count").fetchone()[0] == 0
    finally:
        store.dispose()


def test_cli_runs_it(gateway, clock):
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "gateway", "--database-url", gateway.service.config.database_url,
                          "retention", "run"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "lane_events" in run.stdout and "retention run in" in run.stdout


def test_batches_are_sized_to_their_hold_and_rest_for_the_rest_of_their_share(gateway, clock):
    """A step whose rows cost 0.1 ms each (on a timer the test keeps): its batches shrink from
    [retention] batch towards HOLD_S (10 ms: 100 rows), at most halving at a time, and after each
    the job rests so that it holds the database SHARE (a half) of the time, never less than pause_s."""
    now, sizes, rests = [0.0], [], []

    def slow(conn, cutoff, limit, cursor=None):
        sizes.append(limit)
        now[0] += limit * 0.0001
        return limit, (cursor or 0) + 1, len(sizes) >= 8
    service = gateway.service
    retention = Retention(service.store, service.config.ops.retention, clock, sleep=rests.append,
                          timer=lambda: now[0])
    retention.steps = [PurgeStep("slow", "records", slow)]
    assert retention.run("admin").rows["slow"] == sum(sizes)
    assert (Retention.HOLD_S, Retention.SHARE) == (0.01, 0.5)
    assert sizes == [500, 250, 125, 100, 100, 100, 100, 100]
    assert rests[0] == pytest.approx(0.05)                        # 500 rows held it 50 ms: as long again
    assert rests[-1] == pytest.approx(0.02)                       # 10 ms: pause_s, 20 ms, is the least
    assert len(rests) == 7                                        # none after the last batch


def test_a_purge_batch_commits_alone_and_unsynced(tmp_path):
    """SQLite: a unit that may be lost (durable=False) commits at once with synchronous=NORMAL, even
    while a lane event waits for its turn; every other unit syncs as configured."""
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    upgrade(url)
    store = Store(url)
    level = "SELECT * FROM pragma_synchronous"
    try:
        waiting = threading.Event()

        def lane():
            waiting.set()
            with store.connection() as conn:
                return conn.exec_driver_sql(level).scalar()
        with store.connection(background=True, durable=False) as conn:
            assert conn.exec_driver_sql(level).scalar() == 1              # NORMAL
            conn.exec_driver_sql("DELETE FROM lane_incidents")
            thread = threading.Thread(target=lane)
            thread.start()
            assert waiting.wait(10)
            until(lambda: store._waiting > 0, timeout=10)
            assert store._group is not None
        assert store._group is None or store._group.members == 0          # committed, not left open
        thread.join(10)
        with store.connection() as conn:
            assert conn.exec_driver_sql(level).scalar() == 2              # FULL again
    finally:
        store.dispose()
