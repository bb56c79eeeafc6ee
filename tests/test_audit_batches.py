"""The activity log's entries recorded on their own (gateway.app.audit.Audit.record, every
AuthorizePlate) are appended in batches: those that come while one batch is written wait and are
appended next, together, in one unit of work (one commit, one read and write of the chain's head);
each caller returns only once its entry is committed, an entry the store refuses fails only its own
caller, and the chain verifies. Real SQLite files and PostgreSQL, real threads; each test holds the
store's writer until the entries it expects are waiting."""

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import event

from gateway.app.audit import Audit
from gateway.store import audit as audit_store
from gateway.store.audit import AuditFilter
from test_group_commit import committed_subjects, pg_store, store  # noqa: F401 - fixtures

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def log(request):
    return Audit(request.getfixturevalue("store" if request.param == "sqlite" else "pg_store"), lambda: NOW)


def recording(log, subject, outcomes, at=NOW):
    """A caller recording one entry; notes whether it was committed when record() returned."""
    def run():
        try:
            log.record("t", "AuthorizePlate", subject, "ENTRY GRANTED PERMIT_VALID", plate="AB123", kind="QUERY", at=at)
            outcomes[subject] = subject in committed_subjects(log.store)
        except Exception as e:  # noqa: BLE001 - asserted by the tests
            outcomes[subject] = e
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def until(condition):
    waited = threading.Event()
    for _ in range(2000):
        if condition():
            return True
        waited.wait(0.005)
    return False


def held_batches(log, first, others):
    """``first`` writes a batch and waits for the store's writer (held here) while ``others`` come
    and wait behind it; then the writer is let go. Returns (outcomes, the commits made after)."""
    outcomes, commits = {}, []
    held, release = threading.Event(), threading.Event()

    def holder():
        with log.store.connection(grouped=True):
            held.set()
            release.wait(10)
    holding = threading.Thread(target=holder)
    holding.start()
    assert held.wait(10)
    threads = [recording(log, first[0], outcomes, **first[1])]
    assert until(lambda: log.store._waiting == 1)   # its batch waits for the writer
    for subject, options in others:
        threads.append(recording(log, subject, outcomes, **options))
    assert until(lambda: len(log._pending) == len(others))
    event.listen(log.store.engine, "commit", lambda conn: commits.append(1))
    release.set()
    for t in [holding, *threads]:
        t.join(10)
    return outcomes, commits


def test_entries_that_wait_for_a_batch_are_appended_next_in_one_unit_each_returning_once_committed(log):
    outcomes, commits = held_batches(log, ("first", {}), [(f"next-{n}", {}) for n in range(5)])
    assert outcomes == {"first": True, **{f"next-{n}": True for n in range(5)}}
    assert len(commits) == 2   # the holder's group with the first batch, then the five together
    with log.store.connection() as conn:
        found = audit_store.find(conn, AuditFilter(action="AuthorizePlate"))
    assert [e.subject for e in found][0] == "first" and len(found) == 6
    assert all(e.kind == "QUERY" and e.plate_hash and "AB123" not in (e.detail or "") for e in found)
    check = log.verify()
    assert check.verified and check.last_id == found[-1].id


def test_an_entry_the_store_refuses_fails_only_its_caller_and_the_chain_verifies(log):
    naive = datetime(2026, 12, 3, 12, 0)   # the store refuses a time without its zone
    outcomes, _ = held_batches(log, ("first", {}), [("good-1", {}), ("refused", {"at": naive}), ("good-2", {})])
    assert isinstance(outcomes.pop("refused"), ValueError)
    assert outcomes == {"first": True, "good-1": True, "good-2": True}
    assert committed_subjects(log.store) == {"first", "good-1", "good-2"}
    assert log.verify().verified


def test_one_caller_alone_commits_its_entry_at_once_and_the_writing_is_free_for_the_next(log):
    outcomes = {}
    recording(log, "alone", outcomes).join(10)
    recording(log, "after", outcomes).join(10)
    assert outcomes == {"alone": True, "after": True}
    assert not log._writing and not log._pending
    assert log.verify().verified
