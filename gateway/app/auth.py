"""Users, roles, passwords, and the verification of WS-Security UsernameTokens.

Passwords are kept as scrypt hashes at :class:`PasswordPolicy`'s cost, and rehashed on login when
kept at a lower one. PasswordDigest (base64(sha1(nonce + created + password))) needs the password
itself on the server, so only users created with digest allowed keep it (``digest_secret``);
they are the trade-off an integrator asks for.

Every request reads the caller's account afresh (:meth:`Store.read`, no unit of work): a password
reset, a role change or a disabled account takes effect on the next request. The slow hash is paid
once per client: a verified PasswordText is remembered (a MAC of it under a per-process key)
with the stored hash it matched, and counts only while the account keeps that hash. The hash runs
outside any transaction, a few at a time; an unknown user costs the same hash as a known one.
Failed logins are logged (never the password), counted per account (which locks after
:class:`Lockout`'s limit, shown by ``parkgate user list``) and per address (beyond its limit a
password is not checked at all).
"""

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NoReturn, TypeVar

from sqlalchemy.exc import IntegrityError

from ..domain.errors import AuthenticationFailed, Busy, InvalidInput, NotFound, NotPermitted
from ..domain.passwords import MAX_PASSWORD, PasswordPolicy, check_password
from ..domain.users import ROLES, Lockout, User
from ..store import audit, console_sessions, users
from ..store.engine import Store
from .clock import Clock, utcnow

log = logging.getLogger("parkgate")
T = TypeVar("T")

PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
FRESHNESS = timedelta(minutes=5)
MAX_USERNAME = 64        # the column's width: longer names are nobody
NONCE_BYTES = (8, 64)    # what a nonce may decode to (WS-Security: 16 bytes is usual)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def password_digest(nonce_bytes: bytes, created: str, password: str) -> str:
    return base64.b64encode(hashlib.sha1(nonce_bytes + created.encode() + password.encode()).digest()).decode()


def canonical_nonce(text: str) -> bytes:
    """A nonce's bytes, from strict base64 in its one canonical spelling (no other padding, no
    stray bits in the last character), so that no other spelling of a used nonce passes as new."""
    try:
        nonce = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise AuthenticationFailed() from None
    if _b64(nonce) != text or not NONCE_BYTES[0] <= len(nonce) <= NONCE_BYTES[1]:
        raise AuthenticationFailed()
    return nonce


@dataclass(frozen=True)
class UsernameToken:
    """The parts of a wsse:UsernameToken that verification needs."""
    username: str | None
    password: str | None
    password_type: str | None
    nonce: str | None = None
    created: str | None = None


class SourceFailures:
    """Failed logins per address within a window (in this process), for refusing an address that
    guesses; bounded: the addresses seen longest ago are forgotten first."""

    def __init__(self, lockout: Lockout, size: int = 10_000) -> None:
        self.lockout = lockout
        self.size = size
        self._seen: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, source: str, now: datetime) -> deque[datetime]:
        times = self._seen.get(source)
        if times is None:
            return deque()
        while times and times[0] <= now - self.lockout.source_window:
            times.popleft()
        return times

    def refused(self, source: str | None, now: datetime) -> bool:
        if source is None or not self.lockout.source_failures:
            return False
        with self._lock:
            return len(self._recent(source, now)) >= self.lockout.source_failures

    def failed(self, source: str | None, now: datetime) -> bool:
        """Count a failed login; True when it is the one that takes the address to its limit."""
        if source is None or not self.lockout.source_failures:
            return False
        with self._lock:
            times = self._recent(source, now)
            times.append(now)
            while len(times) > self.lockout.source_failures:
                times.popleft()
            self._seen[source] = times
            self._seen.move_to_end(source)
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return len(times) == self.lockout.source_failures


class Authenticator:
    """Checks UsernameTokens against the users; one per process, thread-safe."""

    def __init__(self, store: Store, clock: Clock, allow_demo: bool = False, cache_size: int = 4096,
                 passwords: PasswordPolicy = PasswordPolicy(), lockout: Lockout | None = None) -> None:
        self.store = store
        self.clock = clock
        self.allow_demo = allow_demo
        self.passwords = passwords
        self.lockout = lockout = lockout or Lockout()
        self.sources = SourceFailures(lockout)
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[tuple[str, bytes], str] = OrderedDict()  # -> the stored hash it matched
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._hashing = threading.BoundedSemaphore(passwords.concurrent)
        self._nobody = passwords.hash(secrets.token_urlsafe(16))  # what an unknown user is checked against

    def authenticate(self, token: UsernameToken | None, source: str | None = None) -> tuple[str, str]:
        """The user's (username, role), or AuthenticationFailed saying nothing about why.
        ``source``: the caller's address (failed logins are counted per address too)."""
        if token is None or not token.username or not token.password or len(token.username) > MAX_USERNAME \
                or len(token.password) > MAX_PASSWORD:
            raise AuthenticationFailed()
        if token.password_type == PASSWORD_DIGEST:
            return self._digest(token, source)
        if token.password_type != PASSWORD_TEXT:
            raise AuthenticationFailed()
        username, password, now = token.username, token.password, self.clock()
        user = self._account(username)
        # BLAKE2b in its keyed mode, a MAC in one call (an HMAC through OpenSSL costs three times as much)
        key = (username, hashlib.blake2b(password.encode(), key=self._key, digest_size=32).digest())
        with self._lock:
            verified = self._cache.get(key)
            if verified is not None:
                self._cache.move_to_end(key)
        if user is not None and verified == user.password_hash and self._admits(user):
            return username, user.role
        self._guard(source, now)
        locked = user is not None and self.lockout.locked(user, now)
        # The same hash whatever the account: unknown and locked ones are checked against nobody's.
        right = self._verify(self._nobody if user is None or locked else user.password_hash, password)
        if not right or user is None or locked or not self._admits(user):
            self._failed(username, user, source, now, locked)
        stored = user.password_hash
        if user.failed_logins or user.locked_until or self.passwords.outdated(stored):
            if self.passwords.outdated(stored):
                stored = self._slow(self.passwords.hash, password)
            with self.store.connection() as conn:
                users.login_succeeded(conn, username, stored if stored != user.password_hash else None)
        with self._lock:
            self._cache[key] = stored
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return username, user.role

    def _account(self, username: str) -> User | None:
        with self.store.read() as conn:
            return users.get(conn, username)

    def _admits(self, user: User) -> bool:
        return not user.disabled and (self.allow_demo or not user.demo)

    def _verify(self, stored: str, password: str) -> bool:
        return self._slow(check_password, stored, password)

    def _slow(self, work: Callable[..., T], *args: str) -> T:
        """The slow hash, a few at a time (each holds 128 MiB at the default cost), outside any
        transaction."""
        if not self._hashing.acquire(timeout=self.passwords.wait_s):
            raise Busy("too many logins at once; try again")
        try:
            return work(*args)
        finally:
            self._hashing.release()

    def _guard(self, source: str | None, now: datetime) -> None:
        """An address past its failed logins' limit is refused without a look at the password."""
        if self.sources.refused(source, now):
            raise AuthenticationFailed()

    def _failed(self, username: str, user: User | None, source: str | None, now: datetime, locked: bool) -> NoReturn:
        """Count and log a failed login, then refuse it. The same unit of work whether the account
        exists or not (the count of an unknown name changes no row), so that its time tells nothing;
        an account already locked stays locked as long as it was."""
        if self.sources.failed(source, now):
            log.warning("login: %s refused for %s after %d failed logins", source, self.lockout.source_window,
                        self.lockout.source_failures)
        with self.store.connection() as conn:
            failures = users.login_failed(conn, username)
            until = self.lockout.lock_after(failures, now) if user is not None and not locked else None
            if until is not None:
                users.lock(conn, username, until)
                audit.record(conn, now, "system", "UserLocked", username,
                             f"{failures} failed logins in a row; locked until {until:%Y-%m-%d %H:%M} UTC")
        kind = "unknown user" if user is None else "locked user" if locked else "user"
        log.warning("login failed: %s %r from %s%s%s", kind, username, source,
                    f" ({failures} in a row)" if user is not None else "",
                    f"; locked until {until:%Y-%m-%d %H:%M:%S} UTC" if until else "")
        raise AuthenticationFailed()

    def _digest(self, token: UsernameToken, source: str | None) -> tuple[str, str]:
        username, now = str(token.username), self.clock()
        if not token.nonce or not token.created:
            raise AuthenticationFailed()
        nonce = canonical_nonce(token.nonce)
        try:
            created = datetime.fromisoformat(token.created.replace("Z", "+00:00"))
        except ValueError:
            raise AuthenticationFailed() from None
        if created.tzinfo is None or abs(now - created) > FRESHNESS:
            raise AuthenticationFailed()
        self._guard(source, now)
        user = self._account(username)
        locked = user is not None and self.lockout.locked(user, now)
        if user is None or locked or not self._admits(user) or not user.digest_secret \
                or not hmac.compare_digest(password_digest(nonce, token.created, user.digest_secret).encode(),
                                           str(token.password).encode()):   # bytes: any text is just wrong
            self._failed(username, user, source, now, locked)
        try:
            # Remember the nonce only once the digest is right, so nobody can burn others' nonces;
            # as its canonical bytes' spelling, in the database every node shares.
            with self.store.connection() as conn:
                users.remember_nonce(conn, username, _b64(nonce), now)
                users.forget_nonces(conn, now - 2 * FRESHNESS)
                if user.failed_logins or user.locked_until:
                    users.login_succeeded(conn, username)
        except IntegrityError:
            raise AuthenticationFailed() from None  # a replayed nonce
        return username, user.role


def require_role(role: str, admitted: Collection[str]) -> None:
    if role not in admitted:
        raise NotPermitted()


class Users:
    """The users who may call the gateway (``parkgate user``)."""

    def __init__(self, store: Store, clock: Clock = utcnow, passwords: PasswordPolicy = PasswordPolicy()) -> None:
        self.store = store
        self.clock = clock
        self.passwords = passwords

    def add(self, username: str, password: str, role: str, allow_digest: bool = False, demo: bool = False,
            by: str = "system") -> User:
        """Add a user, or reset an existing one's password and role (and enable it again); audited
        as done ``by`` whom."""
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", "role")
        if not username or not password:
            raise InvalidInput("username and password are required", "username")
        if len(username) > MAX_USERNAME:
            raise InvalidInput(f"a username has at most {MAX_USERNAME} characters", "username")
        self.passwords.check(password)
        password_hash = self.passwords.hash(password)  # before the unit of work: it takes half a second
        with self.store.connection() as conn:
            existing = users.get(conn, username)
            user = User(username=username, role=role, password_hash=password_hash,
                        digest_secret=password if allow_digest else None,
                        created_at=existing.created_at if existing else self.clock(), disabled=False, demo=demo)
            users.save(conn, user)
            if existing:   # a reset password logs their browsers out
                console_sessions.delete_user(conn, username)
            audit.record(conn, self.clock(), by, "UserReset" if existing else "UserAdd", username,
                         f"role {role}{', digest allowed' if allow_digest else ''}{', demo' if demo else ''}")
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
            if changed.disabled or changed.role != user.role:   # a new role applies from their next log-in
                console_sessions.delete_user(conn, username)
            if changed.disabled != user.disabled:
                audit.record(conn, self.clock(), by, "UserDisable" if changed.disabled else "UserEnable", username,
                             None)
            if changed.role != user.role:
                audit.record(conn, self.clock(), by, "UserRole", username, f"{user.role} -> {changed.role}")
        return changed

    def unlock(self, username: str, by: str = "system") -> User:
        """Clear an account's failed logins and lock (an admin's decision, audited)."""
        with self.store.connection() as conn:
            user = users.get(conn, username)
            if user is None:
                raise NotFound(f"no user {username!r}", "username")
            users.login_succeeded(conn, username)
            audit.record(conn, self.clock(), by, "UserUnlock", username,
                         f"after {user.failed_logins} failed logins in a row")
        return replace(user, failed_logins=0, locked_until=None)

    def has_demo(self) -> bool:
        with self.store.connection() as conn:
            return users.has_demo(conn)
