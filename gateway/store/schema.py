"""The schema: every table, as SQLAlchemy 2 declarative models (Alembic's ``target_metadata``).

Created and upgraded by the migrations in ``migrations/``; a test compares the two. The rest of
the gateway reads and writes through the repository modules beside this one, which hand out
the domain's records, never these rows.
"""

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ..domain.audit import ERASE_PLATE
from .sealed import Sealed, SealedBytes, plate_column, plate_index_column


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


def table_of(model: type[Base]) -> Table:
    """A model's table, for Core statements (the repositories work on Core, not the ORM)."""
    return cast(Table, model.__table__)


class _LaneEventFields:
    """What a lane event says: one per EventID, where and when, and the plate as read."""
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(5))
    occurred_at: Mapped[datetime]
    plate = plate_column()
    plate_index = plate_index_column()
    confidence: Mapped[Decimal | None] = mapped_column(ExactDecimal(5, 4))


class LaneEventRecord(_LaneEventFields, Base):
    """One lane event as submitted, and the outcome returned for it (replayed on duplicates)."""
    __tablename__ = "lane_events"
    recorded_at: Mapped[datetime]
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Sealed())     # the answer, which quotes the plate
    # What the request said (gateway.domain.events.fingerprint): the same EventID with another
    # fingerprint is another request. None for events recorded before fingerprints were kept.
    # Sealed: a plain digest of a request that holds a plate gives the plate away to a dictionary.
    fingerprint: Mapped[str | None] = mapped_column(Sealed())


class SessionRecord(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    plate = plate_column(nullable=False)
    plate_index = plate_index_column(index=False)
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
    # issue 16: vehicle type, zone, the pictures at entry and exit (content hashes) and how alike
    vehicle_type: Mapped[str] = mapped_column(String(16), default="car", server_default=text("'car'"))
    zone_id: Mapped[str | None] = mapped_column(String(64))
    entry_image: Mapped[str | None] = mapped_column(String(64))
    exit_image: Mapped[str | None] = mapped_column(String(64))
    image_match_score: Mapped[Decimal | None] = mapped_column(ExactDecimal(6, 4))
    __table_args__ = (
        # At most one open session per plate and facility.
        Index("uq_sessions_open_plate", "facility_id", "plate_index", unique=True,
              sqlite_where=text("status = 'OPEN'"), postgresql_where=text("status = 'OPEN'")),
        Index("ix_sessions_plate", "plate_index", "facility_id"),
        # issue 16: the open sessions of a zone and vehicle type (its spaces taken), counted at entry.
        Index("ix_sessions_open_zone", "facility_id", "zone_id", "vehicle_type",
              sqlite_where=text("status = 'OPEN'"), postgresql_where=text("status = 'OPEN'")),
    )


class PaymentRecord(Base):
    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(32))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    # The payments journal (issue 16, part B): voids and refunds are entries of their own (negative),
    # an officer's entries belong to their shift, an integrator's to its channel.
    facility_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8), default="PAYMENT", server_default=text("'PAYMENT'"))
    vehicle_type: Mapped[str | None] = mapped_column(String(16))
    lane_number: Mapped[int | None] = mapped_column(Integer)
    shift_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    tendered: Mapped[Decimal | None]
    change: Mapped[Decimal | None]
    reference: Mapped[str | None] = mapped_column(String(64))
    card_last_four: Mapped[str | None] = mapped_column(String(4))
    partial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    original_id: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str | None] = mapped_column(String(1000))
    authorised_by: Mapped[str | None] = mapped_column(String(64))


class PermitRecord(Base):
    __tablename__ = "permits"
    permit_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    plate = plate_column(nullable=False)
    plate_index = plate_index_column()
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
    plate = plate_column(nullable=False)
    plate_index = plate_index_column()
    jurisdiction: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(64))
    fine: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    due_date: Mapped[date] = mapped_column(Date)
    evidence_url: Mapped[str | None] = mapped_column(String(2048))
    note: Mapped[str | None] = mapped_column(String(1000))
    issued_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))
    # issue 17: a citation the violation scan found is of one session; the plate clip is evidence too.
    session_id: Mapped[str | None] = mapped_column(String(64))
    plate_clip_url: Mapped[str | None] = mapped_column(String(2048))
    __table_args__ = (
        # The scan cites each violation of a session once, however many scans and nodes find it.
        Index("uq_citations_session_violation", "session_id", "violation", unique=True,
              sqlite_where=text("session_id IS NOT NULL"), postgresql_where=text("session_id IS NOT NULL")),
    )


class HotlistRecord(Base):
    """A plate to hold at the barrier (stolen, banned, unpaid debts), everywhere or in one facility."""
    __tablename__ = "hotlist"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plate = plate_column(nullable=False)
    plate_index = plate_index_column()
    facility_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]
    # issue 17: stolen, wanted, banned or watch (gateway.domain.hotlist); who listed it; until when.
    category: Mapped[str] = mapped_column(String(8), default="banned", server_default=text("'banned'"))
    source: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IncidentRecord(Base):
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
    kind: Mapped[str] = mapped_column(String(32))           # ParkingEvent, ..., ParkingStatusPublication
    key: Mapped[str] = mapped_column(String(96))            # the idempotency key sent with it
    facility_id: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Sealed())   # quotes the plate
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


class ReviewRecord(_LaneEventFields, Base):
    """A lane event a person must decide: the plate was not read, or not surely, or made no sense."""
    __tablename__ = "reviews"
    reason: Mapped[str] = mapped_column(String(64))
    image: Mapped[bytes | None] = mapped_column(SealedBytes())
    image_url: Mapped[str | None] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(8), index=True)  # OPEN, RESOLVED
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_plate = plate_column()
    resolved_plate_index = plate_index_column("resolved_plate")
    outcome: Mapped[str | None] = mapped_column(String(8))


class UserRecord(Base):
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
    # Failed logins in a row, and until when they lock the account (gateway.domain.users.Lockout).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NonceRecord(Base):
    """WS-Security nonces seen within the freshness window (replay protection, shared by processes)."""
    __tablename__ = "ws_nonces"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


#: The audit entries of plates' erasures: the partial index's predicate, and the query's it serves,
#: with the action written out (a bound parameter would keep SQLite and PostgreSQL's generic plans off it).
ERASURES = text(f"action = '{ERASE_PLATE}'")


class AuditRecord(Base):
    """Who did what to which record, from where, and why; no plate text (a keyed hash), no secrets.
    Append-only, each entry chained to the one before (gateway.domain.audit)."""
    __tablename__ = "audit_log"
    # The erasures' plates, which audit verify reads (gateway.store.audit.erased_plates): a few rows
    # of a large log, and nothing for the other entries' appends to keep up.
    __table_args__ = (Index("ix_audit_log_erasures", "plate_hash", sqlite_where=ERASURES,
                            postgresql_where=ERASURES),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str | None] = mapped_column(String(1000))
    address: Mapped[str | None] = mapped_column(String(64))      # the caller's, as the transport saw it
    kind: Mapped[str] = mapped_column(String(8), default="CHANGE", server_default=text("'CHANGE'"))
    plate_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))    # None: recorded before entries were chained
    entry_hash: Mapped[str | None] = mapped_column(String(64))


class AuditPlateRecord(Base):
    """A plate an audit entry showed, as the log's keyed hash (:meth:`gateway.domain.audit.AuditKeys.plate_hash`):
    a listing (ListHotlist, ScanViolations, ListPermits, ListOvernightVehicles, ListReviews) shows
    many plates, and the by-plate query ("who looked at plate X") finds the entry by any of them.
    Chained with their entry (entries chained before 0142 were chained without them); deleted with
    their entry (retention). The plate's erasure replaces the hash by its tombstone (``erased``:
    :meth:`gateway.domain.audit.AuditKeys.erased_plate`), which no plate's hash matches and the
    chain's check traces to the erasure's entry: since 0143 by the plate's hash sealed beside it
    (``sealed_plate``: :meth:`gateway.domain.audit.AuditKeys.seal_erased`)."""
    __tablename__ = "audit_plates"
    entry_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id", ondelete="CASCADE"), primary_key=True)
    plate_hash: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    erased: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    sealed_plate: Mapped[str | None] = mapped_column(String(64))   # a tombstone's (None: not one, or before 0143)


# --- operations (issue 19, part A): the audit chain's head, leases, lane commands -----------

class AuditHeadRecord(Base):
    """The audit chain's head: one row (id 1), locked by every writer of the log while it appends."""
    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_id: Mapped[int | None] = mapped_column(Integer)    # the oldest chained entry kept
    last_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class NodeLease(Base):
    """Which gateway node holds a named duty (driving a lane's PLC, a scheduled job) and until when."""
    __tablename__ = "node_leases"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LaneCommandRecord(Base):
    """A barrier command for a lane another node drives: that node carries it out and answers here."""
    __tablename__ = "lane_commands"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    lane_number: Mapped[int] = mapped_column(Integer)
    command: Mapped[str] = mapped_column(String(16))         # open, hold, release, close, seen, status
    argument: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(8), index=True)  # PENDING, DONE
    result: Mapped[str | None] = mapped_column(Text)          # JSON: what the driving node answered
    answered_by: Mapped[str | None] = mapped_column(String(128))


# Closed sessions are purged and anonymised oldest exit first (gateway.store.retention).
Index("ix_sessions_exit_time", SessionRecord.exit_time)
# The console's dashboard: a facility's exits per hour and day (issue 18; its entries: the index below).
Index("ix_sessions_facility_exit", SessionRecord.facility_id, SessionRecord.exit_time)


class LaneWindowRecord(Base):
    """The vehicle a lane (one direction) saw last, for frames spread over several nodes (store.windows)."""
    __tablename__ = "lane_windows"
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(5), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    readings: Mapped[str] = mapped_column(Sealed())   # JSON [[plate, confidence], ...]


# --- the operator's day (issue 16, part B): tickets, the payments journal, shifts, lost tickets ---

class TicketRecord(Base):
    """The ticket a transient entry printed; its number is unique in its facility."""
    __tablename__ = "tickets"
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), unique=True)
    issued_at: Mapped[datetime]
    lane_number: Mapped[int] = mapped_column(Integer)
    vehicle_type: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(8))            # ISSUED, USED, LOST
    closed_at: Mapped[datetime | None]


class ShiftRecord(Base):
    """An officer's shift at a booth or lane: at most one open per officer."""
    __tablename__ = "shifts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[str] = mapped_column(String(64))
    lane_number: Mapped[int | None] = mapped_column(Integer)
    booth: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    opening_float: Mapped[Decimal]
    opened_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(8))            # OPEN, CLOSED, SIGNED
    closed_at: Mapped[datetime | None]
    declared: Mapped[str | None] = mapped_column(Text)       # JSON {method: amount}
    signed_by: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(1000))
    __table_args__ = (
        Index("uq_shifts_open_officer", "officer", unique=True,
              sqlite_where=text("state = 'OPEN'"), postgresql_where=text("state = 'OPEN'")),
    )


class LostTicketRecord(Base):
    """A lost ticket processed: which session, the charge by the facility's policy, who and why."""
    __tablename__ = "lost_tickets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)   # read by every exit
    ticket_number: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(1000))
    policy: Mapped[str] = mapped_column(String(24))
    charge: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    shift_id: Mapped[str | None] = mapped_column(String(64))


# Reports read sessions by facility and entry time.
Index("ix_sessions_facility_entry", SessionRecord.facility_id, SessionRecord.entry_time)


class OccupancyHourRecord(Base):
    """A facility's hour as its lanes counted it (issue 17): kept by each entry and exit as it happens.

    In shards (0150): each database connection adds to a row of its own (``shard``: its PostgreSQL
    backend's pid; 0 on SQLite, which has one writer), so lane events running side by side never
    wait on one another's row lock; the hour is the sum of its shards (the highest peak, and the
    occupancy its latest event, ``last_at``, left)."""
    __tablename__ = "occupancy_hours"
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)   # its start, UTC
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, server_default="0")
    entries: Mapped[int] = mapped_column(Integer)
    exits: Mapped[int] = mapped_column(Integer)
    stays: Mapped[int] = mapped_column(Integer)
    stay_seconds: Mapped[int] = mapped_column(Integer)
    peak: Mapped[int] = mapped_column(Integer)
    occupied_end: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # the latest event counted here
# --- issue 16: versioned tariffs, stored pictures ---------------------------------------------

class TariffVersionRecord(Base):
    """A tariff version set since start (SetTariff): never changed, never deleted; ``id`` is its
    version number. ``rules``: :func:`gateway.domain.tariff_settings.settings_of`, as JSON."""
    __tablename__ = "tariff_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    vehicle_type: Mapped[str] = mapped_column(String(16))
    effective_from: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    rules: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(500))
    __table_args__ = (Index("ix_tariff_versions_facility", "facility_id", "vehicle_type", "effective_from"),)


class StoredImageRecord(Base):
    """A picture of a vehicle kept once by its content hash (the file lies under [storage]
    images_dir); ``stored_at``: when first kept (retention counts from it)."""
    __tablename__ = "stored_images"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(index=True)


# --- issue 16: the report's rollups, kept by each write they count (gateway.store.rollups) ----

class RevenueRollupRecord(Base):
    """The payments journal summed per facility, quarter hour of UTC (``paid_at``), method, kind,
    vehicle type and lane (0: none), in shards (:mod:`gateway.store.shards`: read, a group is its
    shards summed). ``amount_e4``: in ten-thousandths of the currency, exact on every database and
    by integer addition."""
    __tablename__ = "revenue_rollups"
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quarter: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    method: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    vehicle_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    lane_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
    amount_e4: Mapped[int] = mapped_column(BigInteger)


class TrafficRollupRecord(Base):
    """Entries and exits per facility and quarter hour of UTC; an exit also by the band of
    :data:`gateway.domain.reports.STAY_BANDS` its stay fell in (an entry: band 0); in shards, like
    revenue_rollups."""
    __tablename__ = "traffic_rollups"
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quarter: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    movement: Mapped[str] = mapped_column(String(5), primary_key=True)     # ENTRY, EXIT
    stay_band: Mapped[int] = mapped_column(Integer, primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)


# --- issue 16: zones (levels, areas) ----------------------------------------------------------

class ZoneVersionRecord(Base):
    """A zone as an admin set it (SetZone): appended, never changed; ``id`` is its version number,
    the latest of a zone in force. ``capacity``: vehicle type -> spaces, as JSON."""
    __tablename__ = "zone_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    zone_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[str] = mapped_column(Text)
    permit_only: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(500))
    __table_args__ = (Index("ix_zone_versions_facility", "facility_id", "zone_id"),)


class ZoneOccupancyHourRecord(Base):
    """A zone's hour for one vehicle type, as its entries and exits counted it (like occupancy_hours,
    in shards: the latest shard, by ``last_at``, holds the hour's ``occupied_end``)."""
    __tablename__ = "zone_occupancy_hours"
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    vehicle_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)   # its start, UTC
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column(Integer)
    exits: Mapped[int] = mapped_column(Integer)
    peak: Mapped[int] = mapped_column(Integer)
    occupied_end: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)   # the latest event counted here


# --- the operator console's log-ins (issue 18) ---------------------------------------------------

class ConsoleSessionRecord(Base):
    """A console session, shared by every node (a restart logs nobody out, no sticky sessions): the
    browser's cookie holds the id, kept here only as its SHA-256 (a copy of this table logs nobody
    in). ``flashes`` (messages shown once, which may quote a plate) and ``capture`` (the booth
    camera's last picture) are sealed like plates."""
    __tablename__ = "console_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    csrf: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    facility_id: Mapped[str | None] = mapped_column(String(64))
    created: Mapped[datetime]
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    flashes: Mapped[str | None] = mapped_column(Sealed())
    capture: Mapped[bytes | None] = mapped_column(SealedBytes())
