"""Users, roles and WS-Security UsernameToken verification.

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
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from .errors import AuthenticationFailed, InvalidInput, NotPermitted
from .store import UsedNonce, User

ROLES = ("admin", "operator", "integrator", "enforcement")
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
FRESHNESS = timedelta(minutes=5)
_SCRYPT = dict(n=2 ** 14, r=8, p=1, dklen=32)
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password):
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=_SCRYPT_MAXMEM, **_SCRYPT)
    return "scrypt${n}${r}${p}${salt}${digest}".format(
        salt=base64.b64encode(salt).decode(), digest=base64.b64encode(digest).decode(), **_SCRYPT)


def check_password(stored, password):
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


def password_digest(nonce_bytes, created, password):
    return base64.b64encode(hashlib.sha1(nonce_bytes + created.encode() + password.encode()).digest()).decode()


class UsernameToken:
    """The parts of a wsse:UsernameToken that verification needs."""

    def __init__(self, username, password, password_type, nonce=None, created=None):
        self.username = username
        self.password = password
        self.password_type = password_type
        self.nonce = nonce
        self.created = created

    @classmethod
    def from_header(cls, header_elements):
        """Find the token among the SOAP header's children; None when there is none."""
        for elt in header_elements or ():
            if not isinstance(elt.tag, str) or elt.tag != f"{{{WSSE}}}Security":
                continue
            token = elt.find(f"{{{WSSE}}}UsernameToken")
            if token is None:
                return None
            password = token.find(f"{{{WSSE}}}Password")
            return cls(
                username=_text(token.find(f"{{{WSSE}}}Username")),
                password=_text(password),
                password_type=password.get("Type", PASSWORD_TEXT) if password is not None else None,
                nonce=_text(token.find(f"{{{WSSE}}}Nonce")),
                created=_text(token.find(f"{{{WSU}}}Created")))
        return None


def _text(elt):
    return (elt.text or "").strip() if elt is not None else None


class Authenticator:
    """Checks UsernameTokens against the users table; one per process, thread-safe."""

    def __init__(self, store, clock, allow_demo=False, cache_size=4096, cache_ttl=timedelta(minutes=5)):
        self.store = store
        self.clock = clock
        self.allow_demo = allow_demo
        self._key = secrets.token_bytes(32)
        self._cache = OrderedDict()  # (username, hmac(password)) -> (role, expires)
        self._cache_size = cache_size
        self._cache_ttl = cache_ttl
        self._lock = threading.Lock()

    def authenticate(self, token):
        """The user's (username, role), or AuthenticationFailed saying nothing about why."""
        if token is None or not token.username or not token.password:
            raise AuthenticationFailed()
        if token.password_type == PASSWORD_DIGEST:
            return self._digest(token)
        if token.password_type != PASSWORD_TEXT:
            raise AuthenticationFailed()
        key = (token.username, hmac.new(self._key, token.password.encode(), "sha256").digest())
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit and hit[1] > now:
                self._cache.move_to_end(key)
                return token.username, hit[0]
        with self.store.transaction() as db:
            user = db.get(User, token.username)
            ok = self._admits(user) and check_password(user.password_hash, token.password)
            role = user.role if ok else None
        if not ok:
            raise AuthenticationFailed()
        with self._lock:
            self._cache[key] = (role, now + self._cache_ttl)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return token.username, role

    def _admits(self, user):
        return user is not None and not user.disabled and (self.allow_demo or not user.demo)

    def _digest(self, token):
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
            with self.store.transaction() as db:
                user = db.get(User, token.username)
                if not self._admits(user) or not user.digest_secret:
                    raise AuthenticationFailed()
                expected = password_digest(nonce, token.created, user.digest_secret)
                if not hmac.compare_digest(expected, token.password):
                    raise AuthenticationFailed()
                # Remember the nonce only once the digest is right, so nobody can burn others' nonces.
                db.add(UsedNonce(username=user.username, nonce=token.nonce, created=now))
                db.execute(delete(UsedNonce).where(UsedNonce.created < now - 2 * FRESHNESS))
                return user.username, user.role
        except IntegrityError:
            raise AuthenticationFailed() from None  # a replayed nonce


def require_role(role, admitted):
    if role not in admitted:
        raise NotPermitted()


def add_user(store, username, password, role, allow_digest=False, demo=False, clock=None):
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", "role")
    if not username or not password:
        raise InvalidInput("username and password are required", "username")
    now = (clock or (lambda: datetime.now(timezone.utc)))()
    with store.transaction() as db:
        user = db.get(User, username)
        if user is None:
            user = User(username=username, created_at=now)
            db.add(user)
        user.role = role
        user.password_hash = hash_password(password)
        user.digest_secret = password if allow_digest else None
        user.disabled = False
        user.demo = demo
    return user


def has_users(store):
    with store.transaction() as db:
        return db.query(User.username).limit(1).first() is not None

