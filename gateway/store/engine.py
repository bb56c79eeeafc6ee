"""The engine for SQLite and PostgreSQL, units of work, and SQLite's group commit.

All calls here block; the server runs them in its request threads, never on the reactor.
"""

import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from .keyring import KeyRing
from .sealed import attach


def _sqlite_pragmas(synchronous: str):
    def on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin); WAL lets readers run beside the writer.
        # synchronous=FULL syncs every commit (survives power loss); NORMAL syncs at checkpoints
        # (survives a crash of the gateway, not of the machine) and costs a third less CPU per event.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # Only takes effect on a new database (before its first table): pages the retention job
        # frees are then given back bit by bit (PRAGMA incremental_vacuum), never in one long VACUUM.
        cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()
    return on_connect


def _sqlite_reader(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # each statement on its own: a reader holds no snapshot open
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # Take the write lock up front: two deferred transactions that both upgrade to writing
    # would otherwise fail with "database is locked" instead of waiting their turn.
    driver: Any = conn.connection.driver_connection
    driver.execute("BEGIN IMMEDIATE")


def _sqlite_synchronous(conn: Connection, level: str) -> None:
    driver: Any = conn.connection.driver_connection
    driver.execute(f"PRAGMA synchronous={level}")


def _gone(driver: Any) -> bool:
    """Has the server closed this idle PostgreSQL connection (terminated backend, restart)? Asked of
    the socket, not the server: an idle connection has nothing to read unless the server said goodbye
    (its FATAL message, then EOF), so a poll with no wait answers without a round trip. A pending
    notification reads as gone too: the cost is one reconnect."""
    if driver.closed or driver.broken:
        return True
    poll = select.poll()
    poll.register(driver.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poll.poll(0))


def _checked_out(dbapi_conn, _record, _proxy) -> None:
    # In place of pool_pre_ping (a SELECT 1 round trip on every checkout): the pool discards a
    # connection that fails this and hands out another (a fresh one if need be).
    if _gone(dbapi_conn):
        raise DisconnectionError("the server closed the connection")


class CommitFailed(Exception):
    """The transaction a unit of work was committed in failed to commit: nothing of it was kept."""


class _Group:
    """Units of work sharing one SQLite transaction, and so one commit: one sync to disk."""

    def __init__(self, transaction) -> None:
        self.transaction = transaction
        self.members = 0
        self.error: Exception | None = None
        self.committed = threading.Event()


class Store:
    """The engine and a transaction helper; one per process."""

    #: The most units of work one SQLite commit carries (group commit, see :meth:`connection`).
    GROUP_MAX = 32

    def __init__(self, url: str, echo: bool = False, sqlite_synchronous: str = "FULL",
                 keys: KeyRing | None = None) -> None:
        """``keys``: what seals plates at rest (default :meth:`KeyRing.load`: ``PARKGATE_KEYS``, else
        ``var/keys.json``, made on first use)."""
        self.url = url
        self.synchronous = sqlite_synchronous
        self.keys = keys or KeyRing.load()
        kwargs: dict = {}
        if url.startswith("sqlite"):
            # Every unit of work holds the writer lock (see connection()), so one connection
            # serves them all in turn: no pool to check out of and back into per event.
            kwargs.update(connect_args={"check_same_thread": False}, poolclass=StaticPool)
        else:
            kwargs.update(pool_size=20, max_overflow=10)
        # Errors never quote the statement's values: they are plates and times of people.
        self.engine = create_engine(url, echo=echo, hide_parameters=True, **kwargs)
        attach(self.engine, self.keys)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas(sqlite_synchronous))
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            event.listen(self.engine.pool, "checkout", _checked_out)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # read()'s connections on PostgreSQL: the same pool, each statement committed on its own
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._writer = threading.Lock()
        self._waiting = 0                   # threads waiting for the writer lock
        self._waiting_count = threading.Lock()
        self._nobody_waits = threading.Condition(self._waiting_count)   # told when the count drops to 0
        self._connection: Connection | None = None
        self._group: _Group | None = None   # the SQLite transaction units are being added to
        self._readers: Any = None           # SQLite: the engine of read(), made on first use
        self._readers_made = threading.Lock()
        self._reader = threading.local()    # SQLite: this thread's reader connection (conn)
        self._kept: dict[threading.Thread, Connection] = {}   # every thread's, to close

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work on an ORM session: committed when the block ends, rolled back if it raises.
        For tools and tests that want the schema's models; the gateway itself works on
        :meth:`connection` through the repositories.

        On SQLite it is a unit of work of :meth:`connection` (so it takes its turn and joins a
        commit group like any other), the session in a savepoint of its own.
        """
        if self.dialect != "sqlite":
            with self._sessions.begin() as session:
                yield session
            return
        with self.connection() as conn, self._sessions(bind=conn, join_transaction_mode="create_savepoint") as session:
            yield session
            session.commit()

    @contextmanager
    def connection(self, background: bool = False, grouped: bool = False,
                   durable: bool = True) -> Iterator[Connection]:
        """A unit of work on a plain Core connection: committed when the block ends, rolled back if it
        raises. The repositories take this connection.

        ``background`` (the retention job's batches): on SQLite, the unit takes its turn only once no
        other unit waits for one (or after half a second of waiting), so lane events go first.
        ``durable=False`` (what a power cut may undo at no cost: a purge batch, done again by the next
        run): on SQLite, a unit that finds no group open commits on its own at once and without a
        sync to disk (``synchronous=NORMAL`` for that commit), so lane events never wait behind its
        fsync; the next durable commit's sync covers its pages too (the WAL is written in order).

        ``grouped``: on PostgreSQL too, the unit takes its turn and commits in a group as on SQLite
        (below). For small units that all lock one row (the audit chain's head): they take turns on
        that lock anyway, each holding it through its own commit's sync; in a group they share one.

        SQLite has one writer at a time; its busy handler makes waiting writers sleep and retry,
        which turns contention into latency spikes of hundreds of milliseconds. So the units of
        work take turns under an in-process writer lock instead (one process owns a SQLite
        database), on one long-lived connection, and commit in groups: a unit that ends while
        others wait for their turn leaves the transaction open for them (each later unit's
        changes in a savepoint, so that a unit that fails takes back only its own), and the last
        of the group commits for all. Each unit's block returns only once its changes are
        committed. Under load many events share one sync to disk; one at a time, each commits
        at once as before.
        """
        if self.dialect != "sqlite" and not grouped:
            with self.engine.begin() as conn:
                yield conn
            return
        if background:  # lane events first; but never starved for more than half a second
            with self._waiting_count:   # woken when nobody waits: no polling thread to take the GIL
                self._nobody_waits.wait_for(lambda: not self._waiting, timeout=0.5)
        with self._turn():
            if (self._connection is not None and self._group is None and self.dialect != "sqlite"
                    and _gone(self._connection.connection.driver_connection)):
                self._connection.invalidate()  # killed while idle: this unit starts on a fresh one
                self._connection = None
            if self._connection is None:
                self._connection = self.engine.connect()
            conn = self._connection
            first = self._group is None
            alone = first and not durable and self.dialect == "sqlite"
            if alone:  # the safety level cannot change inside a transaction: before it begins
                _sqlite_synchronous(conn, "NORMAL")
            try:
                group = self._group = _Group(conn.begin()) if self._group is None else self._group
                # A later unit's savepoint is plain SQL on the driver's connection: SQLAlchemy's
                # begin_nested() compiles a statement with a fresh name every time (40 us a unit).
                # One unit at a time holds the connection, so one name serves them all.
                driver: Any = conn.connection.driver_connection
                if not first:
                    self._on_savepoint(driver, "SAVEPOINT unit")
                try:
                    yield conn
                except BaseException:
                    if first:  # nothing else is in the transaction yet
                        self._group = None
                        group.transaction.rollback()
                        if conn.invalidated:  # the server went away: the next unit connects afresh
                            conn.close()
                            self._connection = None
                        raise
                    self._on_savepoint(driver, "ROLLBACK TO SAVEPOINT unit", "RELEASE SAVEPOINT unit")
                    if not self._waiting:
                        self._commit_group()
                    raise
                if not first:
                    self._on_savepoint(driver, "RELEASE SAVEPOINT unit")
                group.members += 1
                if alone or not self._waiting or group.members >= self.GROUP_MAX:
                    self._commit_group()
            finally:
                if alone and self._connection is not None:
                    _sqlite_synchronous(self._connection, self.synchronous)
        group.committed.wait()
        if group.error is not None:
            raise CommitFailed(f"the transaction failed to commit: {group.error}") from group.error

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection that only reads, outside every unit of work: on SQLite it neither waits for
        the writer's turn nor for a group's commit (WAL lets readers run beside the writer). For
        look-ups on every request (the caller's account) that must not queue behind lane events;
        each thread keeps its own (:meth:`_kept_reader`), in autocommit: no snapshot held between reads.

        On PostgreSQL, as on SQLite, each statement runs on its own (autocommit): no BEGIN before it
        and no ROLLBACK when the connection goes back to the pool, two round trips fewer a read."""
        if self.dialect != "sqlite":
            with self._autocommit.connect() as conn:
                yield conn
            return
        if ":memory:" in self.url or self.url == "sqlite://":  # one connection holds the whole database
            with self.connection() as conn:
                yield conn
            return
        kept: Connection | None = getattr(self._reader, "conn", None)
        if kept is None or kept.closed or kept.invalidated:
            kept = self._reader.conn = self._kept_reader()
        try:
            yield kept
        finally:
            if kept.in_transaction():   # SQLAlchemy's own begin: the driver holds none (autocommit)
                kept.rollback()

    def _kept_reader(self) -> Connection:
        """A reader connection for this thread to keep (SQLite): checked out of a pool and back in
        for every read, the connection cost what the account's look-up itself costs (AuthorizePlate
        reads twice a request). Those of threads that have ended are closed meanwhile."""
        with self._readers_made:
            if self._readers is None:
                # No limit: each thread keeps one (the request threads, the console's, the jobs').
                self._readers = create_engine(self.url, hide_parameters=True, pool_size=0,
                                              connect_args={"check_same_thread": False})
                attach(self._readers, self.keys)
                event.listen(self._readers, "connect", _sqlite_reader)
            for thread, kept in list(self._kept.items()):
                if not thread.is_alive() or kept.closed or kept.invalidated:
                    del self._kept[thread]
                    kept.close()
            conn = self._kept[threading.current_thread()] = self._readers.connect()
            return conn

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """The writer lock, counting who waits for it: a group commits when nobody does."""
        with self._waiting_count:
            self._waiting += 1
        try:
            self._writer.acquire()
        finally:
            with self._waiting_count:
                self._waiting -= 1
                if not self._waiting:
                    self._nobody_waits.notify_all()
        try:
            yield
        finally:
            self._writer.release()

    def _on_savepoint(self, driver: Any, *statements: str) -> None:
        """A unit's savepoint statements; should they fail (the server went away: PostgreSQL), the
        group is rolled back and its members told, rather than left open with members waiting."""
        try:
            for statement in statements:
                driver.execute(statement)
        except Exception as e:
            group, self._group = self._group, None
            if group is not None:
                group.error = e
                group.committed.set()
            if self._connection is not None:
                self._connection.invalidate()  # its state is unknown: the next unit starts afresh
                self._connection = None
            raise

    def _commit_group(self) -> None:
        """Commit the open group, if any (holding the writer lock); its members learn how it went."""
        group, self._group = self._group, None
        if group is None:
            return
        try:
            group.transaction.commit()
        except Exception as e:  # noqa: BLE001 - every member of the group is told
            group.error = e
            if self._connection is not None:
                self._connection.invalidate()  # its state is unknown: the next unit starts afresh
                self._connection = None
        finally:
            group.committed.set()

    def dispose(self) -> None:
        if self._readers is not None:
            with self._readers_made:
                for kept in self._kept.values():
                    kept.close()
                self._kept.clear()
            self._readers.dispose()
        if self._connection is not None or self.dialect == "sqlite":
            with self._turn():
                self._commit_group()
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None
        self.engine.dispose()


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-backed SQLite database (``var/`` on a fresh checkout)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix + ":memory:":
        Path(url[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
