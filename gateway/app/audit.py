"""The activity log, as its own unit of work (within one, use :mod:`gateway.store.audit` directly),
and what admins do with it: filter it, export it (CSV), verify its chain.

Entries recorded on their own (:meth:`Audit.record`: every AuthorizePlate) are appended in
batches, each in one unit of work: the chain's head read and written once for the batch, no
turn taken per entry. The caller whose entry finds nobody writing writes the batch, in its own
thread (a writer thread of its own cost more: each hand-off to it and back is a wake-up and a
wait for the GIL); the entries that come meanwhile wait, and the first of them writes them all
next. Each caller waits for its entry's commit: nothing is answered before its entry is durable.

Every plate query and every change is recorded with who, when, from where (the request's origin,
set by the transport: :func:`origin`) and what; a plate only as its keyed hash. Reading the log is
itself recorded.
"""

import csv
import io
import logging
import threading
from datetime import datetime
from typing import Any

from ..domain import times
from ..domain.audit import KINDS, ChainCheck, ChainVerifier
from ..domain.errors import InvalidInput
from ..domain.plates import normalise_plate
from ..store import audit
from ..store.audit import AuditFilter, enter_origin, leave_origin, origin
from ..store.engine import CommitFailed, Store
from .clock import Clock

__all__ = ["Audit", "AuditFilter", "enter_origin", "leave_origin", "origin"]

log = logging.getLogger("parkgate")

#: Entries read per unit of work while verifying or exporting (the log may be large).
CHUNK = 2000
CSV_COLUMNS = ("id", "at", "username", "address", "kind", "action", "subject", "detail", "plate_hash", "entry_hash")


def _cell(value):
    """A CSV cell a spreadsheet shows as text: nothing that starts like a formula runs."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Waiting:
    """An entry to append, and how it went. ``turn`` (held while it waits, none for the caller
    that writes at once) is released once it is written (``written``, or its ``error``) or once
    its caller is to write the batch it is in: a bare lock, the cheapest wake-up there is."""
    __slots__ = ("entry", "turn", "written", "error")

    def __init__(self, entry: audit.Entry) -> None:
        self.entry = entry
        self.turn: Any = None
        self.written = False
        self.error: Exception | None = None


class Audit:
    #: The most entries appended in one unit of work.
    BATCH_MAX = 64

    def __init__(self, store: Store, clock: Clock, metrics=None) -> None:
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self._verified: tuple[int | None, str | None] = (None, None)   # (last id, its hash) checked so far
        self._verify_lock = threading.Lock()
        self._pending: list[_Waiting] = []   # entries waiting for the batch being written to end
        self._writing = False                # whether a caller is writing a batch
        self._batch_lock = threading.Lock()  # both

    def record(self, username: str, action: str, subject: str, detail: str | None = None, *,
               plate: str | None = None, address: str | None = None, kind: str | None = None,
               at: datetime | None = None) -> None:
        """One entry (``at``: default now), in a batch with the others waiting; returns once committed."""
        waiting = _Waiting(audit.Entry(at or self.clock(), username, action, subject, detail, plate,
                                       address or audit.current_address(), kind))
        with self._batch_lock:
            self._pending.append(waiting)
            if self._writing:
                waiting.turn = threading.Lock()
                waiting.turn.acquire()
            self._writing = True
        if waiting.turn is not None:
            waiting.turn.acquire()   # released by the writer
        if not waiting.written and waiting.error is None:
            self._write()
        if waiting.error is not None:
            raise waiting.error

    def _write(self) -> None:
        """Append what waits (BATCH_MAX at most), then hand the writing on to the first entry that
        came meanwhile, if any (so no caller writes others' entries for longer than one batch)."""
        with self._batch_lock:
            batch, self._pending = self._pending[:self.BATCH_MAX], self._pending[self.BATCH_MAX:]
        try:
            self._append(batch)
        finally:
            with self._batch_lock:
                if self._pending:
                    self._pending[0].turn.release()
                else:
                    self._writing = False

    def _append(self, batch: list[_Waiting]) -> None:
        """``batch`` in one unit of work; each entry learns how it went (its ``turn`` released)."""
        try:
            with self.store.connection(grouped=True) as conn:
                audit.record_all(conn, [w.entry for w in batch])
        except CommitFailed as e:   # the whole batch was in it: nothing of it was kept
            for w in batch:
                w.error = e
        except Exception as e:  # noqa: BLE001 - its callers are told
            if len(batch) > 1:   # its unit was taken back: each again on its own, so that an entry
                for w in batch:  # that cannot be written fails only its own caller
                    self._append([w])
                return
            batch[0].error = e
        else:
            for w in batch:
                w.written = True
        for w in batch:
            if w.turn is not None:
                w.turn.release()

    def criteria(self, since: datetime | None = None, until: datetime | None = None, username: str | None = None,
                 kind: str | None = None, action: str | None = None, plate: str | None = None,
                 after_id: int | None = None) -> AuditFilter:
        """A filter from what a caller typed, checked."""
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"kind is one of {', '.join(KINDS)}", "Kind")
        since = times.aware(since, "From") if since is not None else None
        until = times.aware(until, "Until") if until is not None else None
        return AuditFilter(since, until, username or None, kind, action or None,
                           normalise_plate(plate, "Plate") if plate else None, after_id)

    def _noted(self, conn, username: str, action: str, f: AuditFilter, found: int | str) -> None:
        parts = [f"{name}={value:%Y-%m-%dT%H:%M:%SZ}" if isinstance(value, datetime) else f"{name}={value}"
                 for name, value in (("from", f.since), ("until", f.until), ("user", f.username),
                                     ("kind", f.kind), ("action", f.action)) if value is not None]
        if f.plate:
            parts.append("by plate")
        audit.record(conn, self.clock(), username, action, "audit_log", f"{', '.join(parts) or 'all'}: {found}",
                     plate=f.plate, kind="QUERY")

    def query(self, f: AuditFilter, username: str, limit: int = 100) -> list[audit.AuditEntry]:
        """Matching entries, oldest first, ``limit`` at most (page on with ``after_id``)."""
        if not 1 <= limit <= 10_000:
            raise InvalidInput("a limit is 1 to 10000 entries", "Limit")
        with self.store.connection() as conn:
            found = audit.find(conn, f, limit)
            self._noted(conn, username, "QueryAudit", f, f"{len(found)} found")
        return found

    def export_csv(self, f: AuditFilter, username: str) -> bytes:
        """Every matching entry as CSV (UTF-8, a header row), read in chunks."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        after, count = f.after_id, 0
        while True:
            with self.store.connection() as conn:
                rows = audit.find(conn, AuditFilter(**{**vars(f), "after_id": after}), CHUNK)
            for e in rows:
                writer.writerow([_cell(getattr(e, column)) for column in CSV_COLUMNS])
            count += len(rows)
            if len(rows) < CHUNK:
                break
            after = rows[-1].id
        with self.store.connection() as conn:
            self._noted(conn, username, "ExportAudit", f, f"{count} exported")
        return out.getvalue().encode()

    def verify(self, incremental: bool = False) -> ChainCheck:
        """Check the whole chain (or, ``incremental``, only what was added since the last check that
        passed) up to its head as it is now; says where it breaks."""
        with self._verify_lock:
            after, prev = self._verified if incremental else (None, None)
            with self.store.connection() as conn:
                head = audit.head(conn)
            verifier = ChainVerifier(audit.keys(), head, prev, after)
            while True:
                with self.store.connection() as conn:
                    audit.one_snapshot(conn)   # what retention purges or an erasure changes meanwhile: all or none
                    rows = audit.chunk(conn, after, CHUNK, upto=head.last_id)
                    if not verifier.traces(rows):   # tombstones of erasures not read yet: read as of the rows
                        verifier.erased(audit.erased_plates(conn))
                if head.last_id is None:  # nothing was chained when we began: what follows is newer
                    rows = [r for r in rows if r.entry_hash is None]
                if not verifier.feed(rows) or len(rows) < CHUNK:
                    break
                after = rows[-1].id
            check = verifier.result()
            if check.verified and check.last_id is not None:
                self._verified = (check.last_id, verifier.prev)
            if self.metrics is not None:
                self.metrics.audit_checked(check)
            if not check.verified:
                log.error("audit: the chain does not verify at entry %s: %s", check.broken_at, check.problem)
            return check
