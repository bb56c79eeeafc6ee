"""Parking sessions: opened by an entry, closed by an exit, paid towards in between.

A facility's spaces are counted (the open sessions) and taken in turn (:func:`take_turn`) where its
capacity decides an entry: PostgreSQL runs units of work side by side, on every node, and two entries
that both counted the last space free would both take it. Far from its last spaces, entries share the
turn (:func:`roomy`): no entry waits for another's commit.
"""

from decimal import Decimal

from sqlalchemy import Connection, bindparam, case, func, select, update

from ..domain.sessions import ParkingSession
from . import rollups, turns
from .facts import OCCUPIED, OPEN
from .prepared import Prepared
from .schema import SessionRecord, table_of
from .sealed import plate_is, readable

_SESSIONS = table_of(SessionRecord)
_FIELDS = [c.key for c in readable(_SESSIONS)]
_RECORD = select(*readable(_SESSIONS))
_INSERT = Prepared(_SESSIONS.insert(), _SESSIONS.c.keys())
# Only a session still open is closed: of two exits racing for one session, one closes it.
_CLOSE = Prepared(
    update(_SESSIONS).where(_SESSIONS.c.id == bindparam("session_id"), _SESSIONS.c.status == OPEN),
    ["session_id", "status", "exit_time", "exit_event_id", "amount_charged"])
_OCCUPIED = Prepared(OCCUPIED)  # every exit counts what it leaves inside (the occupancy hour)


def insert(conn: Connection, session: ParkingSession) -> None:
    """A second open session of one plate in one facility fails here (``IntegrityError``)."""
    _INSERT.run(conn, {**{key: getattr(session, key) for key in _FIELDS}, "plate_index": session.plate})
    rollups.entered(conn, session.facility_id, session.entry_time)


def close(conn: Connection, closed: ParkingSession) -> bool:
    """Write ``closed`` (a session as its exit closed it); False when it was no longer open."""
    if _CLOSE.run(conn, dict(session_id=closed.id, status=closed.status, exit_time=closed.exit_time,
                             exit_event_id=closed.exit_event_id, amount_charged=closed.amount_charged)) != 1:
        return False
    assert closed.exit_time is not None
    rollups.left(conn, closed.facility_id, closed.entry_time, closed.exit_time)
    return True


def pictured_at_exit(conn: Connection, session_id: str, exit_image: str, score: Decimal | None) -> None:
    """The exit's picture, and how alike it is to the entry's (None: not compared)."""
    conn.execute(update(_SESSIONS).where(_SESSIONS.c.id == session_id).values(
        exit_image=exit_image, image_match_score=score))


def get(conn: Connection, session_id: str, for_update: bool = False) -> ParkingSession | None:
    """``for_update``: the row stays locked until the unit of work ends, for changing it."""
    query = _RECORD.where(_SESSIONS.c.id == session_id)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return ParkingSession(**row._mapping) if row is not None else None


def of_plate(conn: Connection, facility_id: str, plate: str, for_update: bool = False) -> ParkingSession | None:
    """The plate's open session in the facility, else its latest."""
    query = _RECORD.where(_SESSIONS.c.facility_id == facility_id, plate_is(_SESSIONS, plate)) \
        .order_by(_SESSIONS.c.status.desc(), _SESSIONS.c.entry_time.desc()).limit(1)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return ParkingSession(**row._mapping) if row is not None else None


def take_turn(conn: Connection, facility_id: str, shared: bool = False) -> None:
    """Until ``conn``'s unit of work ends, the facility's spaces are this unit's to count and take:
    another unit (on any node) that asks waits here, then counts what this one took. ``shared``: along
    with other entries that share it, each to go on only if its count is :func:`roomy`; one that takes
    it alone waits until they have all ended. Asked before the count, and before a zone's turn
    (:func:`gateway.store.zones.take_turn`), never after: one order, so no two units wait on each other."""
    (turns.share_turn if shared else turns.take_turn)(conn, "facility", facility_id)


def roomy(conn: Connection, capacity: int, occupied: int) -> bool:
    """Whether an entry that shared the facility's turn and counted ``occupied`` may go on: the most
    units under way at once (:func:`gateway.store.turns.at_once`) could all take a space, and it would
    still not be over ``capacity``. Each sharer counted after every unit that held the turn alone had
    ended, and what it did not see is what units under way beside it took."""
    return occupied + turns.at_once(conn) <= capacity


def occupied(conn: Connection, facility_id: str) -> int:
    return _OCCUPIED.rows(conn, {"facility_id": facility_id})[0]["occupied"]


def paid(conn: Connection, session: ParkingSession) -> None:
    """Write what ``session`` (as a payment left it) has paid, and when."""
    conn.execute(update(_SESSIONS).where(_SESSIONS.c.id == session.id).values(
        amount_paid=session.amount_paid, paid_at=session.paid_at))


def counts_by_bucket(conn: Connection, facility_id: str, column: str, edges: list) -> list[int]:
    """How many of the facility's sessions have ``column`` (``entry_time`` or ``exit_time``) in each
    interval between consecutive ``edges`` (ascending times): one statement, one scan."""
    moment = _SESSIONS.c[column]
    bucket = case(*[(moment < edge, i) for i, edge in enumerate(edges[1:])], else_=None)
    query = select(bucket.label("bucket"), func.count()).where(
        _SESSIONS.c.facility_id == facility_id, moment >= edges[0], moment < edges[-1]).group_by(bucket)
    counts = [0] * (len(edges) - 1)
    for index, count in conn.execute(query):
        if index is not None:
            counts[index] = count
    return counts
def open_in(conn: Connection, facility_id: str) -> list[ParkingSession]:
    """The facility's open sessions, oldest entry first (the violation scan reads them)."""
    query = _RECORD.where(_SESSIONS.c.facility_id == facility_id, _SESSIONS.c.status == OPEN) \
        .order_by(_SESSIONS.c.entry_time)
    return [ParkingSession(**row._mapping) for row in conn.execute(query)]
