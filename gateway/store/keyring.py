"""The keys that seal plates, documents and pictures at rest, and the key of the plates' blind index.

Kept in a file (``[privacy] key_file``, JSON, mode 0600) or given whole in ``PARKGATE_KEYS`` (the
same JSON, e.g. from a secrets manager); never in the database. A sealed value names the key that
sealed it (``k2:...``), so after ``parkgate keys rotate`` adds a key, values sealed under the older
ones still open until the rotation has re-sealed them and retires those keys. A serving gateway
re-reads the file when it changes (:meth:`KeyRing.reload`) and when it meets a key id it lacks.

The blind index key is not rotated: every plate's index would change at once, and look-ups by
plate during the change would miss. It is a separate key, so rotating the cipher keys never
needs it.
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

log = logging.getLogger("parkgate")

KEYS_ENV = "PARKGATE_KEYS"
DEFAULT_KEY_FILE = Path(__file__).resolve().parents[2] / "var" / "keys.json"
_NONCE = 12


class KeyRingError(Exception):
    """A key ring that cannot be had or used: missing file, unknown key id, a value that fails to open."""


@dataclass(frozen=True)
class _Keys:
    current: str
    ciphers: dict[str, AESGCM]
    index_key: bytes
    raw: dict[str, bytes]
    stamp: tuple[float, int] | None   # the file's (mtime, size) when read


def _parse(text: str, stamp: tuple[float, int] | None) -> _Keys:
    try:
        data = json.loads(text)
        raw = {str(kid): bytes.fromhex(key) for kid, key in data["keys"].items()}
        current, index_key = str(data["current"]), bytes.fromhex(data["index_key"])
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise KeyRingError(f"the key ring is not JSON of current, index_key and keys ({type(e).__name__})") from None
    if current not in raw or any(len(k) != 32 for k in raw.values()) or len(index_key) != 32:
        raise KeyRingError("the key ring needs 32-byte keys and its current key among them")
    if any(":" in kid or not kid for kid in raw):
        raise KeyRingError("key ids are short names without ':'")
    return _Keys(current, {kid: AESGCM(key) for kid, key in raw.items()}, index_key, raw, stamp)


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

    def seal(self, data: bytes) -> bytes:
        """``key id`` ``:`` nonce, ciphertext and tag."""
        k = self._keys
        nonce = os.urandom(_NONCE)
        return k.current.encode() + b":" + nonce + k.ciphers[k.current].encrypt(nonce, data, None)

    def open(self, sealed: bytes) -> bytes:
        kid, sep, rest = bytes(sealed).partition(b":")
        if not sep:
            raise KeyRingError("a stored value is not sealed")
        return self._cipher(kid.decode("ascii", "replace"), lambda c: c.decrypt(rest[:_NONCE], rest[_NONCE:], None))

    def seal_text(self, text: str) -> str:
        k = self._keys
        nonce = os.urandom(_NONCE)
        body = nonce + k.ciphers[k.current].encrypt(nonce, text.encode(), None)
        return f"{k.current}:{base64.b64encode(body).decode('ascii')}"

    def open_text(self, sealed: str) -> str:
        kid, sep, rest = sealed.partition(":")
        if not sep:
            raise KeyRingError("a stored value is not sealed")
        body = base64.b64decode(rest)
        return self._cipher(kid, lambda c: c.decrypt(body[:_NONCE], body[_NONCE:], None)).decode()

    def _cipher(self, kid: str, use):
        cipher = self._keys.ciphers.get(kid)
        if cipher is None and self.reload():  # a key a rotation added since this ring was read
            cipher = self._keys.ciphers.get(kid)
        if cipher is None:
            raise KeyRingError(f"a stored value is sealed with key {kid!r}, which the key ring lacks")
        try:
            return use(cipher)
        except InvalidTag:
            raise KeyRingError(f"a stored value sealed with key {kid!r} fails its authentication") from None

    # --- the blind index -------------------------------------------------------------------

    def blind(self, plate: str) -> str:
        """The plate's keyed index: equal plates, equal indexes; the plate not recoverable from it."""
        return hmac.new(self._keys.index_key, plate.encode(), hashlib.sha256).hexdigest()[:32]

    def name_of(self, data: bytes) -> str:
        """A keyed digest of a picture's bytes (its file name: one file per picture, nothing learnt
        from the name)."""
        return hmac.new(self._keys.index_key, b"picture\0" + data, hashlib.sha256).hexdigest()[:32]

    # --- rotation (the file) ---------------------------------------------------------------

    def add_key(self) -> str:
        """A fresh key, made current in the file (the older ones stay for opening); its id."""
        k, path = self._require_file()
        numbers = [int(kid[1:]) for kid in k.raw if kid[1:].isdigit()]
        kid = f"k{max(numbers, default=0) + 1}"
        _write(path, kid, k.index_key, {**k.raw, kid: os.urandom(32)})
        self.reload()
        return kid

    def retire(self, keep: set[str]) -> list[str]:
        """Drop from the file every key but the current one and ``keep``; the ids dropped."""
        k, path = self._require_file()
        dropped = [kid for kid in k.raw if kid != k.current and kid not in keep]
        if dropped:
            _write(path, k.current, k.index_key,
                   {kid: key for kid, key in k.raw.items() if kid not in dropped})
            self.reload()
        return dropped

    def _require_file(self) -> tuple[_Keys, Path]:
        if self.path is None:
            raise KeyRingError(f"the keys come from {KEYS_ENV}: rotate them where that value is kept")
        self.reload()
        return self._keys, self.path


def key_id_of(value: str | bytes) -> str | None:
    """The id of the key a stored value is sealed with (None: not a sealed value)."""
    if isinstance(value, str):
        kid, sep, _ = value.partition(":")
    else:
        raw, bsep, _ = bytes(value).partition(b":")
        kid, sep = raw.decode("ascii", "replace"), bsep.decode()
    return kid if sep and len(kid) <= 16 else None


def _write(path: Path, current: str, index_key: bytes, keys: dict[str, bytes]) -> None:
    """Atomically, 0600: a reader sees the old file or the new one, never half of one."""
    text = json.dumps({"current": current, "index_key": index_key.hex(),
                       "keys": {kid: key.hex() for kid, key in keys.items()}}, indent=1) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def init(path: Path | str) -> bool:
    """Make a key file with fresh keys unless one is there (whether it made one). Written aside and
    linked into place, so another process never reads half a file."""
    path = Path(path)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"current": "k1", "index_key": os.urandom(32).hex(),
                       "keys": {"k1": os.urandom(32).hex()}}, indent=1) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False  # another process made it first
    finally:
        tmp.unlink()
    return True
