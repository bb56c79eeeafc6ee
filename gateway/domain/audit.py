"""The activity log's rules: what kind an entry is, how entries are chained, how a chain is checked.

Every entry is chained to the one before it: its hash is an HMAC (under the gateway's audit key,
which lives outside the database) of the previous entry's hash and of its own fields as stored.
Changing, inserting or deleting an entry in the middle breaks the chain at that entry; cutting
entries off the start or the end disagrees with the chain's head (first and last entry, kept in
a row of its own). Without the key nobody can compute a chain that verifies.

Plates never appear in the log: an entry about a plate keeps a keyed hash of it (another key
derived from the same secret), enough to find every query about one plate, useless to read one.
A listing's entry keeps the hashes of the plates it showed beside it (``audit_plates``), chained with
its fields since 0142: removing or changing one breaks the chain there, but for a plate's erasure,
which leaves in its place a tombstone that only that plate's hash (in the erasure's own entry)
explains. Entries chained before are checked as they were chained, without those plates.

Since 0143 each tombstone keeps the erased plate's hash beside it, sealed under the audit key
(:meth:`AuditKeys.seal_erased`): the chain's check opens it and looks that one hash up among the
erasures', where a tombstone written before had every erased plate's hash tried on it. Sealed, it
links nothing without the key: two listings' tombstones of one plate still have nothing in common.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple

QUERY, CHANGE, SYSTEM = "QUERY", "CHANGE", "SYSTEM"
KINDS = (QUERY, CHANGE, SYSTEM)
_QUERY_WORDS = ("Get", "List", "Lookup", "Search", "Query", "Export", "Verify")
#: The hash the first entry of a chain is chained to.
GENESIS = "0" * 64
#: The action of a plate's erasure, whose entry keeps the erased plate's hash.
ERASE_PLATE = "ErasePlate"


def kind_of(action: str) -> str:
    """Reading something (a plate's permits, a session, a lane) is a QUERY; the rest changes things."""
    return QUERY if any(word in action for word in _QUERY_WORDS) else CHANGE


class Tombstone(NamedTuple):
    """What an erasure left in a listing in place of a plate's hash: the tombstone, and the plate's
    hash sealed beside it (None: left before 0143, found by trying each erased plate)."""
    hash: str
    sealed: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    username: str
    address: str | None
    kind: str
    action: str
    subject: str
    detail: str | None
    plate_hash: str | None
    prev_hash: str | None
    entry_hash: str | None      # None: recorded before entries were chained
    shown: tuple[str, ...] = ()    # the hashes of the plates a listing showed, kept beside it (sorted)
    erased: tuple[Tombstone, ...] = ()   # those erased since

    def fields(self, shown: Iterable[str] | None = None) -> tuple:
        return fields_of(self.at, self.username, self.address, self.kind, self.action, self.subject, self.detail,
                         self.plate_hash, shown)


def fields_of(at: datetime, username: str, address: str | None, kind: str, action: str, subject: str,
              detail: str | None, plate_hash: str | None, shown: Iterable[str] | None = None) -> tuple:
    """What an entry's hash covers, exactly as stored (UTC, microseconds); ``shown``: the hashes of the
    plates it showed, sorted (none, an empty list; None: an entry chained before 0142, without them)."""
    fields = (at.astimezone(timezone.utc).isoformat(timespec="microseconds"), username, address, kind, action,
              subject, detail, plate_hash)
    return fields if shown is None else (*fields, list(shown))


class AuditKeys:
    """The keys derived from the audit secret, each with its own label: one chains entries, one hashes
    plates, and those the tickets and the console share across nodes."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the audit key must be at least 16 bytes")
        self._chain = hmac.new(secret, b"parkgate audit chain v1", hashlib.sha256).digest()
        self._plates = hmac.new(secret, b"parkgate audit plates v1", hashlib.sha256).digest()
        self._erased = hmac.new(secret, b"parkgate audit erased plates v1", hashlib.sha256).digest()
        self._sealed = hmac.new(secret, b"parkgate audit sealed tombstones v1", hashlib.sha256).digest()
        # Ticket numbers' check digits (gateway.domain.tickets): from the same secret, on every node.
        self.tickets = hmac.new(secret, b"parkgate tickets v1", hashlib.sha256).digest()
        # The console log-in form's CSRF tokens (gateway.domain.console_sessions.form_token): likewise.
        self.console_forms = hmac.new(secret, b"parkgate console forms v1", hashlib.sha256).digest()

    def plate_hash(self, plate: str) -> str:
        """A normalised plate's keyed hash: the same plate, the same hash, on every node."""
        return hmac.new(self._plates, plate.encode(), hashlib.sha256).hexdigest()

    def erased_plate(self, entry_id: int, plate_hash: str) -> str:
        """The tombstone an erasure leaves for a plate that entry ``entry_id`` showed: no plate hashes to
        it, one per entry (two listings' tombstones of one plate do not match), and the chain's check
        finds the erased plate's hash from it."""
        return hmac.new(self._erased, f"{entry_id}\n{plate_hash}".encode(), hashlib.sha256).hexdigest()

    def seal_erased(self, entry_id: int, tombstone: str, plate_hash: str) -> str:
        """The erased plate's hash, to keep beside its tombstone in entry ``entry_id``: masked by a pad
        that only the key makes from the tombstone (which no two plates or entries share), so it says
        nothing without the key and :meth:`open_erased` gives the plate's hash back in two HMACs."""
        return _xor(bytes.fromhex(plate_hash), self._pad(entry_id, tombstone)).hex()

    def open_erased(self, entry_id: int, tombstone: str, sealed: str) -> str | None:
        """The hash of the erased plate that left ``tombstone`` in entry ``entry_id``, from what
        :meth:`seal_erased` kept (None: it was not sealed for that tombstone, or was changed)."""
        try:
            masked = bytes.fromhex(sealed)
        except ValueError:
            return None
        if len(masked) != hashlib.sha256().digest_size:
            return None
        plate_hash = _xor(masked, self._pad(entry_id, tombstone)).hex()
        return plate_hash if self.erased_plate(entry_id, plate_hash) == tombstone else None

    def _pad(self, entry_id: int, tombstone: str) -> bytes:
        return hmac.new(self._sealed, f"{entry_id}\n{tombstone}".encode(), hashlib.sha256).digest()

    def entry_hash(self, prev_hash: str, fields: tuple) -> str:
        payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return hmac.new(self._chain, f"{prev_hash}\n{payload}".encode(), hashlib.sha256).hexdigest()


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a) ^ int.from_bytes(b)).to_bytes(len(a))


@dataclass(frozen=True)
class ChainHead:
    """What the log says about its own chain: the first chained entry kept, the last one, its hash."""
    first_id: int | None
    last_id: int | None
    last_hash: str


@dataclass(frozen=True)
class ChainCheck:
    """A verification's outcome: ``broken_at`` is the first entry that does not verify."""
    verified: bool
    entries: int                 # chained entries checked
    unchained: int               # entries from before the chain began (not checkable)
    first_id: int | None
    last_id: int | None
    head_hash: str
    broken_at: int | None = None
    problem: str | None = None


class ChainVerifier:
    """Checks entries in id order, one at a time (the log may be too large to hold)."""

    def __init__(self, keys: AuditKeys, head: ChainHead, prev_hash: str | None = None,
                 last_id: int | None = None) -> None:
        """``prev_hash``/``last_id``: go on from an entry checked before (incremental checks)."""
        self.keys = keys
        self.head = head
        self.prev = prev_hash
        self.last_id = last_id
        self._erased: set[str] = set()                     # the plates erased, as told (:meth:`erased`)
        self._traced: dict[tuple[int, str], str] = {}      # (entry id, tombstone) -> the plate it stands for
        self._with_plates = True      # how the entry before was chained: tried first
        self.first_id: int | None = None
        self.entries = 0
        self.unchained = 0
        self.broken_at: int | None = None
        self.problem: str | None = None

    def _break(self, entry_id: int | None, problem: str) -> None:
        if self.broken_at is None and self.problem is None:
            self.broken_at, self.problem = entry_id, problem

    def feed(self, entries: Iterable[AuditEntry]) -> bool:
        """Check more entries; False once the chain is broken."""
        for e in entries:
            if self.problem is not None:
                return False
            if e.entry_hash is None:
                if self.prev is not None:
                    self._break(e.id, "an entry without a hash after the chain began")
                    return False
                self.unchained += 1
                continue
            if self.prev is None:  # the first chained entry kept
                if self.head.first_id is not None and e.id != self.head.first_id:
                    self._break(e.id, f"the chain starts at entry {e.id}, its head says {self.head.first_id}: "
                                      "entries were removed from its start")
                    return False
                self.prev = e.prev_hash or GENESIS
                self.first_id = e.id
            if e.prev_hash != self.prev:
                self._break(e.id, "not chained to the entry before it (an entry was removed or inserted)")
                return False
            if not self._matches(e, self.prev):
                self._break(e.id, "its hash does not match its fields or the plates it showed (the entry, or "
                                  "a plate hash beside it in audit_plates, was changed or removed)")
                return False
            self.prev, self.last_id = e.entry_hash, e.id
            self.entries += 1
        return True

    def _matches(self, e: AuditEntry, prev: str) -> bool:
        """Whether ``e``'s hash is that of its fields with the plates it showed (chained since 0142), or
        without them (before; its audit_plates outside the chain); the way of the entry before first."""
        for with_plates in (self._with_plates, not self._with_plates):
            shown = self._shown(e) if with_plates else None
            if with_plates and shown is None:
                continue
            if self.keys.entry_hash(prev, e.fields(shown)) == e.entry_hash:
                self._with_plates = with_plates
                return True
        return False

    def traces(self, entries: Iterable[AuditEntry]) -> bool:
        """Whether each tombstone among ``entries`` stands for a plate it was told was erased
        (:meth:`erased`); if not, it is to be told the plates erased as of when they were read (an
        erasure's entry is kept as long as the older listings it left tombstones in)."""
        for e in entries:
            for tombstone in e.erased:
                if (e.id, tombstone.hash) not in self._traced:
                    plate = self._erased_plate(e.id, tombstone)
                    if plate is None:
                        return False
                    self._traced[e.id, tombstone.hash] = plate   # kept until the entry is checked
        return True

    def erased(self, plates: Iterable[str]) -> None:
        """The hashes of plates erased (their erasures' entries keep them)."""
        self._erased.update(plates)

    def _shown(self, e: AuditEntry) -> tuple[str, ...] | None:
        """The hashes of the plates ``e`` showed when it was written: those kept, and each erased since,
        found from its tombstone among the plates erased (None: a tombstone no erasure left)."""
        if not e.erased:
            return e.shown
        found = list(e.shown)
        for tombstone in e.erased:
            plate = self._traced.pop((e.id, tombstone.hash), None) or self._erased_plate(e.id, tombstone)
            if plate is None:
                return None
            found.append(plate)
        return tuple(sorted(found))

    def _erased_plate(self, entry_id: int, tombstone: Tombstone) -> str | None:
        """The hash of the erased plate that left ``tombstone`` in entry ``entry_id`` (None: none told):
        the one sealed beside it, if among those told; for a tombstone left before 0143, whichever
        of those told it is (each tried)."""
        if tombstone.sealed is not None:
            plate = self.keys.open_erased(entry_id, tombstone.hash, tombstone.sealed)
            return plate if plate in self._erased else None
        return next((h for h in self._erased if self.keys.erased_plate(entry_id, h) == tombstone.hash), None)

    def result(self) -> ChainCheck:
        if self.problem is None:
            head = self.head
            if self.entries == 0 and head.first_id is None:
                pass  # nothing chained is kept (none recorded yet, or all of it past retention)
            elif head.last_id != self.last_id or (head.last_id is not None and head.last_hash != self.prev):
                self._break(self.last_id, f"the chain ends at entry {self.last_id}, its head says {head.last_id}: "
                                          "entries were removed from its end, or the head was changed")
        return ChainCheck(self.problem is None, self.entries, self.unchained, self.first_id, self.last_id,
                          self.head.last_hash, self.broken_at, self.problem)
