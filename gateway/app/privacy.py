"""Privacy: erasure by plate (GDPR, CCPA) and key rotation.

Erasure runs a registry of steps, one per table (:mod:`gateway.store.erasure`), in one unit of work:
every record of the plate is removed or anonymised except what a legal hold keeps (unpaid or
disputed citations; an open session, whose vehicle is still inside), and the audit log says so with
the plate's keyed hash, never the plate. A table with a blind index and no step is covered by
deleting its rows of the plate; a table of another part that must keep rows registers a step:
``erasure.register(ErasureStep("tickets", tickets.erase), before="sessions")``.

Rotation (``parkgate keys rotate``) adds a key to the file and makes it current; serving gateways
re-read the file (``[privacy] key_reload_s``) and seal with it from then on. After that grace, every
sealed column and every picture in the vault is re-sealed in batches (small units of work, lane
events first), passes repeat until nothing is sealed with an older key (or unbound, format 1), and
the older keys are retired from the file. Until then they stay in it, so everything still opens.

The blind index key rotates too (``parkgate keys rotate --index``), in steps that each wait for the
serving gateways to re-read the file: a new index key that look-ups also match, then written
instead of the old one, the index columns rewritten in batches, the old key dropped. Look-ups by
plate (LookupPermit, GetSession, an exit, the hotlist) match either index meanwhile. The audit
log's plate hashes are not blind indexes: they are keyed by the audit secret
(``PARKGATE_AUDIT_KEY``), which this rotation leaves alone, and each is part of its entry's chained
hash, so rewriting them would break the chain; they stay as they are, ``audit verify`` holds and
the log is still filtered by plate. The hashes of the plates a listing showed (``audit_plates``,
chained with the listing's entry since 0142) are erased with the plate: each replaced by a tombstone
that the by-plate query never finds and that ``audit verify`` traces to the erasure's own entry; the
listing's entry stays.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain.audit import ERASE_PLATE
from ..domain.plates import normalise_plate
from ..store import audit, console_sessions, erasure, rotation
from ..store.engine import Store
from ..store.keyring import BOUND, KeyRingError
from ..store.schema import Base
from ..store.sealed import is_index
from ..store.vault import ImageVault
from .clock import Clock

log = logging.getLogger("parkgate")


@dataclass(frozen=True)
class ErasureStep:
    name: str
    run: Callable[..., tuple[int, int]]     # (conn, plate) -> (rows erased, rows held)
    table: str | None = None                # the table it covers (default: its name)


DEFAULT_STEPS = (
    ErasureStep("outbox", erasure.relay_messages),     # first: it finds the messages by the rows' ids
    ErasureStep("lane_events", erasure.lane_events),
    ErasureStep("sessions", erasure.sessions),
    ErasureStep("permits", erasure.permits),
    ErasureStep("citations", erasure.citations),
    ErasureStep("hotlist", erasure.hotlist),
    ErasureStep("reviews", erasure.reviews),
    ErasureStep("lane_windows", erasure.frame_windows),
    ErasureStep("audit_plates", erasure.audit_plates),
    ErasureStep("console_sessions", console_sessions.erase),   # messages shown once that quote the plate
)


@dataclass
class Erased:
    erased: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [f"{name} {n}" for name, n in self.erased.items() if n]
        held = [f"{name} {n}" for name, n in self.held.items() if n]
        return (", ".join(parts) or "nothing found") + (f"; held: {', '.join(held)}" if held else "")


class Erasure:
    def __init__(self, store: Store, clock: Clock, metadata: Any = Base.metadata,
                 vault: ImageVault | None = None) -> None:
        """``vault``: where the stays' pictures lie (None: none kept)."""
        self.store = store
        self.vault = vault
        self.clock = clock
        self.metadata = metadata
        self.steps: list[ErasureStep] = list(DEFAULT_STEPS)

    def register(self, step: ErasureStep, before: str | None = None) -> None:
        names = [s.name for s in self.steps]
        if step.name in names:
            raise ValueError(f"an erasure step {step.name!r} is registered already")
        self.steps.insert(names.index(before) if before else len(self.steps), step)

    def _all_steps(self) -> list[ErasureStep]:
        """The registered steps, then a delete for every other table with a blind index."""
        covered = {s.table or s.name for s in self.steps}
        extra = [ErasureStep(t.name, erasure.delete_rows(t)) for t in self.metadata.sorted_tables
                 if t.name not in covered and any(is_index(c) for c in t.c)]
        return self.steps + extra

    def erase(self, plate: str, username: str) -> Erased:
        """Every record of the plate removed or anonymised but what a hold keeps; audited."""
        plate = normalise_plate(plate, "Plate")
        result = Erased()
        with self.store.connection() as conn:
            pictures = erasure.stay_pictures(conn, plate)      # first: found by the stays' plate
            for step in self._all_steps():
                erased, held = step.run(conn, plate)
                result.erased[step.name], result.held[step.name] = erased, held
            result.erased["pictures"] = len(pictures)
            audit.record(conn, self.clock(), username, ERASE_PLATE, "plate", result.summary(), plate=plate)
        if self.vault is not None:
            for name in pictures:                              # once committed: a rollback keeps them shown
                self.vault.remove(name)
        log.info("erasure: %s", result.summary())
        return result


@dataclass
class Rotated:
    key: str
    resealed: dict[str, int] = field(default_factory=dict)
    pictures: int = 0
    retired: list[str] = field(default_factory=list)
    left: Counter = field(default_factory=Counter)    # values still sealed with an older key (or unbound)


@dataclass
class Reindexed:
    rewritten: dict[str, int] = field(default_factory=dict)   # rows per table
    retired: bool = False                                       # the old index key dropped


class KeyRotation:
    """``vault``: the pictures on disk (None: none kept); ``grace_s``: how long serving gateways
    take to re-read the key file (twice their ``key_reload_s``, and a second)."""

    def __init__(self, store: Store, vault: ImageVault | None, clock: Clock, *, batch: int = 500,
                 pause_s: float = 0.02, grace_s: float = 5.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.store = store
        self.vault = vault
        self.clock = clock
        self.batch = batch
        self.pause_s = pause_s
        self.grace_s = grace_s
        self.sleep = sleep

    def census(self) -> Counter:
        """How many stored values (and pictures) each key seals, by key and format (``k2@2``; ``k1``:
        format 1, unbound). Read in batches on a connection that only reads, each batch apart: it
        never holds the writer (SQLite's lane events go on beside it)."""
        counts: Counter = Counter()
        for table, columns in rotation.sealed_tables():
            cursor, done = None, False
            while not done:
                with self.store.read() as conn:
                    found, cursor, done = rotation.census(conn, table, columns, cursor, self.batch)
                counts.update(found)
        if self.vault is not None:
            counts.update(self.vault.head_of(name) or "unsealed" for name in self.vault.names())
        return counts

    def rotate(self, username: str, new_key: bool = True, passes: int = 3) -> Rotated:
        keys = self.store.keys
        kid = keys.add_key() if new_key else keys.current
        log.info("keys: sealing with key %s from now on; re-sealing what older keys sealed", kid)
        result = Rotated(kid)
        if new_key:
            self.sleep(self.grace_s)   # serving gateways re-read the file and seal with the new key
        for _ in range(passes):
            changed = self._pass(rotation.sealed_tables(), rotation.reseal, result.resealed)
            changed += self._pictures(result)
            result.left = Counter({k: n for k, n in self.census().items() if k != f"{keys.current}{BOUND}"})
            if not result.left or not changed:
                break
        if not result.left:
            result.retired = keys.retire(keep=set())
        with self.store.connection() as conn:
            audit.record(conn, self.clock(), username, "RotateKeys", kid,
                         f"re-sealed {sum(result.resealed.values())} row(s), {result.pictures} picture(s); "
                         f"retired {', '.join(result.retired) or 'none'}", kind="CHANGE")
        return result

    def rotate_index(self, username: str, resume: bool = False, passes: int = 3) -> "Reindexed":
        """The blind index key: a new one matched, then written, every index rewritten under it in
        batches (passes until one finds nothing left), the old one dropped. ``resume``: carry on
        from the step an interrupted rotation reached (the key file says which)."""
        keys = self.store.keys
        if not resume or keys.index_rotating is None:
            if resume:
                raise KeyRingError("no index rotation is under way")
            keys.add_index_key()
            log.info("keys: a new blind index key; look-ups match either from now on")
            self.sleep(self.grace_s)   # every gateway matches the new index before any row has it
        if keys.index_rotating == "next":
            keys.write_index_key()
            log.info("keys: indexing under the new blind index key; rewriting the indexes")
            self.sleep(self.grace_s)   # nobody writes the old index any more
        result = Reindexed()
        for _ in range(passes):
            if not self._pass(rotation.indexed_tables(), rotation.reindex, result.rewritten):
                result.retired = keys.retire_index_key()   # a pass found nothing under the old key
                break
        with self.store.connection() as conn:
            audit.record(conn, self.clock(), username, "RotateIndexKey", "index",
                         f"rewrote the blind index of {sum(result.rewritten.values())} row(s); the old index key "
                         + ("retired" if result.retired else "kept (rows changed on every pass: resume)"),
                         kind="CHANGE")
        return result

    def _pass(self, tables, step, tally: dict[str, int]) -> int:
        """One batched pass of ``step`` (re-seal or re-index) over ``tables``: rows changed."""
        changed = 0
        for table, columns in tables:
            cursor, done = None, False
            while not done:
                with self.store.connection(background=True) as conn:
                    n, cursor, done = step(conn, table, columns, self.store.keys, cursor, self.batch)
                tally[table.name] = tally.get(table.name, 0) + n
                changed += n
                if not done and self.pause_s:
                    self.sleep(self.pause_s)
        return changed

    def _pictures(self, result: Rotated) -> int:
        changed = 0
        if self.vault is not None:
            for name in list(self.vault.names()):
                if self.vault.reseal(name):
                    result.pictures += 1
                    changed += 1
        return changed
