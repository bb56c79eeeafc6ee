"""Console sessions (gateway.domain.console_sessions), by the hash of their id. The booth camera's
picture is read and written apart (:func:`take_capture`): the row is read on every request, the
picture only when an entry is recorded.

Both are sealed, and both may show a plate (a message quoting one, a picture of one): the retention
job removes them from sessions unused past its cutoffs (:func:`purge_captures`, :func:`purge_unused`:
the idle timeout ends a session, but only a new session's storing prunes ended ones), erasure takes
the messages that quote the plate (:func:`erase`), and key rotation re-seals them as every sealed
column (gateway.store.rotation)."""

import json
from datetime import datetime

from sqlalchemy import Connection, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.console_sessions import ConsoleSession, without
from ..domain.plates import quoted
from .schema import ConsoleSessionRecord, table_of

_SESSIONS = table_of(ConsoleSessionRecord)
_FIELDS = [c for c in _SESSIONS.c if c.name != "capture"]


def insert(conn: Connection, s: ConsoleSession, if_absent: bool = False) -> None:
    """``if_absent``: unless a row of that id is there already (a request of the same browser, on any
    node, stored it first)."""
    statement = _SESSIONS.insert()
    if if_absent:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(_SESSIONS).on_conflict_do_nothing(index_elements=[_SESSIONS.c.id_hash])
    conn.execute(statement, dict(
        id_hash=s.id_hash, username=s.username, role=s.role, csrf=s.csrf, language=s.language,
        facility_id=s.facility_id, created=s.created, last_seen=s.last_seen, flashes=_flashes(s.flashes)))


def get(conn: Connection, session_id: str, id_hash: str) -> ConsoleSession | None:
    row = conn.execute(select(*_FIELDS).where(_SESSIONS.c.id_hash == id_hash)).first()
    if row is None:
        return None
    m = row._mapping
    return ConsoleSession(id=session_id, csrf=m["csrf"], language=m["language"], created=m["created"],
                          last_seen=m["last_seen"], username=m["username"], role=m["role"],
                          facility_id=m["facility_id"],
                          flashes=[(k, v) for k, v in json.loads(m["flashes"] or "[]")])


def save(conn: Connection, id_hash: str, changed: dict) -> None:
    """``changed``: of :meth:`ConsoleSession.state`'s fields but the messages, those a request changed
    (a session no longer stored stays so)."""
    if changed:
        conn.execute(update(_SESSIONS).where(_SESSIONS.c.id_hash == id_hash).values(changed))


def change_flashes(conn: Connection, id_hash: str, taken: list[tuple[str, str]],
                   added: list[tuple[str, str]]) -> None:
    """The session's messages as they are now (read locked: an erasure's change waited for), less
    ``taken``, then ``added``: what a request did to them
    (:func:`gateway.domain.console_sessions.flashes_changed`), not what it began with."""
    T = _SESSIONS
    row = conn.execute(select(T.c.flashes).where(T.c.id_hash == id_hash).with_for_update()).first()
    if row is None:
        return   # ended meanwhile (logged out, pruned): not stored again
    kept = without([(k, v) for k, v in json.loads(row.flashes or "[]")], taken)
    conn.execute(update(T).where(T.c.id_hash == id_hash).values(flashes=_flashes(kept + added)))


def keep_capture(conn: Connection, id_hash: str, picture: bytes | None) -> None:
    conn.execute(update(_SESSIONS).where(_SESSIONS.c.id_hash == id_hash).values(capture=picture))


def take_capture(conn: Connection, id_hash: str) -> bytes | None:
    """The picture kept, which is kept no longer."""
    picture = conn.execute(select(_SESSIONS.c.capture).where(_SESSIONS.c.id_hash == id_hash)).scalar()
    if picture is not None:
        keep_capture(conn, id_hash, None)
    return picture


def delete_one(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(_SESSIONS).where(_SESSIONS.c.id_hash == id_hash))


def delete_user(conn: Connection, username: str) -> int:
    """Every session of the user; how many there were."""
    return conn.execute(delete(_SESSIONS).where(_SESSIONS.c.username == username)).rowcount


def delete_unused(conn: Connection, since: datetime, anonymous_since: datetime) -> int:
    """Sessions unused since ``since``, and those nobody logged in to unused since ``anonymous_since``."""
    return conn.execute(delete(_SESSIONS).where(or_(
        _SESSIONS.c.last_seen < since,
        and_(_SESSIONS.c.username.is_(None), _SESSIONS.c.last_seen < anonymous_since)))).rowcount


def _flashes(flashes: list[tuple[str, str]]) -> str | None:
    return json.dumps(flashes) if flashes else None


def _unused(conn: Connection, cutoff: datetime, limit: int, *where) -> list[str]:
    T = _SESSIONS
    return list(conn.execute(select(T.c.id_hash).where(T.c.last_seen < cutoff, *where)
                             .order_by(T.c.id_hash).limit(limit)).scalars())


def purge_captures(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """A retention step (images): the booth pictures still kept by sessions unused since ``cutoff``."""
    ids = _unused(conn, cutoff, limit, _SESSIONS.c.capture.is_not(None))
    if ids:
        conn.execute(update(_SESSIONS).where(_SESSIONS.c.id_hash.in_(ids)).values(capture=None))
    return len(ids), None, len(ids) < limit


def purge_unused(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """A retention step (plates): sessions unused since ``cutoff`` (long ended), their messages and
    picture with them."""
    ids = _unused(conn, cutoff, limit)
    if ids:
        conn.execute(delete(_SESSIONS).where(_SESSIONS.c.id_hash.in_(ids)))
    return len(ids), None, len(ids) < limit


def erase(conn: Connection, plate: str) -> tuple[int, int]:
    """An erasure step: the messages quoting the plate, taken out of every session that keeps one (the
    person stays logged in). Each row is opened here: the table holds at most an idle timeout's
    sessions, and a message has no blind index."""
    T, erased = _SESSIONS, 0
    # Locked as read: a request's change to the messages (change_flashes) waits, then reads what is left.
    for row in conn.execute(select(T.c.id_hash, T.c.flashes).where(T.c.flashes.is_not(None))
                            .with_for_update()).all():
        flashes = [(k, v) for k, v in json.loads(row.flashes)]
        kept = [(k, v) for k, v in flashes if not quoted(plate, v)]
        if kept != flashes:
            erased += conn.execute(update(T).where(T.c.id_hash == row.id_hash)
                                   .values(flashes=_flashes(kept))).rowcount
    return erased, 0
