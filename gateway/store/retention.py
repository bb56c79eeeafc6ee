"""The purge steps of the retention job, one per table and kind of data: each removes or
anonymises at most ``limit`` rows older than a cutoff on a unit of work's connection, and says how
many (fewer than ``limit``: that step is done for now). Small batches keep every unit of work
short, so lane events never wait long behind one.

Tables other parts of the gateway add (tickets, payments, citations, hotlists, security events)
plug in a step of their own (:class:`gateway.app.retention.PurgeStep`).
"""

from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import Connection, delete, select, update

from ..contract.namespace import NS
from .schema import (
    CitationRecord,
    IncidentRecord,
    LaneEventRecord,
    LaneWindowRecord,
    OutboxMessage,
    PaymentRecord,
    PermitRecord,
    ReviewRecord,
    SessionRecord,
    table_of,
)
from .sealed import plate_values

_EVENTS, _SESSIONS, _PAYMENTS = table_of(LaneEventRecord), table_of(SessionRecord), table_of(PaymentRecord)
_REVIEWS, _INCIDENTS, _OUTBOX = table_of(ReviewRecord), table_of(IncidentRecord), table_of(OutboxMessage)
_PERMITS, _CITATIONS = table_of(PermitRecord), table_of(CitationRecord)

#: What an anonymised closed session keeps as its plate (the column is required).
ANONYMISED = "ANONYMISED"
_PLATE_PARTS = [f"{{{NS}}}{name}" for name in ("Number", "Jurisdiction")]


# Every step: (conn, cutoff, limit, cursor) -> (rows changed, cursor, done). ``cursor`` is where the
# last batch stopped (None at first): each batch reads on from there by primary key, so a batch costs
# the same however many rows earlier batches (or runs) already anonymised or skipped.

def _by_id(conn: Connection, T, time_col, cutoff: datetime, *where, limit: int, cursor) -> tuple[list, bool]:
    """The oldest rows (by id, which grows as rows are recorded) matching ``where`` with ``time_col``
    before the cutoff: (ids, whether that is all of them for now). Stops at the first row recorded
    after the cutoff, so it never scans the young part of a table. The age is compared in SQL: no
    time is read into Python (a batch's work holds the GIL less)."""
    query = select(T.c.id, (time_col < cutoff).label("old")).where(*where).order_by(T.c.id).limit(limit)
    if cursor is not None:
        query = query.where(T.c.id > cursor)
    rows = conn.execute(query).all()
    ids: list = []
    for row in rows:
        if not row[1]:
            return ids, True
        ids.append(row[0])
    return ids, len(rows) < limit


def _delete_by_id(conn, T, time_col, cutoff, *where, limit, cursor):
    """The rows :func:`_by_id` finds, deleted: by their range of ids when nothing but age chooses
    them (every id in it is one of them: a statement of two bounds, not one of ``limit`` values)."""
    ids, done = _by_id(conn, T, time_col, cutoff, *where, limit=limit, cursor=cursor)
    if ids:
        chosen = [T.c.id <= ids[-1], *([] if cursor is None else [T.c.id > cursor])] if not where \
            else [T.c.id.in_(ids)]
        conn.execute(delete(T).where(*chosen))
    return len(ids), ids[-1] if ids else cursor, done


def _small_table(conn, T, key, *where, limit):
    """Tables kept small by their nature (permits, citations): a plain filtered delete."""
    ids = [row[0] for row in conn.execute(select(key).where(*where).order_by(key).limit(limit))]
    if ids:
        conn.execute(delete(T).where(key.in_(ids)))
    return len(ids), None, len(ids) < limit


def without_plate(document: str) -> str:
    """A ParkingEvent document with its plate (number and jurisdiction) taken out: what the event
    was (when, where, the decision) stays for the statistics."""
    root = etree.fromstring(document.encode())
    for plate in root.iter(f"{{{NS}}}LicensePlate"):
        for child in list(plate):
            if child.tag in _PLATE_PARTS:
                plate.remove(child)
    return etree.tostring(root, encoding="unicode")


# --- images ------------------------------------------------------------------------------

def review_images(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """Pictures of vehicles kept with their reviews: dropped (the review itself stays)."""
    T = _REVIEWS
    ids, done = _by_id(conn, T, T.c.created_at, cutoff, T.c.image.is_not(None), limit=limit, cursor=cursor)
    if ids:
        conn.execute(update(T).where(T.c.id.in_(ids)).values(image=None))
    return len(ids), ids[-1] if ids else cursor, done


# --- plates: anonymised --------------------------------------------------------------------

def event_plates(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """The lane-event history keeps when, where and what was decided; not whose car it was."""
    T = _EVENTS
    query = select(T.c.id, T.c.recorded_at, T.c.document).where(T.c.plate.is_not(None)).order_by(T.c.id).limit(limit)
    if cursor is not None:
        query = query.where(T.c.id > cursor)
    rows = conn.execute(query).all()
    changed, last, done = 0, cursor, len(rows) < limit
    for row in rows:
        if row.recorded_at >= cutoff:
            done = True
            break
        last = row.id
        conn.execute(update(T).where(T.c.id == row.id).values(document=without_plate(row.document),
                                                                **plate_values(None)))
        changed += 1
    return changed, last, done


def session_plates(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """Closed sessions keep how long, what was charged and paid; not the plate (the column is
    required: it says ANONYMISED)."""
    T = _SESSIONS
    query = select(T.c.id, T.c.exit_time).where(T.c.status == "CLOSED", T.c.exit_time < cutoff) \
        .order_by(T.c.exit_time, T.c.id).limit(limit)
    if cursor is not None:
        at, key = cursor
        query = query.where((T.c.exit_time > at) | ((T.c.exit_time == at) & (T.c.id > key)))
    rows = conn.execute(query).all()
    if rows:
        conn.execute(update(T).where(T.c.id.in_([r.id for r in rows]), T.c.plate_index != ANONYMISED)
                     .values(jurisdiction=None, country=None, **plate_values(ANONYMISED)))
    return len(rows), (rows[-1].exit_time, rows[-1].id) if rows else cursor, len(rows) < limit


def review_plates(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    T = _REVIEWS
    ids, done = _by_id(conn, T, T.c.created_at, cutoff, T.c.state == "RESOLVED",
                       (T.c.plate.is_not(None)) | (T.c.resolved_plate.is_not(None)), limit=limit, cursor=cursor)
    if ids:
        conn.execute(update(T).where(T.c.id.in_(ids)).values(**plate_values(None),
                                                             **plate_values(None, "resolved_plate")))
    return len(ids), ids[-1] if ids else cursor, done


def frame_windows(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """The last vehicle a lane saw (several nodes keep it in the database, with its readings)."""
    T = table_of(LaneWindowRecord)
    return conn.execute(delete(T).where(T.c.first_seen < cutoff)).rowcount, None, True


def settled_relay_messages(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """Documents delivered (or left out) hold plates in clear: not kept once settled and old."""
    T = _OUTBOX
    return _delete_by_id(conn, T, T.c.created_at, cutoff, T.c.state.in_(("DELIVERED", "SKIPPED")), limit=limit,
                         cursor=cursor)


# --- records: deleted ----------------------------------------------------------------------

def lane_events(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    T = _EVENTS
    return _delete_by_id(conn, T, T.c.recorded_at, cutoff, limit=limit, cursor=cursor)


def closed_sessions(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """Closed sessions and their payments; an open session stays, however old (it is still parked)."""
    T = _SESSIONS
    ids = [row[0] for row in conn.execute(select(T.c.id).where(T.c.status == "CLOSED", T.c.exit_time < cutoff)
                                          .order_by(T.c.exit_time).limit(limit))]
    if ids:
        conn.execute(delete(_PAYMENTS).where(_PAYMENTS.c.session_id.in_(ids)))
        conn.execute(delete(T).where(T.c.id.in_(ids)))
    return len(ids), None, len(ids) < limit


def resolved_reviews(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    T = _REVIEWS
    return _delete_by_id(conn, T, T.c.created_at, cutoff, T.c.state == "RESOLVED", limit=limit, cursor=cursor)


def lane_incidents(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    T = _INCIDENTS
    return _delete_by_id(conn, T, T.c.at, cutoff, limit=limit, cursor=cursor)


def ended_permits(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """Permits that ended (expired or revoked) before the cutoff."""
    T = _PERMITS
    return _small_table(conn, T, T.c.permit_number, T.c.valid_until < cutoff.date(), limit=limit)


def settled_citations(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """Paid or voided citations; an unpaid one is kept (a legal hold) however old."""
    T = _CITATIONS
    return _small_table(conn, T, T.c.id, T.c.status.in_(("PAID", "VOID")), T.c.issued_at < cutoff, limit=limit)


# --- SQLite's own maintenance ----------------------------------------------------------------

def _driver(conn: Connection) -> Any:
    return conn.connection.driver_connection


def sqlite_free_pages(conn: Connection) -> tuple[int, int]:
    """(auto_vacuum mode: 0 none, 1 full, 2 incremental; pages on the free list)."""
    driver = _driver(conn)
    return driver.execute("PRAGMA auto_vacuum").fetchone()[0], driver.execute("PRAGMA freelist_count").fetchone()[0]


def sqlite_vacuum_some(conn: Connection, pages: int) -> None:
    """Give up to ``pages`` free pages back. Python's sqlite3 steps the pragma once, and each step
    frees one page: so one statement per page (about 40 us each)."""
    driver = _driver(conn)
    for _ in range(pages):
        driver.execute("PRAGMA incremental_vacuum(1)")


def sqlite_checkpoint(conn: Connection) -> None:
    """Copy what the WAL holds into the database (PASSIVE: beside the writer, never waiting for it),
    from a connection that is not the writer's: the pages a purge wrote are not left for a lane
    event's commit to checkpoint (SQLite checkpoints in the connection whose commit fills the WAL)."""
    _driver(conn).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def sqlite_analyze(conn: Connection) -> None:
    """Planner statistics, from a sample (bounded time however large the tables)."""
    driver = _driver(conn)
    driver.execute("PRAGMA analysis_limit=1000")
    driver.execute("ANALYZE")
