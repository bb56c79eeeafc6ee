"""How passwords are kept (scrypt) and which are accepted: the policy ``[auth]`` sets, apart from
the accounts (:mod:`gateway.app.auth`) so that reading the configuration needs no database."""

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from .errors import InvalidInput

MAX_PASSWORD = 1024


@dataclass(frozen=True)
class PasswordPolicy:
    """How passwords are kept and which are accepted. The cost is OWASP's for scrypt (2023:
    N=2**17, r=8, p=1: 128 MiB and about half a second a hash); ``concurrent`` hashes at most run
    at once (memory), a request waits ``wait_s`` for its turn before it is told Server.Busy."""
    n: int = 2 ** 17
    r: int = 8
    p: int = 1
    min_length: int = 8
    concurrent: int = 2
    wait_s: float = 5.0

    def check(self, password: str) -> None:
        if len(password) < self.min_length:
            raise InvalidInput(f"a password has at least {self.min_length} characters", "password")
        if len(password) > MAX_PASSWORD:
            raise InvalidInput(f"a password has at most {MAX_PASSWORD} characters", "password")

    def hash(self, password: str) -> str:
        salt = os.urandom(16)
        digest = _scrypt(password, salt, self.n, self.r, self.p, 32)
        salt_b64, digest_b64 = (base64.b64encode(b).decode() for b in (salt, digest))
        return f"scrypt${self.n}${self.r}${self.p}${salt_b64}${digest_b64}"

    def outdated(self, stored: str) -> bool:
        """Whether a hash is kept at a lower cost than this policy's (it is rehashed on login)."""
        parts = stored.split("$")
        try:
            return len(parts) != 6 or (int(parts[1]), int(parts[2]), int(parts[3])) < (self.n, self.r, self.p)
        except ValueError:
            return True


def hash_password(password: str, policy: PasswordPolicy = PasswordPolicy()) -> str:
    return policy.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, binascii.Error):
        return False
    return scheme == "scrypt" and hmac.compare_digest(got, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=256 * r * (n + p))
