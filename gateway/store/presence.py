"""Whether a gateway serves a database: each `parkgate serve` holds a shared lock on it for as long
as it runs (a lock file beside a SQLite database; an advisory lock on PostgreSQL, one per schema),
released by the operating system or the server when the process dies, however it dies. What must
not run beside a gateway (a restore) asks for the lock exclusively and is refused while any is held.
"""

import fcntl
import os
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .turns import lock_key


def sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix + ":memory:":
        return None
    return Path(url[len(prefix):].split("?")[0])


def pg_schema(url: str) -> str | None:
    """The schema a URL's ``options=-csearch_path=...`` picks (the tests use one per module)."""
    options = " ".join(parse_qs(make_url(url).render_as_string(hide_password=False).partition("?")[2])
                       .get("options", []))
    for part in options.split():
        if part.startswith("-csearch_path="):
            return part.split("=", 1)[1].split(",")[0]
    return None


def _key(url: str) -> int:
    u = make_url(url)
    return lock_key("serving", f"{u.host}:{u.port}/{u.database}/{pg_schema(url)}")


class Serving:
    """Held by a serving gateway from :meth:`hold` to :meth:`drop`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._file: IO[str] | None = None
        self._conn: Any = None
        self._engine: Any = None

    def hold(self) -> None:
        path = sqlite_path(self.url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(f"{path}.serving", "a")
            fcntl.flock(self._file.fileno(), fcntl.LOCK_SH)
        elif self.url.startswith("postgresql"):
            self._engine = create_engine(self.url)
            self._conn = self._engine.connect()
            self._conn.execute(text("SELECT pg_advisory_lock_shared(:k)"), {"k": _key(self.url)})
            self._conn.commit()

    def drop(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def served(url: str) -> bool:
    """Whether a gateway serves ``url`` now."""
    path = sqlite_path(url)
    if path is not None:
        lock = Path(f"{path}.serving")
        if not lock.exists():
            return False
        fd = os.open(lock, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
    if url.startswith("postgresql"):
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(url)}).scalar()
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(url)})
                return not got
        finally:
            engine.dispose()
    return False
