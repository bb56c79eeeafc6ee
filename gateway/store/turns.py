"""Turns across every node: PostgreSQL's advisory locks, on a number made from what is taken in turn
(no row: nothing written, no hot row). A check-then-write (a zone's last space, a hotlist key not yet
listed) is safe on PostgreSQL only when the writers take turns, since its units of work run side by
side, each unable to see what the others have not committed; SQLite's units take turns already."""

import hashlib

from sqlalchemy import BigInteger, Connection, bindparam, func, select, text

from .prepared import Prepared

#: A lock for the rest of the unit of work: released when it commits or rolls back.
_TURN = Prepared(select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger))))
#: The same lock, shared: held by many units at once, never while one holds it alone (above).
_SHARED_TURN = Prepared(select(func.pg_advisory_xact_lock_shared(bindparam("key", type_=BigInteger))))
_AT_ONCE = "parkgate_at_once"   # kept in the pooled connection's info: asked once per connection


def lock_key(*what: str) -> int:
    """The advisory lock's number for ``what`` (identifiers, which hold no space, the last part
    perhaps aside: so the parts joined by spaces name one thing): the first 64 bits of a SHA-256, so
    two things' turns collide only by chance (2^-64), and a collision makes two units wait on each
    other, never both go."""
    digest = hashlib.sha256(" ".join(("parkgate", *what)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def take_turn(conn: Connection, *what: str) -> None:
    """Until ``conn``'s unit of work ends, ``what`` is this unit's: another unit (on any node) that
    asks waits here until then, and what it reads next sees what this one wrote (READ COMMITTED).
    Asked before the check it guards."""
    if conn.dialect.name == "postgresql":
        _TURN.rows(conn, {"key": lock_key(*what)})


def share_turn(conn: Connection, *what: str) -> None:
    """Until ``conn``'s unit of work ends, ``what`` is this unit's along with the other units that share
    it, and no unit's alone: one that asks for it alone (:func:`take_turn`) waits until every sharer
    has ended, and one that asks to share waits while one holds it alone."""
    if conn.dialect.name == "postgresql":
        _SHARED_TURN.rows(conn, {"key": lock_key(*what)})


def at_once(conn: Connection) -> int:
    """The most units of work under way at once, on every node together: PostgreSQL's
    ``max_connections`` (a unit runs in a backend of its own); 1 on SQLite (its units take turns)."""
    if conn.dialect.name == "sqlite":
        return 1
    info = conn.connection.info
    found = info.get(_AT_ONCE)
    if found is None:
        found = info[_AT_ONCE] = int(conn.execute(text("SHOW max_connections")).scalar_one())
    return found
