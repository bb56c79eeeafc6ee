"""The people and systems that call the gateway, the roles that admit operations, and when
failed logins lock an account."""

from dataclasses import dataclass
from datetime import datetime, timedelta

ROLES = ("admin", "operator", "integrator", "enforcement")


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str
    password_hash: str
    digest_secret: str | None        # only for users allowed WS-Security PasswordDigest
    created_at: datetime
    disabled: bool = False
    demo: bool = False               # made by `make run`; refused unless the gateway is on loopback
    failed_logins: int = 0           # in a row, since the last login that succeeded
    locked_until: datetime | None = None


@dataclass(frozen=True)
class Lockout:
    """When failed logins stop being checked: an account after ``max_failures`` in a row, for
    ``lock_for``; an address after ``source_failures`` within ``source_window`` (whatever the
    users), until that window has passed. Nothing is checked while locked, so guessing gets nowhere;
    a client whose password was verified before the lock keeps working (it does not guess)."""
    max_failures: int = 10
    lock_for: timedelta = timedelta(minutes=15)
    source_failures: int = 20
    source_window: timedelta = timedelta(minutes=1)

    def locked(self, user: User, now: datetime) -> bool:
        return user.locked_until is not None and now < user.locked_until

    def lock_after(self, failures: int, now: datetime) -> datetime | None:
        """Until when ``failures`` failed logins in a row lock the account (None: not locked)."""
        return now + self.lock_for if self.max_failures and failures >= self.max_failures else None
