"""Which reported instants are admitted: timezone-aware, not ahead of the clock beyond the skew."""

from datetime import datetime, timedelta, timezone

from .errors import InvalidTime

FAR_PAST = timedelta(days=366)
#: How far ahead a question about the future may look: a fee is worked out a day at a time, so a
#: quote for the year 9999 kept a request thread (and the GIL) busy for a minute.
FAR_AHEAD = timedelta(days=366)
#: The instants admitted at all: a day inside the calendar's ends, so that every instant can be
#: shown in every time zone (a day's date in the facility's zone, a due date) without overflowing.
EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 30, tzinfo=timezone.utc)


def in_calendar(when: datetime, field: str | None = None) -> datetime:
    """``when`` as given, if it lies between EARLIEST and LATEST (a naive time is left to
    :func:`aware`)."""
    if when.tzinfo is None:
        return when
    try:
        utc = when.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise InvalidTime(f"times are between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)", field)
    return when


def aware(when: datetime, field: str) -> datetime:
    """``when`` in UTC; a naive time is refused (nobody can tell which zone it meant)."""
    if when.tzinfo is None:
        raise InvalidTime("times must carry a timezone (e.g. 2025-01-22T14:30:45Z)", field)
    return in_calendar(when, field).astimezone(timezone.utc)


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


def ahead(when: datetime, now: datetime, field: str) -> datetime:
    """A time a caller asks about ("what will I owe then"), in UTC: at most :data:`FAR_AHEAD` after ``now``."""
    when = aware(when, field)
    if when > now + FAR_AHEAD:
        raise InvalidTime("time is more than a year ahead", field)
    return when
