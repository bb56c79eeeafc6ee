"""The keys that seal plates, documents and pictures at rest, and the key of the plates' blind index.

Kept in a file (``[privacy] key_file``, JSON, mode 0600) or given whole in ``PARKGATE_KEYS`` (the
same JSON, e.g. from a secrets manager); never in the database. A sealed value names the key that
sealed it and its format (``k2@2:...``), so after ``parkgate keys rotate`` adds a key, values sealed
under the older ones still open until the rotation has re-sealed them and retires those keys. A
serving gateway re-reads the file when it changes (:meth:`KeyRing.reload`) and when it meets a key id
it lacks.

Format 2 (``kid@2:``) binds a value to where it is kept (AES-GCM's associated data: the table and
column, or the picture's name): a value copied into another column fails to open there. Format 1
(``kid:``, sealed before that) opens without it, until a rotation (``keys rotate --resume`` does
without a new key) re-seals it in format 2.

The blind index key rotates in three steps, each seen by every serving gateway (they re-read the
file) before the next: ``index_next`` (look-ups match the index under either key, rows are still
written under the old one), then the new key current and the old one ``index_previous`` (rows are
written under the new key, look-ups still match both), the index columns rewritten in batches, and
the old key dropped. A look-up never misses on the way (:meth:`KeyRing.blinds`).
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keyfile import make_once

log = logging.getLogger("parkgate")

KEYS_ENV = "PARKGATE_KEYS"
DEFAULT_KEY_FILE = Path(__file__).resolve().parents[2] / "var" / "keys.json"
_NONCE = 12
BOUND = "@2"          # format 2: the key id, then this: bound to its place (associated data)
INDEX = 32            # hex characters of a blind index


class KeyRingError(Exception):
    """A key ring that cannot be had or used: missing file, unknown key id, a value that fails to open."""


@dataclass(frozen=True)
class _Keys:
    current: str
    ciphers: dict[str, AESGCM]
    index_key: bytes                  # what the index is written with
    index_next: bytes | None          # during an index rotation's first step: also matched
    index_previous: bytes | None      # during its rewrite: also matched
    raw: dict[str, bytes]
    stamp: tuple[float, int] | None   # the file's (mtime, size) when read

    @property
    def index_also(self) -> bytes | None:
        return self.index_next or self.index_previous


def _parse(text: str, stamp: tuple[float, int] | None) -> _Keys:
    try:
        data = json.loads(text)
        raw = {str(kid): bytes.fromhex(key) for kid, key in data["keys"].items()}
        current, index_key = str(data["current"]), bytes.fromhex(data["index_key"])
        index_next, index_previous = (bytes.fromhex(data[name]) if data.get(name) else None
                                      for name in ("index_next", "index_previous"))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise KeyRingError(f"the key ring is not JSON of current, index_key and keys ({type(e).__name__})") from None
    indexes = [k for k in (index_key, index_next, index_previous) if k is not None]
    if current not in raw or any(len(k) != 32 for k in [*raw.values(), *indexes]):
        raise KeyRingError("the key ring needs 32-byte keys and its current key among them")
    if index_next and index_previous:
        raise KeyRingError("the key ring has both an index_next and an index_previous: one rotation at a time")
    if any(":" in kid or "@" in kid or not kid for kid in raw):
        raise KeyRingError("key ids are short names without ':' or '@'")
    return _Keys(current, {kid: AESGCM(key) for kid, key in raw.items()}, index_key, index_next, index_previous,
                 raw, stamp)


class KeyRing:
    """Seals and opens values with AES-256-GCM under the current key (random 96-bit nonce, the
    key id in the value), and blinds plates with HMAC-SHA256 under the index key."""

    def __init__(self, text: str, path: Path | None = None, stamp: tuple[float, int] | None = None) -> None:
        self.path = path
        self._keys = _parse(text, stamp)
        self._lock = threading.Lock()

    # --- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | str | None = None, create: bool | None = None) -> "KeyRing":
        """From ``PARKGATE_KEYS`` if set, else from ``path`` (default ``var/keys.json``). A missing
        file is made with fresh keys when ``create`` (default: only for the default path under var/,
        as the demo and the tests use); otherwise it is an error, naming the file."""
        if os.environ.get(KEYS_ENV):
            return cls(os.environ[KEYS_ENV])
        path = Path(path or DEFAULT_KEY_FILE)
        if create is None:
            create = path == DEFAULT_KEY_FILE
        if not path.exists():
            if not create:
                raise KeyRingError(f"no key file at {path}: make one with `parkgate keys init`")
            if init(path):
                log.warning("keys: made %s with fresh keys; keep a copy apart from the backups: without it "
                            "the plates at rest cannot be read", path)
        st = path.stat()
        return cls(path.read_text(), path, (st.st_mtime, st.st_size))

    @property
    def from_file(self) -> bool:
        return self.path is not None

    def reload(self) -> bool:
        """Re-read the file if it changed since (a rotation added or retired a key); whether it did."""
        if self.path is None:
            return False
        try:
            st = self.path.stat()
        except OSError:
            return False
        stamp = (st.st_mtime, st.st_size)
        with self._lock:
            if stamp == self._keys.stamp:
                return False
            self._keys = _parse(self.path.read_text(), stamp)
        return True

    # --- what the ring holds ---------------------------------------------------------------

    @property
    def current(self) -> str:
        return self._keys.current

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys.raw)

    # --- sealing ---------------------------------------------------------------------------

    def seal(self, data: bytes, place: bytes | None = None) -> bytes:
        """``key id`` and format, ``:``, nonce, ciphertext and tag; ``place`` (the table and column,
        a picture's name) is bound to it: format 2. Without one: format 1 (unbound)."""
        k = self._keys
        nonce = os.urandom(_NONCE)
        return _head(k.current, place).encode() + nonce + k.ciphers[k.current].encrypt(nonce, data, place)

    def open(self, sealed: bytes, place: bytes | None = None) -> bytes:
        head, sep, rest = bytes(sealed).partition(b":")
        if not sep:
            raise KeyRingError("a stored value is not sealed")
        kid, bound = parse_head(head.decode("ascii", "replace"))
        return self._cipher(kid, lambda c: c.decrypt(rest[:_NONCE], rest[_NONCE:], _place(bound, place)))

    def seal_text(self, text: str, place: bytes | None = None) -> str:
        k = self._keys
        nonce = os.urandom(_NONCE)
        body = nonce + k.ciphers[k.current].encrypt(nonce, text.encode(), place)
        return _head(k.current, place) + base64.b64encode(body).decode("ascii")

    def open_text(self, sealed: str, place: bytes | None = None) -> str:
        head, sep, rest = sealed.partition(":")
        if not sep:
            raise KeyRingError("a stored value is not sealed")
        kid, bound = parse_head(head)
        body = base64.b64decode(rest)
        return self._cipher(kid, lambda c: c.decrypt(body[:_NONCE], body[_NONCE:], _place(bound, place))).decode()

    def is_current(self, sealed: str | bytes) -> bool:
        """Whether a stored value is sealed under the current key, bound to its place (format 2):
        what a rotation leaves as it is."""
        head = f"{self._keys.current}{BOUND}:"
        return (sealed.startswith(head) if isinstance(sealed, str)
                else bytes(sealed[:len(head)]) == head.encode())

    def _cipher(self, kid: str, use):
        cipher = self._keys.ciphers.get(kid)
        if cipher is None and self.reload():  # a key a rotation added since this ring was read
            cipher = self._keys.ciphers.get(kid)
        if cipher is None:
            raise KeyRingError(f"a stored value is sealed with key {kid!r}, which the key ring lacks")
        try:
            return use(cipher)
        except InvalidTag:
            raise KeyRingError(f"a stored value sealed with key {kid!r} fails its authentication "
                               "(altered, or moved from where it was sealed)") from None

    # --- the blind index -------------------------------------------------------------------

    def blind(self, plate: str) -> str:
        """The plate's keyed index, as rows are written: equal plates, equal indexes; the plate not
        recoverable from it."""
        return _blind(self._keys.index_key, plate)

    def blinds(self, plate: str) -> str:
        """The indexes a look-up matches, end to end: the one rows are written with, then the one of
        the other key while an index rotation runs (else the same one again)."""
        k = self._keys
        mine = _blind(k.index_key, plate)
        return mine + (_blind(k.index_also, plate) if k.index_also else mine)

    @property
    def index_rotating(self) -> str | None:
        """Where an index rotation stands: "next" (a key added, not yet written), "previous" (the
        new key written, the old one still matched), or None."""
        k = self._keys
        return "next" if k.index_next else "previous" if k.index_previous else None

    def name_of(self, data: bytes) -> str:
        """A keyed digest of a picture's bytes (its file name: one file per picture, nothing learnt
        from the name). A name is only where the picture is: after an index rotation new pictures
        are named under the new key, older ones keep theirs."""
        return hmac.new(self._keys.index_key, b"picture\0" + data, hashlib.sha256).hexdigest()[:32]

    # --- rotation (the file) ---------------------------------------------------------------

    def add_key(self) -> str:
        """A fresh key, made current in the file (the older ones stay for opening); its id."""
        k, path = self._require_file()
        numbers = [int(kid[1:]) for kid in k.raw if kid[1:].isdigit()]
        kid = f"k{max(numbers, default=0) + 1}"
        self._write(path, k, current=kid, raw={**k.raw, kid: os.urandom(32)})
        return kid

    def retire(self, keep: set[str]) -> list[str]:
        """Drop from the file every key but the current one and ``keep``; the ids dropped."""
        k, path = self._require_file()
        dropped = [kid for kid in k.raw if kid != k.current and kid not in keep]
        if dropped:
            self._write(path, k, raw={kid: key for kid, key in k.raw.items() if kid not in dropped})
        return dropped

    def add_index_key(self) -> None:
        """An index rotation's first step: a fresh index key, matched by look-ups, not yet written."""
        k, path = self._require_file()
        if k.index_also:
            raise KeyRingError("an index rotation is under way: finish it (`parkgate keys rotate --index --resume`)")
        self._write(path, k, index_next=os.urandom(32))

    def write_index_key(self) -> None:
        """Its second step: rows are written under the new key; the old one is still matched."""
        k, path = self._require_file()
        if k.index_next is None:
            raise KeyRingError("no index key has been added")
        self._write(path, k, index_key=k.index_next, index_next=None, index_previous=k.index_key)

    def retire_index_key(self) -> bool:
        """Its last step (once no row is indexed under the old key): the old key dropped; whether
        there was one."""
        k, path = self._require_file()
        if k.index_previous is None:
            return False
        self._write(path, k, index_previous=None)
        return True

    def _write(self, path: Path, k: _Keys, **changes) -> None:
        fields = {"current": k.current, "index_key": k.index_key, "index_next": k.index_next,
                  "index_previous": k.index_previous, "raw": k.raw, **changes}
        _write(path, **fields)
        self.reload()

    def _require_file(self) -> tuple[_Keys, Path]:
        if self.path is None:
            raise KeyRingError(f"the keys come from {KEYS_ENV}: rotate them where that value is kept")
        self.reload()
        return self._keys, self.path


def _head(kid: str, place: bytes | None) -> str:
    return f"{kid}{BOUND if place is not None else ''}:"


def parse_head(head: str) -> tuple[str, bool]:
    """A seal head (``k2@2``, ``k1``) as (key id, whether the value is bound to its place)."""
    if head.endswith(BOUND):
        return head[:-len(BOUND)], True
    return head, False


def _place(bound: bool, place: bytes | None) -> bytes | None:
    if bound and place is None:
        raise KeyRingError("a stored value is bound to where it was sealed, and was opened without it")
    return place if bound else None


def _blind(key: bytes, plate: str) -> str:
    return hmac.new(key, plate.encode(), hashlib.sha256).hexdigest()[:INDEX]


def seal_head(value: str | bytes) -> str | None:
    """What a stored value begins with: its key id and format (``k2@2``; None: not a sealed value)."""
    if isinstance(value, str):
        head, sep, _ = value.partition(":")
    else:
        raw, bsep, _ = bytes(value).partition(b":")
        head, sep = raw.decode("ascii", "replace"), bsep.decode()
    return head if sep and len(head) <= 16 + len(BOUND) else None


def _write(path: Path, *, current: str, index_key: bytes, index_next: bytes | None, index_previous: bytes | None,
           raw: dict[str, bytes]) -> None:
    """Atomically, 0600: a reader sees the old file or the new one, never half of one."""
    data = {"current": current, "index_key": index_key.hex(), "keys": {kid: key.hex() for kid, key in raw.items()}}
    data.update({name: key.hex() for name, key in (("index_next", index_next), ("index_previous", index_previous))
                 if key is not None})
    text = json.dumps(data, indent=1) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def init(path: Path | str) -> bool:
    """Make a key file with fresh keys unless one is there (whether it made one); another process never
    reads half a file (:func:`gateway.store.keyfile.make_once`)."""
    text = json.dumps({"current": "k1", "index_key": os.urandom(32).hex(),
                       "keys": {"k1": os.urandom(32).hex()}}, indent=1) + "\n"
    return make_once(Path(path), text.encode())
