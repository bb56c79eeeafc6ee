"""Which reported instants are admitted: timezone-aware, not ahead of the clock beyond the skew."""

from datetime import datetime, timedelta, timezone

from .errors import InvalidTime

FAR_PAST = timedelta(days=366)


def aware(when: datetime, field: str) -> datetime:
    """``when`` in UTC; a naive time is refused (nobody can tell which zone it meant)."""
    if when.tzinfo is None:
        raise InvalidTime("times must carry a timezone (e.g. 2025-01-22T14:30:45Z)", field)
    return when.astimezone(timezone.utc)


def reported(when: datetime | None, now: datetime, max_skew: timedelta, field: str) -> datetime:
    """A time a camera or platform reports something happened at (``None``: now)."""
    if when is None:
        return now
    when = aware(when, field)
    if when > now + max_skew:
        raise InvalidTime("time is in the future", field)
    if when < now - FAR_PAST:
        raise InvalidTime("time is more than a year in the past", field)
    return when
