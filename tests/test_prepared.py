"""gateway.store.prepared.Prepared: statements compiled once and run on the DBAPI cursor read and write
exactly what SQLAlchemy's own execute() does (UTC datetimes, exact decimals, booleans, counts),
and fail with SQLAlchemy's exceptions. Real SQLite and (when configured) PostgreSQL."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from conftest import migrated_with_users
from gateway.store import facts, sessions
from gateway.store.engine import Store
from gateway.store.prepared import Prepared
from gateway.store.schema import PermitRecord, SessionRecord

SESSIONS, PERMITS = SessionRecord.__table__, PermitRecord.__table__
ENTRY = datetime(2026, 3, 1, 7, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def store(database_url, request):
    migrated_with_users(database_url, request)
    store = Store(database_url)
    yield store
    store.dispose()


def session_row(plate, **changes):
    row = dict(id=f"S-{plate}", facility_id="LOT-P", plate=plate, plate_index=plate, status="OPEN", entry_time=ENTRY,
               exit_time=None, entry_event_id=f"E-{plate}", exit_event_id=None, lane_number=1, jurisdiction="CA",
               country="USA",
               space_assigned=None, permit_number=None, amount_charged=None, amount_paid=Decimal("12.3450"),
               paid_at=ENTRY + timedelta(minutes=5), vehicle_type="car", zone_id=None, entry_image=None,
               exit_image=None, image_match_score=None)
    row.update(changes)
    return row


def test_rows_read_as_execute_reads_them(store):
    with store.connection() as conn:
        sessions._INSERT.run(conn, session_row("PREP1"))
        conn.execute(insert(PERMITS), dict(permit_number="P-PREP1", plate="PREP1", facility_id=None,
                                           permit_type="MONTHLY", valid_from=ENTRY.date(),
                                           valid_until=ENTRY.date() + timedelta(days=30), state="ACTIVE",
                                           issued_at=ENTRY, revoked_at=None, revocation_reason=None))
    params = {"plate": "PREP1", "facility_id": "LOT-P", "now": ENTRY}
    for direction, statement in facts.STATEMENTS.items():
        with store.connection() as conn:
            ours = statement.rows(conn, params)
            theirs = [dict(row._mapping) for row in conn.execute(statement.statement, params)]
        assert ours == theirs, direction
        row = ours[0]
        assert row["open_session_entry_time"] == ENTRY and row["open_session_entry_time"].tzinfo is not None
        assert row["open_session_amount_paid"] == Decimal("12.3450")
        assert isinstance(row["open_session_amount_paid"], Decimal)
        assert row["facts_hotlisted"] is None     # no live hotlist entry: no category rank
        assert row["permit_permit_number"] == "P-PREP1" and row["permit_valid_from"] == ENTRY.date()
        assert ("facts_occupied" in row) == (direction == "ENTRY")
        assert row.get("facts_occupied", 1) >= 1


def test_writes_keep_types_and_report_rowcount(store):
    with store.connection() as conn:
        sessions._INSERT.run(conn, session_row("PREP2"))
    closed = dict(session_id="S-PREP2", status="CLOSED", exit_time=ENTRY + timedelta(hours=2), exit_event_id="X-PREP2",
                  amount_charged=Decimal("6.0000"))
    with store.connection() as conn:
        assert sessions._CLOSE.run(conn, closed) == 1
        assert sessions._CLOSE.run(conn, closed) == 0  # only an open session is closed
    with store.connection() as conn:
        row = conn.execute(select(SESSIONS).where(SESSIONS.c.id == "S-PREP2")).one()
    assert row.status == "CLOSED" and row.exit_time == ENTRY + timedelta(hours=2)
    assert row.amount_charged == Decimal("6.0000") and row.exit_time.tzinfo is not None


def test_constraint_violations_are_sqlalchemy_errors_and_roll_back(store):
    with store.connection() as conn:
        sessions._INSERT.run(conn, session_row("PREP3"))
    with pytest.raises(IntegrityError):
        with store.connection() as conn:
            sessions._INSERT.run(conn, session_row("PREP4"))
            # A second open session for one plate in one facility: the partial unique index says no.
            sessions._INSERT.run(conn, session_row("PREP3", id="S-PREP3-again"))
    with store.connection() as conn:
        ids = {r.id for r in conn.execute(select(SESSIONS.c.id).where(SESSIONS.c.plate_index.in_(["PREP3", "PREP4"])))}
    assert ids == {"S-PREP3"}  # the failed unit's first insert went with it


def test_naive_datetimes_are_refused(store):
    with pytest.raises(ValueError, match="naive"):
        with store.connection() as conn:
            sessions._INSERT.run(conn, session_row("PREP5", entry_time=ENTRY.replace(tzinfo=None)))


def test_statements_whose_values_the_caller_does_not_give_are_refused(store):
    # amount_paid has a Python-side default: SQLAlchemy's execute() would fill it in, Prepared does not.
    columns = [c for c in SESSIONS.c.keys() if c != "amount_paid"]
    with store.connection() as conn, pytest.raises(ValueError, match="caller"):
        Prepared(insert(SESSIONS), columns).run(conn, session_row("PREP6"))


def test_a_parameter_the_sql_names_several_times_is_processed_once(store, monkeypatch):
    """The lane facts name the plate three times (hotlist, open session, permits): one HMAC, not three."""
    with store.connection() as conn:
        sessions._INSERT.run(conn, session_row("PREP5"))
    blinded = []
    blinds = store.keys.blinds   # a look-up's indexes (both keys' while an index rotation runs)
    monkeypatch.setattr(store.keys, "blinds", lambda plate: blinded.append(plate) or blinds(plate))
    with store.connection() as conn:
        rows = facts.STATEMENTS["ENTRY"].rows(conn, {"plate": "PREP5", "facility_id": "LOT-P", "now": ENTRY})
    assert blinded == ["PREP5"]
    assert rows[0]["open_session_id"] == "S-PREP5"
