"""The activity log: who did what to which record, from where, and why; no plate text, no secrets.

Append-only and chained (:mod:`gateway.domain.audit`): each entry is written under the chain's
head row, locked for the rest of the unit of work (``SELECT ... FOR UPDATE`` on PostgreSQL, where
several writers and several nodes run at once; SQLite's units of work already take turns), so
entries are chained in the order they commit, however many write at once.

The caller's address is the transport's to say (:func:`origin`): entries recorded while a request
is served carry it without every use case passing it along.
"""

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select, text, union, update

from ..domain.audit import GENESIS, AuditEntry, AuditKeys, ChainHead, Tombstone, fields_of, kind_of
from .keyfile import make_once
from .prepared import Prepared
from .schema import ERASURES, AuditHeadRecord, AuditPlateRecord, AuditRecord, table_of

_AUDIT = table_of(AuditRecord)
_PLATES = table_of(AuditPlateRecord)
_HEAD = table_of(AuditHeadRecord)
_ADDRESS: ContextVar[str | None] = ContextVar("parkgate_audit_address", default=None)
_keys: AuditKeys | None = None

#: Where the audit secret is read from when none was installed: the environment, else this file
#: (created with a random secret on first use).
KEY_ENV = "PARKGATE_AUDIT_KEY"
DEFAULT_KEY_FILE = Path(__file__).resolve().parents[2] / "var" / "audit.key"


def load_key(path: Path | str | None = None) -> AuditKeys:
    """The audit secret from ``PARKGATE_AUDIT_KEY`` (hex), else from ``path`` (made, 0600, when missing)."""
    if os.environ.get(KEY_ENV):
        return AuditKeys(bytes.fromhex(os.environ[KEY_ENV].strip()))
    path = Path(path or DEFAULT_KEY_FILE)
    make_once(path, (os.urandom(32).hex() + "\n").encode())
    return AuditKeys(bytes.fromhex(path.read_text().strip()))


def use_keys(keys: AuditKeys) -> None:
    """The keys this process chains entries and hashes plates with (the composition root sets them)."""
    global _keys
    _keys = keys


def keys() -> AuditKeys:
    global _keys
    if _keys is None:
        _keys = load_key()
    return _keys


@contextmanager
def origin(address: str | None) -> Iterator[None]:
    """Entries recorded inside the block (in this thread) say they came from ``address``."""
    token = _ADDRESS.set(address)
    try:
        yield
    finally:
        _ADDRESS.reset(token)


def enter_origin(address: str | None) -> Token:
    """:func:`origin` without a block, for a transport's hot path: reset with :func:`leave_origin`."""
    return _ADDRESS.set(address)


def leave_origin(token: Token) -> None:
    _ADDRESS.reset(token)


def current_address() -> str | None:
    return _ADDRESS.get()


# The append's three statements, compiled once (gateway.store.prepared): every plate query runs them.
_HEAD_ROW = Prepared(select(_HEAD.c.last_id, _HEAD.c.last_hash, _HEAD.c.first_id)
                     .where(_HEAD.c.id == bindparam("head")).with_for_update())
_APPEND = Prepared(insert(_AUDIT).returning(_AUDIT.c.id),
                   ["at", "username", "address", "kind", "action", "subject", "detail", "plate_hash", "prev_hash",
                    "entry_hash"])
_ADVANCE = Prepared(update(_HEAD).where(_HEAD.c.id == bindparam("head")), ["last_id", "last_hash", "first_id"])


class Entry(NamedTuple):
    """What one entry says, before it is chained: see :func:`record` (``address``: None is none)."""
    at: datetime
    username: str
    action: str
    subject: str
    detail: str | None = None
    plate: str | None = None
    address: str | None = None
    kind: str | None = None
    plates: tuple[str, ...] = ()    # those a listing showed (see :func:`record`)


def record(conn: Connection, at: datetime, username: str, action: str, subject: str, detail: str | None = None,
           *, plate: str | None = None, address: str | None = None, kind: str | None = None,
           plates: Iterable[str] = ()) -> int:
    """Append an entry (its id). ``plate``: the normalised plate it concerns, kept only as a keyed hash;
    ``address``: where the request came from (default: the transport's :func:`origin`); ``kind``:
    QUERY, CHANGE or SYSTEM (default: from the action's name); ``plates``: those a listing showed,
    each kept as its keyed hash beside the entry (``audit_plates``), so the by-plate query finds it."""
    return record_all(conn, [Entry(at, username, action, subject, detail, plate, address or current_address(),
                                   kind, tuple(plates))])[-1]


def record_all(conn: Connection, entries: list[Entry]) -> list[int]:
    """Append ``entries`` in order (their ids), under one read and one write of the chain's head.
    The plates' hashes are worked out first: a listing of many plates holds the head no longer. Each
    entry's hash covers the hashes of the plates it showed (none: an empty list)."""
    if not entries:
        return []
    k = keys()
    shown = [sorted({k.plate_hash(p) for p in e.plates}) for e in entries]
    heads = _HEAD_ROW.rows(conn, {"head": 1})
    if not heads:  # a database made without the migration's row (never on one Alembic made)
        conn.execute(insert(_HEAD).values(id=1, last_id=None, last_hash=GENESIS, first_id=None))
        prev, first_id = GENESIS, None
    else:
        prev, first_id = heads[0]["last_hash"], heads[0]["first_id"]
    ids = []
    for e, plates in zip(entries, shown):
        origin_address = (e.address or "")[:64] or None
        kind = e.kind or kind_of(e.action)
        action, subject, detail = e.action[:64], e.subject[:128], (e.detail or "")[:1000] or None
        plate_hash = k.plate_hash(e.plate) if e.plate else None
        username = e.username[:64]
        entry_hash = k.entry_hash(prev, fields_of(e.at, username, origin_address, kind, action, subject, detail,
                                                  plate_hash, plates))
        ids.append(_APPEND.rows(conn, dict(at=e.at, username=username, address=origin_address, kind=kind,
                                           action=action, subject=subject, detail=detail, plate_hash=plate_hash,
                                           prev_hash=prev, entry_hash=entry_hash))[0]["id"])
        prev = entry_hash
        if first_id is None:
            first_id = ids[-1]
    _ADVANCE.run(conn, dict(head=1, last_id=ids[-1], last_hash=prev, first_id=first_id))
    rows = [{"entry_id": entry_id, "plate_hash": h} for entry_id, hashes in zip(ids, shown) for h in hashes]
    if rows:
        conn.execute(insert(_PLATES), rows)
    return ids


@dataclass(frozen=True)
class AuditFilter:
    """Entries between two instants, of a user, a kind, an action, about a plate (any may be None)."""
    since: datetime | None = None
    until: datetime | None = None
    username: str | None = None
    kind: str | None = None
    action: str | None = None
    plate: str | None = None       # normalised; matched by its keyed hash
    after_id: int | None = None    # paging: entries after this one


def _where(query: Select, f: AuditFilter) -> Select:
    T = _AUDIT
    if f.since is not None:
        query = query.where(T.c.at >= f.since)
    if f.until is not None:
        query = query.where(T.c.at < f.until)
    if f.username:
        query = query.where(T.c.username == f.username)
    if f.kind:
        query = query.where(T.c.kind == f.kind)
    if f.action:
        query = query.where(T.c.action == f.action)
    if f.plate:
        # The entries about the plate, and the listings that showed it: each found by its own index
        # (one OR over both tables would leave PostgreSQL to scan the log).
        hashed = keys().plate_hash(f.plate)
        query = query.where(T.c.id.in_(union(select(T.c.id).where(T.c.plate_hash == hashed),
                                             select(_PLATES.c.entry_id).where(_PLATES.c.plate_hash == hashed))))
    if f.after_id is not None:
        query = query.where(T.c.id > f.after_id)
    return query


def _entry(row) -> AuditEntry:
    return AuditEntry(**row._mapping)


def find(conn: Connection, f: AuditFilter, limit: int | None = None) -> list[AuditEntry]:
    """Matching entries, oldest first."""
    query = _where(select(_AUDIT), f).order_by(_AUDIT.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [_entry(row) for row in conn.execute(query)]


def head(conn: Connection) -> ChainHead:
    row = conn.execute(select(_HEAD.c.first_id, _HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == 1)).first()
    return ChainHead(None, None, GENESIS) if row is None else ChainHead(row.first_id, row.last_id, row.last_hash)


def chunk(conn: Connection, after_id: int | None, limit: int, upto: int | None = None) -> list[AuditEntry]:
    """Entries after ``after_id`` (None: from the start) up to ``upto`` (None: the last), ``limit`` at
    most, in id order, each with the plates it showed (what its chained hash covers)."""
    query = select(_AUDIT).order_by(_AUDIT.c.id).limit(limit)
    if after_id is not None:
        query = query.where(_AUDIT.c.id > after_id)
    if upto is not None:
        query = query.where(_AUDIT.c.id <= upto)
    rows = conn.execute(query).all()
    if not rows:
        return []
    shown: dict[int, list[str]] = {}
    erased: dict[int, list[Tombstone]] = {}
    p = _PLATES.c
    for entry_id, plate_hash, was_erased, sealed in conn.execute(select(
            p.entry_id, p.plate_hash, p.erased, p.sealed_plate).where(
            p.entry_id >= rows[0].id, p.entry_id <= rows[-1].id)):
        if was_erased:
            erased.setdefault(entry_id, []).append(Tombstone(plate_hash, sealed))
        else:
            shown.setdefault(entry_id, []).append(plate_hash)
    return [AuditEntry(**row._mapping, shown=tuple(sorted(shown.get(row.id, ()))),
                       erased=tuple(erased.get(row.id, ()))) for row in rows]


def one_snapshot(conn: Connection) -> None:
    """The rest of ``conn``'s unit of work reads the log as it was when it began (PostgreSQL: each
    statement would see what was committed when it began; SQLite's units take turns): a listing and
    its plates, a tombstone and its erasure's entry, kept or purged together. Its first statement."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def erased_plates(conn: Connection) -> set[str]:
    """The hashes of the plates erased (each erasure's entry keeps its plate's hash), from the
    erasures' own index."""
    return set(conn.execute(select(_AUDIT.c.plate_hash).where(ERASURES, _AUDIT.c.plate_hash.is_not(None))).scalars())


def forget_plate(conn: Connection, plate: str) -> int:
    """The plate's erasure: each listing's hash of it is replaced by its tombstone (how many), which
    the by-plate query never finds and the chain's check traces to the erasure's own entry (whose
    hash of the plate its chained hash covers, as it does an entry's about the plate itself): by the
    plate's hash sealed beside the tombstone, which only the audit key opens."""
    k, p = keys(), _PLATES.c
    hashed = k.plate_hash(plate)
    listings = conn.execute(select(p.entry_id).where(p.plate_hash == hashed)).scalars().all()
    if listings:
        tombstones = [(i, k.erased_plate(i, hashed)) for i in listings]
        conn.execute(update(_PLATES).where(p.entry_id == bindparam("listing"), p.plate_hash == hashed)
                     .values(plate_hash=bindparam("tombstone"), erased=True, sealed_plate=bindparam("sealed")),
                     [{"listing": i, "tombstone": t, "sealed": k.seal_erased(i, t, hashed)} for i, t in tombstones])
    return len(listings)


def purge(conn: Connection, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` of the oldest entries recorded before ``before`` (their ``audit_plates``
    with them, by the foreign key's cascade); the chain's head then starts at the oldest entry kept,
    so what remains still verifies (retention, not tampering)."""
    T = _AUDIT
    ids = [row[0] for row in conn.execute(select(T.c.id).where(T.c.at < before).order_by(T.c.id).limit(limit))]
    if not ids:
        return 0
    # Only a prefix of the log may go: never an entry with a kept older one before it.
    conn.execute(select(_HEAD.c.id).where(_HEAD.c.id == 1).with_for_update()).first()
    deleted = conn.execute(delete(T).where(T.c.id <= ids[-1])).rowcount
    first = conn.execute(select(func.min(T.c.id)).where(T.c.entry_hash.is_not(None))).scalar()
    conn.execute(update(_HEAD).where(_HEAD.c.id == 1).values(first_id=first))
    return deleted
