"""Durable state: SQLAlchemy 2 models and the engine set-up for SQLite and PostgreSQL.

All calls here block; the server runs them in its request threads, never on the reactor.
The schema itself is created and upgraded by Alembic (``gateway/migrations``).
"""

import threading
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, Numeric, String, Text,
                        create_engine, event, text)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in, timezone-aware UTC out, whatever the database keeps."""
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class ExactDecimal(TypeDecorator):
    """Decimal in, the same Decimal out: NUMERIC where the database has it, text on SQLite
    (whose NUMERIC affinity would round through binary floating point)."""
    impl = Numeric
    cache_ok = True

    def __init__(self, precision=14, scale=4):
        super().__init__()
        self.precision, self.scale = precision, scale

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


Money = ExactDecimal(14, 4)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, Decimal: Money}


class _LaneEventFields:
    """What a lane event says: one per EventID, where and when, and the plate as read."""
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(5))
    occurred_at: Mapped[datetime]
    plate: Mapped[str | None] = mapped_column(String(12))
    confidence: Mapped[Decimal | None] = mapped_column(ExactDecimal(5, 4))


class LaneEventRecord(_LaneEventFields, Base):
    """One lane event as submitted, and the outcome returned for it (replayed on duplicates)."""
    __tablename__ = "lane_events"
    recorded_at: Mapped[datetime]
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)


class ParkingSession(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    plate: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(8))  # OPEN, CLOSED
    entry_time: Mapped[datetime]
    exit_time: Mapped[datetime | None]
    entry_event_id: Mapped[str] = mapped_column(String(64))
    exit_event_id: Mapped[str | None] = mapped_column(String(64))
    lane_number: Mapped[int] = mapped_column(Integer)
    jurisdiction: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(64))
    space_assigned: Mapped[str | None] = mapped_column(String(64))
    permit_number: Mapped[str | None] = mapped_column(String(64))
    amount_charged: Mapped[Decimal | None]
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    paid_at: Mapped[datetime | None]
    __table_args__ = (
        # At most one open session per plate and facility.
        Index("uq_sessions_open_plate", "facility_id", "plate", unique=True,
              sqlite_where=text("status = 'OPEN'"), postgresql_where=text("status = 'OPEN'")),
        Index("ix_sessions_plate", "plate", "facility_id"),
    )


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(32))
    paid_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))


class PermitRecord(Base):
    __tablename__ = "permits"
    permit_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    plate: Mapped[str] = mapped_column(String(12), index=True)
    facility_id: Mapped[str | None] = mapped_column(String(64))  # None: every facility
    permit_type: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8))  # ACTIVE, REVOKED
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(1000))


class CitationRecord(Base):
    __tablename__ = "citations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issued_at: Mapped[datetime]
    facility_id: Mapped[str] = mapped_column(String(64))
    violation: Mapped[str] = mapped_column(String(40))
    plate: Mapped[str] = mapped_column(String(12), index=True)
    jurisdiction: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(64))
    fine: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    due_date: Mapped[date] = mapped_column(Date)
    evidence_url: Mapped[str | None] = mapped_column(String(2048))
    note: Mapped[str | None] = mapped_column(String(1000))
    issued_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))


class HotlistEntry(Base):
    """A plate to hold at the barrier (stolen, banned, unpaid debts), everywhere or in one facility."""
    __tablename__ = "hotlist"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plate: Mapped[str] = mapped_column(String(12), index=True)
    facility_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]


class LaneIncident(Base):
    """What a lane's PLC reported or failed to do: tailgating, offline, a barrier that did not rise."""
    __tablename__ = "lane_incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    lane_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))


class OutboxMessage(Base):
    """A document owed to one relay destination, written in the transaction that caused it."""
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    destination: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))           # ParkingEvent, Citation, Permit
    key: Mapped[str] = mapped_column(String(96))            # the idempotency key sent with it
    facility_id: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(9))           # PENDING, DELIVERED, SKIPPED, DEAD
    # A ParkingEvent decided REVIEW: a person decides it, and the resolution follows (same EventID).
    provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("ix_outbox_queue", "destination", "state", "id"),
    )


class RelayLease(Base):
    """Which gateway node delivers a relay destination's queue, and until when it may without
    renewing: one node at a time, however many share the database (adapters.outbox)."""
    __tablename__ = "relay_leases"
    destination: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Review(_LaneEventFields, Base):
    """A lane event a person must decide: the plate was not read, or not surely, or made no sense."""
    __tablename__ = "reviews"
    reason: Mapped[str] = mapped_column(String(64))
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    image_url: Mapped[str | None] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(8), index=True)  # OPEN, RESOLVED
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_plate: Mapped[str | None] = mapped_column(String(12))
    outcome: Mapped[str | None] = mapped_column(String(8))


class User(Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    # Only for users allowed to authenticate with PasswordDigest, which needs the password itself.
    digest_secret: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Demo users (made by ``make run``) are refused unless the gateway listens on loopback only.
    demo: Mapped[bool] = mapped_column(Boolean, default=False)


class UsedNonce(Base):
    """WS-Security nonces seen within the freshness window (replay protection, shared by processes)."""
    __tablename__ = "ws_nonces"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEntry(Base):
    """Who did what to which record, and why; no plate text, no secrets."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str | None] = mapped_column(String(1000))


def _sqlite_pragmas(synchronous):
    def on_connect(dbapi_conn, _record):
        # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin); WAL lets readers run beside the writer.
        # synchronous=FULL syncs every commit (survives power loss); NORMAL syncs at checkpoints
        # (survives a crash of the gateway, not of the machine) and costs a third less CPU per event.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()
    return on_connect


def _sqlite_begin(conn):
    # Take the write lock up front: two deferred transactions that both upgrade to writing
    # would otherwise fail with "database is locked" instead of waiting their turn.
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE")


class CommitFailed(Exception):
    """The transaction a unit of work was committed in failed to commit: nothing of it was kept."""


class _Group:
    """Units of work sharing one SQLite transaction, and so one commit: one sync to disk."""

    def __init__(self, transaction):
        self.transaction = transaction
        self.members = 0
        self.error = None
        self.committed = threading.Event()


class Store:
    """The engine and a transaction helper; one per process."""

    #: The most units of work one SQLite commit carries (group commit, see :meth:`connection`).
    GROUP_MAX = 32

    def __init__(self, url, echo=False, sqlite_synchronous="FULL"):
        self.url = url
        kwargs = {}
        if url.startswith("sqlite"):
            # Every unit of work holds the writer lock (see connection()), so one connection
            # serves them all in turn: no pool to check out of and back into per event.
            kwargs.update(connect_args={"check_same_thread": False}, poolclass=StaticPool)
        else:
            kwargs.update(pool_size=20, max_overflow=10, pool_pre_ping=True)
        # Errors never quote the statement's values: they are plates and times of people.
        self.engine = create_engine(url, echo=echo, hide_parameters=True, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas(sqlite_synchronous))
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = threading.Lock()
        self._waiting = 0                   # threads waiting for the writer lock
        self._waiting_count = threading.Lock()
        self._connection = None
        self._group = None                  # the SQLite transaction units are being added to

    @property
    def dialect(self):
        return self.engine.dialect.name

    @contextmanager
    def transaction(self):
        """A unit of work (ORM session): committed when the block ends, rolled back if it raises.

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
    def connection(self):
        """Like :meth:`transaction`, on a plain Core connection (no ORM unit of work): for hot paths.

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
        if self.dialect != "sqlite":
            with self.engine.begin() as conn:
                yield conn
            return
        with self._turn():
            if self._connection is None:
                self._connection = self.engine.connect()
            conn = self._connection
            first = self._group is None
            if first:
                self._group = _Group(conn.begin())
            group = self._group
            # A later unit's savepoint is plain SQL on the driver's connection: SQLAlchemy's
            # begin_nested() compiles a statement with a fresh name every time (40 us a unit).
            # One unit at a time holds the connection, so one name serves them all.
            driver = conn.connection.driver_connection
            if not first:
                driver.execute("SAVEPOINT unit")
            try:
                yield conn
            except BaseException:
                if first:  # nothing else is in the transaction yet
                    self._group = None
                    group.transaction.rollback()
                    raise
                driver.execute("ROLLBACK TO SAVEPOINT unit")
                driver.execute("RELEASE SAVEPOINT unit")
                if not self._waiting:
                    self._commit_group()
                raise
            if not first:
                driver.execute("RELEASE SAVEPOINT unit")
            group.members += 1
            if not self._waiting or group.members >= self.GROUP_MAX:
                self._commit_group()
        group.committed.wait()
        if group.error is not None:
            raise CommitFailed(f"the transaction failed to commit: {group.error}") from group.error

    @contextmanager
    def _turn(self):
        """The writer lock, counting who waits for it: a group commits when nobody does."""
        with self._waiting_count:
            self._waiting += 1
        try:
            self._writer.acquire()
        finally:
            with self._waiting_count:
                self._waiting -= 1
        try:
            yield
        finally:
            self._writer.release()

    def _commit_group(self):
        """Commit the open group, if any (holding the writer lock); its members learn how it went."""
        group, self._group = self._group, None
        if group is None:
            return
        try:
            group.transaction.commit()
        except Exception as e:  # noqa: BLE001 - every member of the group is told
            group.error = e
            self._connection.invalidate()  # its state is unknown: the next unit starts afresh
            self._connection = None
        finally:
            group.committed.set()

    def dispose(self):
        if self.dialect == "sqlite":
            with self._turn():
                self._commit_group()
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None
        self.engine.dispose()


class Prepared:
    """A Core statement compiled once per dialect and run on the unit's DBAPI cursor: for the few
    statements of the lane-event path, which never change.

    ``Connection.execute`` builds an execution context, dispatches events and wraps the cursor
    on every call: measured, 55 us a statement beside 11 us in the driver, a fifth of a lane
    event's own CPU. What a call needs is kept: the column types' bind and result processing
    (UTC datetimes, exact decimals, as :meth:`Connection.execute` does them) and SQLAlchemy's
    exceptions (a duplicate EventID is still an ``IntegrityError``). Not kept: SQL echo logging
    and cursor events, which nothing on this path uses. ``keys``: the columns an INSERT or an
    UPDATE sets (the statement is compiled for exactly those).
    """

    def __init__(self, statement, keys=None):
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._plans = {}  # dialect name -> _PreparedPlan

    def _plan(self, conn):
        dialect = conn.dialect
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _PreparedPlan(self.statement, self.keys, dialect)
        return plan

    def rows(self, conn, params):
        """Every row, as a dict by the statement's column keys."""
        plan = self._plan(conn)
        cursor = plan.execute(conn, params)
        try:
            names, processors = plan.result(cursor.description)
            return [{name: (value if process is None else process(value))
                     for name, process, value in zip(names, processors, row)} for row in cursor.fetchall()]
        finally:
            cursor.close()

    def run(self, conn, params):
        """The number of rows an INSERT, UPDATE or DELETE touched."""
        cursor = self._plan(conn).execute(conn, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()


class _PreparedPlan:
    """One statement for one dialect: its SQL, its parameters in order with their processors."""

    def __init__(self, statement, keys, dialect):
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        if compiled.insert_prefetch or compiled.update_prefetch or compiled.post_compile_params:
            raise ValueError("Prepared runs statements whose values all come from the caller")
        self.sql = compiled.string
        self.dialect = dialect
        order = compiled.positiontup if compiled.positional else list(compiled.binds)
        self.names = None if compiled.positional else order  # pyformat drivers take a dict by name
        self.binds = [(name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                      for name in order]
        self.statement = statement
        self._results = None

    def execute(self, conn, params):
        values = [params[name] if process is None else process(params[name]) for name, process in self.binds]
        if self.names is not None:
            values = dict(zip(self.names, values))
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, values)
        except self.dialect.loaded_dbapi.Error as e:
            cursor.close()
            raise DBAPIError.instance(self.sql, values, e, self.dialect.loaded_dbapi.Error,
                                      hide_parameters=conn.engine.hide_parameters, dialect=self.dialect) from e
        return cursor

    def result(self, description):
        """(names, result processors) for the cursor's columns (worked out on the first rows)."""
        if self._results is None:
            columns = self.statement.selected_columns
            self._results = (list(columns.keys()),
                             [column.type.dialect_impl(self.dialect).result_processor(self.dialect, described[1])
                              for column, described in zip(columns, description)])
        return self._results


def ensure_sqlite_dir(url):
    """Create the folder of a file-backed SQLite database (``var/`` on a fresh checkout)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix + ":memory:":
        Path(url[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
