"""Copies of the database while it serves, and their way back.

SQLite: the online backup API, in one step from a connection of its own (in WAL mode a reader
never holds up the writer, and one step is one consistent snapshot). PostgreSQL: ``pg_dump`` in
its custom format (one snapshot, taken while serving), restored with ``pg_restore``.
"""

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .presence import pg_schema, sqlite_path

SQLITE_FILE, PG_FILE = "database.sqlite3", "database.pgdump"


class BackupFailed(Exception):
    pass


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as libpq (pg_dump, pg_restore) reads it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def copy_database(url: str, folder: Path) -> Path:
    """The database at ``url`` copied into ``folder``: the file written."""
    path = sqlite_path(url)
    if path is not None:
        target = folder / SQLITE_FILE
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # all pages in one step: one snapshot
        finally:
            dst.close()
            src.close()
        return target
    if url.startswith("postgresql"):
        target = folder / PG_FILE
        cmd = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={target}",
               f"--dbname={libpq_url(url)}"]
        schema = pg_schema(url)
        if schema:
            cmd.append(f"--schema={schema}")
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if run.returncode != 0:
            raise BackupFailed(f"pg_dump failed: {run.stderr.strip()[-500:]}")
        return target
    raise BackupFailed(f"no backup for {make_url(url).drivername}")


def revision(url: str) -> str:
    """The schema revision the database is at (Alembic's)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or "none"
    finally:
        engine.dispose()


def sqlite_revision(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()


def has_data(url: str) -> bool:
    path = sqlite_path(url)
    if path is not None:
        return path.exists() and path.stat().st_size > 0
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            schema = pg_schema(url) or "public"
            return bool(conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"),
                                     {"s": schema}).scalar())
    finally:
        engine.dispose()


def restore_database(copy: Path, url: str) -> None:
    """Put the copy in place of the database at ``url`` (which nothing may be serving)."""
    path = sqlite_path(url)
    if path is not None:
        if copy.name != SQLITE_FILE:
            raise BackupFailed("this backup is of PostgreSQL: restore it to a PostgreSQL database URL")
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        dst = sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    if url.startswith("postgresql"):
        if copy.name != PG_FILE:
            raise BackupFailed("this backup is of SQLite: restore it to a SQLite database URL")
        target = make_url(url)
        run = subprocess.run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                              "--exit-on-error", f"--dbname={libpq_url(target.render_as_string(False))}", str(copy)],
                             capture_output=True, text=True, timeout=3600)
        if run.returncode != 0:
            raise BackupFailed(f"pg_restore failed: {run.stderr.strip()[-500:]}")
        return
    raise BackupFailed(f"no restore for {make_url(url).drivername}")
