"""Retention: each kind of data kept as long as the configuration says, then removed or anonymised.

A registry of purge steps, one per table and kind of data (``images``, ``plates``, ``records``,
``audit``): the job runs them in order, each in small batches (one unit of work each, a pause
between two), so that a lane decision never waits behind more than one short batch. Each batch
measures how long it held the database: the next one is sized to hold it about ``HOLD_S`` (at most
``[retention] batch`` rows), and the pause after it keeps the job's share of the time at ``SHARE``
(a budget per second, whatever a row costs on this machine). On SQLite its batches commit without
a sync to disk (a power cut may undo one: the next run does it again; the next lane event's sync
covers it), so no lane event waits behind the job's fsync, and the job checkpoints the WAL it
wrote, beside the writer, so that no lane event's commit does it. Then the database's
own maintenance, on the same budget: on SQLite the pages freed are given back (incremental vacuum,
when the database has it on) and the planner's statistics refreshed (ANALYZE, sampled);
PostgreSQL's autovacuum does both there.

Tables added elsewhere plug in a step: ``retention.register(PurgeStep("tickets", "records",
tickets.purge), before="closed_sessions")``. A step's function takes (connection, cutoff, batch
size, cursor) and returns (rows changed, cursor, done) (see :mod:`gateway.store.retention`).

Several nodes: the scheduled run takes the ``job:retention`` lease, so one node runs it per
interval; a run asked for by hand (SOAP, CLI) runs where it was asked.
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..store import audit, console_sessions, leases, tickets
from ..store import retention as purge
from ..store.engine import Store
from .clock import Clock

log = logging.getLogger("parkgate")

KINDS = ("images", "plates", "records", "audit")
StepFunction = Callable[..., tuple[int, Any, bool]]


@dataclass(frozen=True)
class PurgeStep:
    name: str
    kind: str               # which retention setting applies: images, plates, records, audit
    run: StepFunction        # (conn, cutoff, limit, cursor) -> (rows changed, cursor, done)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"a purge step's kind is one of {', '.join(KINDS)}")


def _audit_step(conn, cutoff, limit, cursor=None):
    n = audit.purge(conn, cutoff, limit)
    return n, None, n < limit


#: The gateway's own tables, in the order they are purged: what is deleted first (children before
#: parents), so that nothing is anonymised only to be deleted a moment later; then plates, images.
DEFAULT_STEPS = (
    PurgeStep("lane_events", "records", purge.lane_events),
    PurgeStep("closed_tickets", "records", tickets.purge_closed),        # issue 16, part B: before their sessions
    PurgeStep("closed_sessions", "records", purge.closed_sessions),
    PurgeStep("resolved_reviews", "records", purge.resolved_reviews),
    PurgeStep("lane_incidents", "records", purge.lane_incidents),
    PurgeStep("ended_permits", "records", purge.ended_permits),
    PurgeStep("settled_citations", "records", purge.settled_citations),
    PurgeStep("event_plates", "plates", purge.event_plates),
    PurgeStep("session_plates", "plates", purge.session_plates),
    PurgeStep("review_plates", "plates", purge.review_plates),
    PurgeStep("settled_relay_messages", "plates", purge.settled_relay_messages),
    PurgeStep("frame_windows", "plates", purge.frame_windows),
    PurgeStep("console_sessions", "plates", console_sessions.purge_unused),   # their messages may quote one
    PurgeStep("review_images", "images", purge.review_images),
    PurgeStep("console_captures", "images", console_sessions.purge_captures),
    PurgeStep("audit_log", "audit", _audit_step),                        # and their audit_plates (cascade)
)


@dataclass
class RetentionRun:
    started_at: datetime
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float | None = None
    error: str | None = None


class Retention:
    """``settings``: :class:`gateway.config.RetentionSettings`; ``images_dir``: lane pictures on disk
    (files older than the images' retention are removed); ``sleep``: how a pause between batches
    waits, ``timer``: how a batch's hold is measured (tests pass ones that do not wait)."""

    #: How long one unit of work of the job should hold the database (SQLite's one writer): what a
    #: lane event that arrives meanwhile waits at most, beside its own work.
    HOLD_S = 0.01
    #: The share of the time the job may hold it: after a unit that held it h seconds, it rests
    #: h * (1 - SHARE) / SHARE (and at least ``[retention] pause_s``).
    SHARE = 0.5
    #: The fewest rows a batch is cut to, the fewest SQLite pages a vacuum unit gives back.
    MIN_BATCH = 10
    #: The most SQLite pages (4 KiB each, about 40 us each) a unit gives back after a purge.
    VACUUM_PAGES = 250

    def __init__(self, store: Store, settings: Any, clock: Clock, images_dir: Path | None = None,
                 metrics: Any = None, node: str = "", sleep: Callable[[float], None] = time.sleep,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.images_dir = images_dir
        self.metrics = metrics
        self.node = node
        self.sleep = sleep
        self.timer = timer
        self.steps: list[PurgeStep] = list(DEFAULT_STEPS)
        self.last: RetentionRun | None = None
        self._running = threading.Lock()
        self._cursors: dict[str, Any] = {}   # step -> where its last batch stopped, while the cutoff holds
        self._sizes: dict[str, int] = {}     # step -> the rows its next batch takes (see HOLD_S)

    def register(self, step: PurgeStep, before: str | None = None) -> None:
        """Add a step (tables of other parts), at the end or before the named one."""
        names = [s.name for s in self.steps]
        if step.name in names:
            raise ValueError(f"a purge step {step.name!r} is registered already")
        self.steps.insert(names.index(before) if before else len(self.steps), step)

    def days(self, kind: str) -> float:
        return float(getattr(self.settings, f"{kind}_days"))

    def cutoff(self, kind: str, now: datetime) -> datetime | None:
        days = self.days(kind)
        return now - timedelta(days=days) if days > 0 else None

    def scheduled(self) -> RetentionRun | None:
        """The scheduled run: on one node per interval (the ``job:retention`` lease)."""
        interval = self.settings.interval_s
        if self.store.dialect != "sqlite" and not leases.claim(self.store, "job:retention", self.node, self.clock(),
                                                                max(interval * 0.9, 1)):
            return None
        return self.run("retention")

    def start(self, username: str, wait: bool = False) -> RetentionRun | None:
        """A run asked for by hand, in a thread of its own; None when one is under way here already."""
        if self._running.locked():
            return None
        done = threading.Event()
        box: list[RetentionRun | None] = [None]

        def run():
            box[0] = self.run(username)
            done.set()
        threading.Thread(target=run, name="parkgate-retention", daemon=True).start()
        if wait:
            done.wait()
            return box[0]
        return RetentionRun(self.clock())

    def run(self, username: str = "retention") -> RetentionRun | None:
        """One run of every step (blocking); None when one is under way already."""
        if not self._running.acquire(blocking=False):
            return None
        try:
            return self._run(username)
        finally:
            self._running.release()

    def _run(self, username: str) -> RetentionRun:
        started = time.monotonic()
        now = self.clock()
        result = RetentionRun(now)
        try:
            for step in self.steps:
                cutoff = self.cutoff(step.kind, now)
                if cutoff is not None:
                    result.rows[step.name] = self._purge(step, cutoff)
            if self.images_dir is not None:
                cutoff = self.cutoff("images", now)
                if cutoff is not None:
                    result.rows["image_files"] = self._image_files(cutoff)
            self.maintain()
        except Exception as e:  # noqa: BLE001 - reported, and the next run tries again
            log.error("retention: run failed: %s", type(e).__name__)
            result.error = f"{type(e).__name__}: {str(e)[:200]}"
        result.seconds = time.monotonic() - started
        self.last = result
        if self.metrics is not None:
            self.metrics.retention_ran(result.rows, result.seconds, time.time(), result.error is not None)
        changed = {name: n for name, n in result.rows.items() if n}
        with self.store.connection() as conn:
            audit.record(conn, self.clock(), username, "RetentionRun", "retention",
                         (", ".join(f"{name} {n}" for name, n in changed.items()) or "nothing due")
                         + (f"; failed: {result.error}" if result.error else ""), kind="SYSTEM")
        log.info("retention: %s in %.1f s", ", ".join(f"{k} {v}" for k, v in changed.items()) or "nothing due",
                 result.seconds)
        return result

    def _purge(self, step: PurgeStep, cutoff: datetime) -> int:
        """Batches of the step until it is done for now: one unit of work each, sized to hold the
        database about HOLD_S, a rest between two."""
        total = 0
        key, cursor = self._cursors.get(step.name, (None, None))
        if key is None or key > cutoff:  # the cursor holds while the cutoff only moves on
            cursor = None
        while True:
            limit = self._sizes.get(step.name, self.settings.batch)
            asked = self.timer()
            with self.store.connection(background=True, durable=False) as conn:
                started = self.timer()   # the turn is the job's from here (waiting for it is resting)
                changed, cursor, done = step.run(conn, cutoff, limit, cursor)
                worked = self.timer() - started
            held = self.timer() - started
            total += changed
            self._cursors[step.name] = (cutoff, cursor)
            if done:
                return total
            self._sizes[step.name] = self.resized(limit, worked, self.settings.batch)
            self._rest(held + self._checkpoint(), started - asked)

    def resized(self, size: int, held: float, most: int) -> int:
        """The next batch's size after one of ``size`` held the database ``held`` seconds: towards
        HOLD_S, by at most a half or a double at a time (one slow batch is not the rule)."""
        ideal = size * self.HOLD_S / max(held, 1e-6)
        return max(self.MIN_BATCH, min(most, size * 2, max(size // 2, round(ideal))))

    def _rest(self, busy: float, waited: float = 0.0) -> None:
        """After ``busy`` seconds of the job's work, having ``waited`` for its turn (lane events went
        first meanwhile): what keeps its share of the time at SHARE."""
        self.sleep(max(self.settings.pause_s, busy * (1 - self.SHARE) / self.SHARE - waited))

    def _checkpoint(self) -> float:
        """SQLite: the WAL the job wrote checkpointed beside the writer (see
        :func:`gateway.store.retention.sqlite_checkpoint`); the seconds it took."""
        if self.store.dialect != "sqlite":
            return 0.0
        started = self.timer()
        with self.store.read() as conn:
            purge.sqlite_checkpoint(conn)
        return self.timer() - started

    def _image_files(self, cutoff: datetime) -> int:
        """Picture files older than the cutoff (by modification time), anywhere under the directory."""
        assert self.images_dir is not None
        if not self.images_dir.is_dir():
            return 0
        limit, removed = cutoff.timestamp(), 0
        for root, _dirs, files in os.walk(self.images_dir):
            for name in files:
                path = Path(root) / name
                try:
                    if path.stat().st_mtime < limit:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def maintain(self) -> None:
        """SQLite: give freed pages back (when auto_vacuum is incremental), then ANALYZE (sampled);
        on the job's budget (HOLD_S a unit, SHARE of the time)."""
        if self.store.dialect != "sqlite":
            return  # PostgreSQL's autovacuum reclaims and analyses
        before, pages = None, self.VACUUM_PAGES
        while True:
            asked = self.timer()
            with self.store.connection(background=True, durable=False) as conn:
                started = self.timer()
                mode, free = purge.sqlite_free_pages(conn)
                if mode != 2 or not free or (before is not None and free >= before):
                    break  # not incremental, nothing free, or no progress (never loop for ever)
                before = free
                purge.sqlite_vacuum_some(conn, pages)
                worked = self.timer() - started
            held = self.timer() - started
            pages = self.resized(pages, worked, self.VACUUM_PAGES)
            self._rest(held + self._checkpoint(), started - asked)
        with self.store.connection(background=True) as conn:
            purge.sqlite_analyze(conn)
