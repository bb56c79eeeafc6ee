"""Time and identifiers: the clock is injected everywhere (tests decide what "now" is)."""

import secrets
from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id(prefix: str, when: datetime) -> str:
    """``PREFIX-YYYYMMDD-XXXXXXXXXX``: the day it was made, and 40 random bits."""
    return f"{prefix}-{when:%Y%m%d}-{secrets.token_hex(5).upper()}"
