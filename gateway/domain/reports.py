"""Report periods (daily, weekly, monthly, custom) in a facility's own time, and stay-length bands."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from .errors import InvalidInput

DAILY, WEEKLY, MONTHLY, CUSTOM = "daily", "weekly", "monthly", "custom"
PERIODS = (DAILY, WEEKLY, MONTHLY, CUSTOM)
#: Stay-length bands, in hours: [lower, upper).
STAY_BANDS = ((0, 1), (1, 2), (2, 4), (4, 8), (8, 24), (24, None))


@dataclass(frozen=True)
class Period:
    kind: str
    first_day: date                  # local
    last_day: date                   # local, included
    start: datetime                  # UTC, included
    end: datetime                    # UTC, excluded


def period(kind: str, day: date, tz: tzinfo, until: date | None = None) -> Period:
    """The period of ``kind`` that holds local ``day`` (custom: ``day`` to ``until``, both included)."""
    kind = (kind or DAILY).lower()
    if kind == DAILY:
        first, last = day, day
    elif kind == WEEKLY:
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)
    elif kind == MONTHLY:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    elif kind == CUSTOM:
        if until is None or until < day:
            raise InvalidInput("a custom period needs Until on or after From", "Until")
        if (until - day).days > 366:
            raise InvalidInput("a custom period is a year at most", "Until")
        first, last = day, until
    else:
        raise InvalidInput(f"a period is one of {', '.join(PERIODS)}", "Period")

    def utc(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=tz).astimezone(timezone.utc)
    return Period(kind, first, last, utc(first), utc(last + timedelta(days=1)))


def band_label(lower: int, upper: int | None) -> str:
    return f"{lower}-{upper} h" if upper is not None else f"{lower}+ h"
