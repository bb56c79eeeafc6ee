"""SQLite group commit (gateway.store.engine.Store.connection), and PostgreSQL's for ``grouped`` units
(the audit chain's appends): units of work that wait for the writer while another writes share its
commit; each still returns only once its changes are on disk, and a unit that fails takes back only
its own changes. Real SQLite files and PostgreSQL, real threads; each test holds the first unit open
until the others are queued behind it. And the reads beside them: autocommit on both, on SQLite on a
connection each thread keeps."""

import sqlite3
import threading
from datetime import datetime, timezone

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from conftest import PG_URL, _drop_pg_schema, _fresh_pg_schema
from gateway.store.engine import CommitFailed, Store
from gateway.store.migrate import upgrade
from gateway.store.schema import AuditRecord

AUDIT = AuditRecord.__table__


@pytest.fixture
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'group.db'}"
    upgrade(url)
    store = Store(url)
    yield store
    store.dispose()


@pytest.fixture
def pg_store():
    if not PG_URL:
        pytest.skip("PostgreSQL tests need PARKGATE_TEST_PG_URL")
    url, schema = _fresh_pg_schema()
    upgrade(url)
    store = Store(url)
    yield store
    store.dispose()
    _drop_pg_schema(schema)


def committed_subjects(store):
    """What another connection (another process, after a crash) would read."""
    if store.dialect != "sqlite":
        with store.engine.connect() as other:
            return {row[0] for row in other.execute(text("SELECT subject FROM audit_log"))}
    with sqlite3.connect(store.url.removeprefix("sqlite:///")) as other:
        return {row[0] for row in other.execute("SELECT subject FROM audit_log")}


def unit(store, subject, outcomes, fail=False, hold=None, grouped=False):
    """A unit of work writing one row; records what it saw once its block returned."""
    def run():
        try:
            with store.connection(grouped=grouped) as conn:
                conn.execute(insert(AUDIT), dict(at=datetime.now(timezone.utc), username="t", action="test",
                                                 subject=subject))
                if hold:
                    hold[0].set()
                    hold[1].wait(10)
                if fail:
                    raise ValueError("this unit fails after writing")
            outcomes[subject] = subject in committed_subjects(store)  # on disk when the block returns
        except Exception as e:  # noqa: BLE001 - asserted by the tests
            outcomes[subject] = e
    return threading.Thread(target=run)


def run_group(store, first, others):
    """``first`` writes and holds the writer until ``others`` all wait behind it, then they run."""
    inside, release = threading.Event(), threading.Event()
    outcomes = {}
    threads = [unit(store, first[0], outcomes, hold=(inside, release), **first[1])]
    threads[0].start()
    assert inside.wait(10)
    for subject, options in others:
        threads.append(unit(store, subject, outcomes, **options))
        threads[-1].start()
    queued = threading.Event()
    for _ in range(2000):  # until every other unit waits for the writer
        if store._waiting == len(others):
            break
        queued.wait(0.005)
    assert store._waiting == len(others)
    release.set()
    for t in threads:
        t.join(10)
    return outcomes


def count_commits(store):
    commits = []
    event.listen(store.engine, "commit", lambda conn: commits.append(1))
    return commits


def test_units_waiting_for_the_writer_share_one_commit_and_each_returns_once_it_is_on_disk(store):
    commits = count_commits(store)
    outcomes = run_group(store, ("A", {}), [("B", {}), ("C", {})])
    assert outcomes == {"A": True, "B": True, "C": True}
    assert len(commits) == 1


def test_a_unit_alone_commits_at_once(store):
    commits = count_commits(store)
    outcomes = {}
    t = unit(store, "alone", outcomes)
    t.start()
    t.join(10)
    assert outcomes == {"alone": True} and len(commits) == 1


def test_a_failing_unit_takes_back_only_its_own_changes(store):
    outcomes = run_group(store, ("A", {}), [("B", {"fail": True}), ("C", {})])
    assert isinstance(outcomes["B"], ValueError)
    assert outcomes["A"] is True and outcomes["C"] is True
    assert committed_subjects(store) == {"A", "C"}


def test_a_failing_first_unit_leaves_the_others_to_commit(store):
    outcomes = run_group(store, ("A", {"fail": True}), [("B", {}), ("C", {})])
    assert isinstance(outcomes["A"], ValueError)
    assert committed_subjects(store) == {"B", "C"}


def test_a_commit_that_fails_fails_every_unit_of_its_group_and_the_next_unit_commits(store):
    failing = [True]

    def disk_fails(conn):
        if failing.pop() if failing else False:
            raise OSError("disk I/O error")
    event.listen(store.engine, "commit", disk_fails)
    outcomes = run_group(store, ("A", {}), [("B", {}), ("C", {})])
    assert all(isinstance(outcomes[s], CommitFailed) for s in "ABC"), outcomes
    assert committed_subjects(store) == set()
    after = {}
    t = unit(store, "D", after)
    t.start()
    t.join(10)
    assert after == {"D": True} and committed_subjects(store) == {"D"}


@pytest.mark.postgres
def test_grouped_units_on_postgresql_share_one_commit_and_a_failing_one_takes_back_only_its_own(pg_store):
    commits = count_commits(pg_store)
    grouped = {"grouped": True}
    outcomes = run_group(pg_store, ("A", grouped), [("B", {**grouped, "fail": True}), ("C", grouped)])
    assert outcomes["A"] is True and outcomes["C"] is True and isinstance(outcomes["B"], ValueError)
    assert committed_subjects(pg_store) == {"A", "C"} and len(commits) == 1
    # A unit that is not grouped commits on its own, as before.
    alone = {}
    t = unit(pg_store, "D", alone)
    t.start()
    t.join(10)
    assert alone == {"D": True} and len(commits) == 2


@pytest.mark.postgres
def test_a_group_whose_connection_dies_tells_every_member_and_the_next_unit_connects_afresh(pg_store):
    """The server ends the group's connection between two units: no member is left waiting for a
    commit that cannot come; the units after them commit on a new connection."""
    inside, release, backend = threading.Event(), threading.Event(), []
    outcomes = {}

    def first():
        try:
            with pg_store.connection(grouped=True) as conn:
                conn.execute(insert(AUDIT), dict(at=datetime.now(timezone.utc), username="t", action="test",
                                                 subject="A"))
                backend.append(conn.execute(text("SELECT pg_backend_pid()")).scalar())
                inside.set()
                release.wait(10)
            outcomes["A"] = True
        except Exception as e:  # noqa: BLE001 - asserted below
            outcomes["A"] = e
    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert inside.wait(10)
    for subject in "BC":
        threads.append(unit(pg_store, subject, outcomes, grouped=True))
        threads[-1].start()
    for _ in range(2000):
        if pg_store._waiting == 2:
            break
        inside.wait(0.005)
    with pg_store.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend[0]})
    release.set()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads)
    assert isinstance(outcomes["A"], CommitFailed)
    failed = [s for s in "BC" if outcomes[s] is not True]
    assert failed and all(isinstance(outcomes[s], Exception) for s in failed)
    after = {}
    t = unit(pg_store, "D", after, grouped=True)
    t.start()
    t.join(10)
    assert after == {"D": True} and "A" not in committed_subjects(pg_store) and "D" in committed_subjects(pg_store)


def terminate(store, pid):
    """Kill a backend from outside the store's pool, and wait until it is gone."""
    killer = create_engine(store.url, poolclass=NullPool)
    try:
        with killer.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            for _ in range(2000):
                if not other.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                     {"pid": pid}).scalar():
                    return
                other.rollback()
            raise AssertionError(f"backend {pid} still there")
    finally:
        killer.dispose()


def test_killed_idle_connection_is_replaced_without_a_ping(pg_store):
    """No SELECT 1 before each checkout (pool_pre_ping): a pooled or held connection whose backend was
    killed while idle is found dead at checkout without a round trip and replaced; no unit fails."""
    assert not pg_store.engine.pool._pre_ping
    with pg_store.read() as conn:
        pooled = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    terminate(pg_store, pooled)
    with pg_store.read() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pooled
    with pg_store.connection(grouped=True) as conn:
        held = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    terminate(pg_store, held)
    outcomes = {}
    t = unit(pg_store, "after-kill", outcomes, grouped=True)
    t.start()
    t.join(10)
    assert outcomes == {"after-kill": True} and "after-kill" in committed_subjects(pg_store)



def test_reads_run_without_a_transaction_and_units_keep_theirs(pg_store):
    """read() on PostgreSQL is autocommit (no BEGIN, no ROLLBACK: one round trip a statement), and the
    pooled connection it used is transactional again for the next unit of work: one that raises
    takes its row back."""
    with pg_store.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        driver = conn.connection.driver_connection
        assert driver.autocommit and driver.info.transaction_status == TransactionStatus.IDLE
    with pytest.raises(RuntimeError), pg_store.connection() as conn:
        conn.execute(insert(AUDIT), dict(at=datetime.now(timezone.utc), username="t", action="test",
                                         subject="taken-back"))
        driver = conn.connection.driver_connection
        assert not driver.autocommit and driver.info.transaction_status == TransactionStatus.INTRANS
        raise RuntimeError("the unit fails")
    assert "taken-back" not in committed_subjects(pg_store)


def test_a_thread_keeps_its_sqlite_reader_which_sees_each_commit_and_holds_no_snapshot(store):
    """read() on SQLite: each thread reads on a connection of its own that it keeps (no checkout per
    read), which sees every unit committed since its last read (it holds no transaction open between
    reads, nor while a unit writes), and which a unit of work never waits for."""
    def subjects(conn):
        return {row[0] for row in conn.execute(text("SELECT subject FROM audit_log"))}

    with store.read() as first:
        assert subjects(first) == set()
    outcomes = {}
    unit(store, "written", outcomes).start()
    for _ in range(2000):
        if "written" in outcomes:
            break
        threading.Event().wait(0.005)
    assert outcomes == {"written": True}
    with store.read() as again:
        assert again is first and subjects(again) == {"written"}
        assert not again.connection.driver_connection.in_transaction
        with store.connection() as conn:   # the writer does not wait for a reader in the middle of its read
            conn.execute(insert(AUDIT), dict(at=datetime.now(timezone.utc), username="t", action="test",
                                             subject="beside"))
        assert subjects(again) == {"written", "beside"}
    with pytest.raises(OperationalError, match="readonly"), store.read() as conn:   # a reader only reads
        conn.execute(insert(AUDIT), dict(at=datetime.now(timezone.utc), username="t", action="test", subject="x"))


def test_readers_of_threads_that_ended_are_closed_and_dispose_closes_the_rest(store):
    readers = []

    def read():
        with store.read() as conn:
            conn.execute(text("SELECT 1"))
            readers.append(conn)
    for _ in range(3):
        t = threading.Thread(target=read)
        t.start()
        t.join(10)
    assert len({id(c) for c in readers}) == 3
    assert readers[0].closed and readers[1].closed and not readers[2].closed   # closed as the next was made
    with store.read() as mine:
        assert readers[2].closed and not mine.closed
    store.dispose()
    assert mine.closed
    with store.read() as afresh:   # a disposed store still reads, on a new connection
        assert afresh is not mine and afresh.execute(text("SELECT 1")).scalar() == 1
