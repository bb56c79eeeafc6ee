"""Report periods (daily, weekly, monthly, custom) in a facility's own time, stay-length bands, and
the quarter hours the report's rollups count in.

Reports read rollups kept as sessions open and close and payments are taken, per quarter hour of
UTC. A period is counted exactly when it starts and ends on a quarter hour. Every period here
runs from a local midnight to a local midnight, and every zone's offset today is a whole number
of quarter hours (India's +5:30 and Nepal's +5:45 too); a custom period that started or ended
mid-day would be exact on the same terms (bounds on the hour, a quarter past, half past or a
quarter to). :func:`period` refuses a midnight off the quarter hours (a historical local mean
time) rather than answer for part of a quarter.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from .errors import InvalidInput, InvalidTime
from .times import EARLIEST, LATEST, in_calendar

DAILY, WEEKLY, MONTHLY, CUSTOM = "daily", "weekly", "monthly", "custom"
PERIODS = (DAILY, WEEKLY, MONTHLY, CUSTOM)
#: Stay-length bands, in hours: [lower, upper).
STAY_BANDS = ((0, 1), (1, 2), (2, 4), (4, 8), (8, 24), (24, None))
#: What the rollups count in: every period is a whole number of them.
QUARTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Period:
    kind: str
    first_day: date                  # local
    last_day: date                   # local, included
    start: datetime                  # UTC, included
    end: datetime                    # UTC, excluded


def period(kind: str, day: date, tz: tzinfo, until: date | None = None) -> Period:
    """The period of ``kind`` that holds local ``day`` (custom: ``day`` to ``until``, both included)."""
    try:
        return _period(kind, day, tz, until)
    except OverflowError:   # a period that runs off the calendar's ends (December 9999)
        raise InvalidTime(f"a report's days are between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}",
                          "From") from None


def _period(kind: str, day: date, tz: tzinfo, until: date | None) -> Period:
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
        at = in_calendar(datetime.combine(d, time(0), tzinfo=tz), "From").astimezone(timezone.utc)
        if quarter_of(at) != at:
            raise InvalidInput("the facility's midnight is no quarter hour: no report counts it exactly", "Period")
        return at
    return Period(kind, first, last, utc(first), utc(last + timedelta(days=1)))


def band_label(lower: int, upper: int | None) -> str:
    return f"{lower}-{upper} h" if upper is not None else f"{lower}+ h"


def quarter_of(when: datetime) -> datetime:
    """The start of the quarter hour of UTC that ``when`` falls in (the key of its rollups)."""
    at = when.astimezone(timezone.utc)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def stay_band(entry: datetime, leave: datetime) -> int:
    """The index in :data:`STAY_BANDS` of a stay from ``entry`` to ``leave``."""
    stayed = leave - entry
    for i, (_, upper) in enumerate(STAY_BANDS):
        if upper is not None and stayed < timedelta(hours=upper):
            return i
    return len(STAY_BANDS) - 1
