"""The people and systems that call the gateway, and the roles that admit operations."""

from dataclasses import dataclass
from datetime import datetime

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
