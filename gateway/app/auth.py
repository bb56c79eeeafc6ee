"""Users, roles and the verification of WS-Security UsernameTokens.

Passwords are kept as scrypt hashes. PasswordDigest (base64(sha1(nonce + created +
password))) needs the password itself on the server, so only users created with digest
allowed keep it (``digest_secret``); they are the trade-off an integrator asks for.
A verified PasswordText is remembered for a few minutes as an HMAC under a per-process
key, so the slow hash is paid once per client, not once per request.
"""

import base64
import hashlib
import hmac
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from ..domain.errors import AuthenticationFailed, InvalidInput, NotFound, NotPermitted
from ..domain.users import ROLES, User
from ..store import audit, users
from ..store.engine import Store
from .clock import Clock, utcnow

PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
FRESHNESS = timedelta(minutes=5)
_SCRYPT = dict(n=2 ** 14, r=8, p=1, dklen=32)
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=_SCRYPT_MAXMEM, **_SCRYPT)
    return "scrypt${n}${r}${p}${salt}${digest}".format(
        salt=base64.b64encode(salt).decode(), digest=base64.b64encode(digest).decode(), **_SCRYPT)


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                         dklen=len(expected), maxmem=_SCRYPT_MAXMEM)
    return hmac.compare_digest(got, expected)


def password_digest(nonce_bytes: bytes, created: str, password: str) -> str:
    return base64.b64encode(hashlib.sha1(nonce_bytes + created.encode() + password.encode()).digest()).decode()


@dataclass(frozen=True)
class UsernameToken:
    """The parts of a wsse:UsernameToken that verification needs."""
    username: str | None
    password: str | None
    password_type: str | None
    nonce: str | None = None
    created: str | None = None


class Authenticator:
    """Checks UsernameTokens against the users; one per process, thread-safe."""

    def __init__(self, store: Store, clock: Clock, allow_demo: bool = False, cache_size: int = 4096,
                 cache_ttl: timedelta = timedelta(minutes=5)) -> None:
        self.store = store
        self.clock = clock
        self.allow_demo = allow_demo
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[tuple[str, bytes], tuple[str, datetime]] = OrderedDict()  # -> (role, expires)
        self._cache_size = cache_size
        self._cache_ttl = cache_ttl
        self._lock = threading.Lock()

    def authenticate(self, token: UsernameToken | None) -> tuple[str, str]:
        """The user's (username, role), or AuthenticationFailed saying nothing about why."""
        if token is None or not token.username or not token.password:
            raise AuthenticationFailed()
        if token.password_type == PASSWORD_DIGEST:
            return self._digest(token, token.username, token.password)
        if token.password_type != PASSWORD_TEXT:
            raise AuthenticationFailed()
        key = (token.username, hmac.new(self._key, token.password.encode(), "sha256").digest())
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit and hit[1] > now:
                self._cache.move_to_end(key)
                return token.username, hit[0]
        with self.store.connection() as conn:
            user = users.get(conn, token.username)
        if user is None or not self._admits(user) or not check_password(user.password_hash, token.password):
            raise AuthenticationFailed()
        with self._lock:
            self._cache[key] = (user.role, now + self._cache_ttl)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return token.username, user.role

    def forget(self, username: str) -> None:
        """Drop what is remembered of the user's passwords (after a reset, a disable, a new role)."""
        with self._lock:
            for key in [k for k in self._cache if k[0] == username]:
                del self._cache[key]

    def _admits(self, user: User) -> bool:
        return not user.disabled and (self.allow_demo or not user.demo)

    def _digest(self, token: UsernameToken, username: str, password: str) -> tuple[str, str]:
        if not token.nonce or not token.created:
            raise AuthenticationFailed()
        try:
            created = datetime.fromisoformat(token.created.replace("Z", "+00:00"))
            nonce = base64.b64decode(token.nonce, validate=True)
        except ValueError:
            raise AuthenticationFailed() from None
        now = self.clock()
        if created.tzinfo is None or abs(now - created) > FRESHNESS:
            raise AuthenticationFailed()
        try:
            with self.store.connection() as conn:
                user = users.get(conn, username)
                if user is None or not self._admits(user) or not user.digest_secret:
                    raise AuthenticationFailed()
                expected = password_digest(nonce, token.created, user.digest_secret)
                if not hmac.compare_digest(expected, password):
                    raise AuthenticationFailed()
                # Remember the nonce only once the digest is right, so nobody can burn others' nonces.
                users.remember_nonce(conn, user.username, token.nonce, now)
                users.forget_nonces(conn, now - 2 * FRESHNESS)
                return user.username, user.role
        except IntegrityError:
            raise AuthenticationFailed() from None  # a replayed nonce


def require_role(role: str, admitted: Collection[str]) -> None:
    if role not in admitted:
        raise NotPermitted()


class Users:
    """The users who may call the gateway (``parkgate user``)."""

    def __init__(self, store: Store, clock: Clock = utcnow, *, authenticator: Authenticator | None = None) -> None:
        """``authenticator``: the one this process checks passwords with, told of every change so a
        disabled user or an old password is refused at once, not when its cache entry expires."""
        self.store = store
        self.clock = clock
        self.authenticator = authenticator

    def _changed(self, username: str) -> None:
        if self.authenticator is not None:
            self.authenticator.forget(username)

    def add(self, username: str, password: str, role: str, allow_digest: bool = False, demo: bool = False,
            by: str = "system") -> User:
        """Add a user, or reset an existing one's password and role (and enable it again); audited
        as done ``by`` whom."""
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", "role")
        if not username or not password:
            raise InvalidInput("username and password are required", "username")
        with self.store.connection() as conn:
            existing = users.get(conn, username)
            user = User(username=username, role=role, password_hash=hash_password(password),
                        digest_secret=password if allow_digest else None,
                        created_at=existing.created_at if existing else self.clock(), disabled=False, demo=demo)
            users.save(conn, user)
            audit.record(conn, self.clock(), by, "UserReset" if existing else "UserAdd", username,
                         f"role {role}{', digest allowed' if allow_digest else ''}{', demo' if demo else ''}")
        self._changed(username)
        return user

    def listing(self) -> list[User]:
        with self.store.connection() as conn:
            return users.listing(conn)

    def get(self, username: str) -> User:
        with self.store.connection() as conn:
            user = users.get(conn, username)
        if user is None:
            raise NotFound(f"no user {username!r}", "username")
        return user

    def disable(self, username: str, by: str = "system") -> User:
        return self.update(username, disabled=True, by=by)

    def update(self, username: str, *, role: str | None = None, disabled: bool | None = None,
               by: str = "system") -> User:
        """Change a user's role or whether they may log in (the password stays); audited."""
        if role is not None and role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", "role")
        with self.store.connection() as conn:
            user = users.get(conn, username)
            if user is None:
                raise NotFound(f"no user {username!r}", "username")
            changed = replace(user, role=role or user.role, disabled=user.disabled if disabled is None else disabled)
            users.save(conn, changed)
            if changed.disabled != user.disabled:
                audit.record(conn, self.clock(), by, "UserDisable" if changed.disabled else "UserEnable", username,
                             None)
            if changed.role != user.role:
                audit.record(conn, self.clock(), by, "UserRole", username, f"{user.role} -> {changed.role}")
        self._changed(username)
        return changed

    def has_demo(self) -> bool:
        with self.store.connection() as conn:
            return users.has_demo(conn)
