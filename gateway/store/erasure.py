"""Erasure by plate, one step per table: each removes or anonymises the plate's rows on a unit of
work's connection and says how many, and how many a legal hold keeps. Rows are found by the blind
index (:func:`gateway.store.sealed.plate_is`).

A table with a blind index and no step of its own (one another part adds) has its rows of the plate
deleted (:func:`delete_rows`); a table whose rows must stay (a hold, a parent of others) registers a
step (:class:`gateway.app.erasure.ErasureStep`).
"""

import json

from sqlalchemy import Connection, Table, delete, or_, select, update

from . import audit
from .retention import ANONYMISED, without_plate
from .schema import (
    CitationRecord,
    HotlistRecord,
    LaneEventRecord,
    LaneWindowRecord,
    OutboxMessage,
    PermitRecord,
    ReviewRecord,
    SessionRecord,
    table_of,
)
from .sealed import is_index, plate_is, plate_values

_EVENTS, _SESSIONS, _PERMITS = table_of(LaneEventRecord), table_of(SessionRecord), table_of(PermitRecord)
_CITATIONS, _HOTLIST, _REVIEWS = table_of(CitationRecord), table_of(HotlistRecord), table_of(ReviewRecord)
_OUTBOX, _WINDOWS = table_of(OutboxMessage), table_of(LaneWindowRecord)

#: Citations a legal hold keeps: all but the settled (an unpaid one, a disputed one).
SETTLED_CITATIONS = ("PAID", "VOID")

# Every step: (conn, plate) -> (rows erased, rows held).


def relay_messages(conn: Connection, plate: str) -> tuple[int, int]:
    """What the relays owe or delivered about the plate's events, permits and settled citations
    (keyed by their id, or ``id:...``); before those rows lose the plate. A held citation's stay."""
    ids = [r[0] for r in conn.execute(select(_EVENTS.c.event_id).where(plate_is(_EVENTS, plate)))]
    ids += [r[0] for r in conn.execute(select(_PERMITS.c.permit_number).where(plate_is(_PERMITS, plate)))]
    ids += [r[0] for r in conn.execute(select(_CITATIONS.c.id).where(
        plate_is(_CITATIONS, plate), _CITATIONS.c.status.in_(SETTLED_CITATIONS)))]
    erased = 0
    for start in range(0, len(ids), 200):
        chunk = ids[start:start + 200]
        erased += conn.execute(delete(_OUTBOX).where(or_(
            _OUTBOX.c.key.in_(chunk), *[_OUTBOX.c.key.startswith(f"{i}:", autoescape=True) for i in chunk]))).rowcount
    return erased, 0


def lane_events(conn: Connection, plate: str) -> tuple[int, int]:
    """Anonymised: when, where and what was decided stay; the plate, in the row and its answer, goes
    (and the request's fingerprint, which a guess of the plate could be checked against)."""
    T = _EVENTS
    rows = conn.execute(select(T.c.id, T.c.document).where(plate_is(T, plate))).all()
    for row in rows:
        conn.execute(update(T).where(T.c.id == row.id).values(document=without_plate(row.document),
                                                               fingerprint=None, **plate_values(None)))
    return len(rows), 0


def sessions(conn: Connection, plate: str) -> tuple[int, int]:
    """Closed sessions anonymised (what was charged and paid stays); an open one is held: the vehicle
    is still inside, and its exit needs the plate."""
    T = _SESSIONS
    erased = conn.execute(update(T).where(plate_is(T, plate), T.c.status != "OPEN").values(
        jurisdiction=None, country=None, **plate_values(ANONYMISED))).rowcount
    held = len(conn.execute(select(T.c.id).where(plate_is(T, plate), T.c.status == "OPEN")).all())
    return erased, held


def stay_pictures(conn: Connection, plate: str) -> set[str]:
    """The vehicle's pictures at the entry and exit of the plate's closed stays, unlinked from them
    (before the stays lose the plate): the names no other stay still shows, for the vault to delete
    once the unit of work commits. An open stay keeps its own (its exit compares against it)."""
    T = _SESSIONS
    closed = (plate_is(T, plate), T.c.status != "OPEN")
    names = {name for row in conn.execute(select(T.c.entry_image, T.c.exit_image).where(*closed))
             for name in row if name}
    if not names:
        return names
    conn.execute(update(T).where(*closed).values(entry_image=None, exit_image=None))
    shown = select(T.c.entry_image, T.c.exit_image).where(or_(T.c.entry_image.in_(names), T.c.exit_image.in_(names)))
    return names - {name for row in conn.execute(shown) for name in row}


def citations(conn: Connection, plate: str) -> tuple[int, int]:
    """Settled citations deleted; unpaid or disputed ones held (a legal hold)."""
    T = _CITATIONS
    erased = conn.execute(delete(T).where(plate_is(T, plate), T.c.status.in_(SETTLED_CITATIONS))).rowcount
    held = len(conn.execute(select(T.c.id).where(plate_is(T, plate))).all())
    return erased, held


def reviews(conn: Connection, plate: str) -> tuple[int, int]:
    """Anonymised, the picture with them: the queue's history stays, not whose car it was."""
    T = _REVIEWS
    erased = conn.execute(update(T).where(or_(plate_is(T, plate), plate_is(T, plate, "resolved_plate"))).values(
        image=None, image_url=None, **plate_values(None), **plate_values(None, "resolved_plate"))).rowcount
    return erased, 0


def frame_windows(conn: Connection, plate: str) -> tuple[int, int]:
    """A lane's last vehicle, if it was this one (one row per lane: read and opened here)."""
    T = _WINDOWS
    erased = 0
    for row in conn.execute(select(T.c.facility_id, T.c.camera_id, T.c.direction, T.c.readings)).all():
        if any(reading[0] == plate for reading in json.loads(row.readings)):
            erased += conn.execute(delete(T).where(T.c.facility_id == row.facility_id, T.c.camera_id == row.camera_id,
                                                   T.c.direction == row.direction)).rowcount
    return erased, 0


def delete_rows(table: Table):
    """The step of a table without one of its own: every row with the plate in any blind index."""
    def step(conn: Connection, plate: str) -> tuple[int, int]:
        found = or_(*[c == plate for c in table.c if is_index(c)])
        return conn.execute(delete(table).where(found)).rowcount, 0
    return step


permits = delete_rows(_PERMITS)
hotlist = delete_rows(_HOTLIST)


def audit_plates(conn: Connection, plate: str) -> tuple[int, int]:
    """The plate's hashes beside the audit entries of listings that showed it (the entries stay)."""
    return audit.forget_plate(conn, plate), 0


def remaining(conn: Connection, table: Table, plate: str) -> int:
    """Rows of ``table`` that still carry the plate in a blind index."""
    return len(conn.execute(select(*table.primary_key.columns).where(
        or_(*[c == plate for c in table.c if is_index(c)]))).all())
