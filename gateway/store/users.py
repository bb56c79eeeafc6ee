"""Users, their failed logins, and the WS-Security nonces they have used (shared by every
process on the database)."""

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select, update

from ..domain.users import User
from .prepared import Prepared
from .schema import NonceRecord, UserRecord, table_of

_USERS, _NONCES = table_of(UserRecord), table_of(NonceRecord)


# Read on every authenticated request (a disabled account or a new password counts at once), so
# compiled once and run on the cursor: through Connection.execute it was a third of a Ping's CPU.
_BY_NAME = Prepared(select(_USERS).where(_USERS.c.username == bindparam("username")))


def get(conn: Connection, username: str) -> User | None:
    rows = _BY_NAME.rows(conn, {"username": username})
    return User(**rows[0]) if rows else None


def save(conn: Connection, user: User) -> None:
    """Add the user, or replace what is kept of one with that name."""
    values = asdict(user)
    if conn.execute(update(_USERS).where(_USERS.c.username == user.username).values(values)).rowcount == 0:
        conn.execute(_USERS.insert(), values)


def login_failed(conn: Connection, username: str) -> int:
    """Count one more failed login in a row (atomically, whichever node saw it): how many now."""
    row = conn.execute(update(_USERS).where(_USERS.c.username == username)
                       .values(failed_logins=_USERS.c.failed_logins + 1)
                       .returning(_USERS.c.failed_logins)).first()
    return row[0] if row is not None else 0


def lock(conn: Connection, username: str, until: datetime | None) -> None:
    conn.execute(update(_USERS).where(_USERS.c.username == username).values(locked_until=until))


def login_succeeded(conn: Connection, username: str, password_hash: str | None = None) -> None:
    """No failed logins in a row, no lock; and the password's new hash when it was rehashed."""
    values: dict = dict(failed_logins=0, locked_until=None)
    if password_hash is not None:
        values["password_hash"] = password_hash
    conn.execute(update(_USERS).where(_USERS.c.username == username).values(values))


def listing(conn: Connection) -> list[User]:
    return [User(**row._mapping) for row in conn.execute(select(_USERS).order_by(_USERS.c.username))]


def has_demo(conn: Connection) -> bool:
    return conn.execute(select(_USERS.c.username).where(_USERS.c.demo.is_(True)).limit(1)).first() is not None


def remember_nonce(conn: Connection, username: str, nonce: str, at: datetime) -> None:
    """A nonce the user has used already fails here (``IntegrityError``): a replay."""
    conn.execute(_NONCES.insert(), dict(username=username, nonce=nonce, created=at))


def forget_nonces(conn: Connection, before: datetime) -> None:
    conn.execute(delete(_NONCES).where(_NONCES.c.created < before))
