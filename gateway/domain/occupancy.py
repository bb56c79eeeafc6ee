"""Occupancy over time: a facility's hours as its lanes counted them, and what they add up to.

The hours are kept as vehicles come and go (rows per facility and hour, updated by each entry
and exit in the same unit of work: see :mod:`gateway.store.occupancy`), so a history is read,
never recomputed from the events. An
hour without traffic has no row: it carries the occupancy the hour before ended with.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from . import times
from .errors import InvalidInput, InvalidTime

HOUR = timedelta(hours=1)
#: The longest history one request reads (a month of hours).
MAX_SPAN = timedelta(days=31)
#: Share of spaces taken from which signs and open data say "almost full".
ALMOST_FULL = Decimal("0.9")
SPACES_AVAILABLE, ALMOST_FULL_NOW, FULL = "SPACES_AVAILABLE", "ALMOST_FULL", "FULL"


def spaces_status(capacity: int, occupied: int) -> str:
    """What a sign says: FULL with no space left, ALMOST_FULL from 90% taken, else SPACES_AVAILABLE."""
    if occupied >= capacity:
        return FULL
    return ALMOST_FULL_NOW if occupied >= ALMOST_FULL * capacity else SPACES_AVAILABLE


def hour_of(when: datetime) -> datetime:
    """The start of the UTC hour ``when`` falls in."""
    return when.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The UTC hours that lie wholly in [start, end), as [first, last): a report's period that starts
    on a half hour (India's midnight) leaves its part hours out, since an hour's peak may have come
    in the part outside the period. Empty (first == last) when no hour fits."""
    first, last = hour_of(start), hour_of(end)
    if first < start:
        first += HOUR
    return first, max(first, last)


@dataclass(frozen=True)
class OccupancyHour:
    facility_id: str
    hour: datetime          # its start, UTC
    entries: int
    exits: int
    stays: int              # exits that closed a stay (a session)
    stay_seconds: int       # the length of those stays, together
    peak: int               # the most vehicles inside at once, as the lanes counted them
    occupied_end: int       # vehicles inside after the hour's last entry or exit


def together(earlier: OccupancyHour, later: OccupancyHour) -> OccupancyHour:
    """Two shards of one hour as one (:mod:`gateway.store.shards`): the counts summed, the higher
    peak, and what ``later`` (the shard whose latest event came last) left inside."""
    return replace(later, entries=earlier.entries + later.entries, exits=earlier.exits + later.exits,
                   stays=earlier.stays + later.stays, stay_seconds=earlier.stay_seconds + later.stay_seconds,
                   peak=max(earlier.peak, later.peak))


@dataclass(frozen=True)
class OccupancyHistory:
    facility_id: str
    capacity: int
    start: datetime
    end: datetime
    hours: tuple[OccupancyHour, ...]   # every hour of [start, end), the quiet ones carried over

    @property
    def entries(self) -> int:
        return sum(h.entries for h in self.hours)

    @property
    def exits(self) -> int:
        return sum(h.exits for h in self.hours)

    @property
    def peak_hour(self) -> OccupancyHour | None:
        """The first of the fullest hours; None when nobody was there all along."""
        busiest = max(self.hours, key=lambda h: h.peak, default=None)
        return busiest if busiest is not None and busiest.peak > 0 else None

    @property
    def average_stay(self) -> timedelta | None:
        stays = sum(h.stays for h in self.hours)
        return timedelta(seconds=round(sum(h.stay_seconds for h in self.hours) / stays)) if stays else None

    @property
    def turnover(self) -> Decimal:
        """Entries per space over the period (how many times each space was used, on average)."""
        if not self.capacity:
            return Decimal("0")
        return (Decimal(self.entries) / Decimal(self.capacity)).quantize(Decimal("0.01"))


def span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """[start, end) widened to whole hours; refused when backwards or longer than :data:`MAX_SPAN`."""
    start, end = times.aware(start, "From"), times.aware(end, "To")
    first, last = hour_of(start), hour_of(end)
    if last < end:
        last += HOUR
    if last <= first:
        raise InvalidTime("To must be after From", "To")
    if last - first > MAX_SPAN:
        raise InvalidInput(f"at most {MAX_SPAN.days} days of hours at once", "To")
    return first, last


def history(facility_id: str, capacity: int, start: datetime, end: datetime, kept: list[OccupancyHour],
            carried: int) -> OccupancyHistory:
    """Every hour of [start, end) (whole hours): ``kept`` as recorded, the hours between them quiet,
    holding what the hour before ended with (``carried``: the occupancy before ``start``)."""
    by_hour = {h.hour: h for h in kept}
    hours, at = [], start
    while at < end:
        found = by_hour.get(at)
        if found is None:
            found = OccupancyHour(facility_id, at, 0, 0, 0, 0, peak=carried, occupied_end=carried)
        elif found.peak < carried:
            found = replace(found, peak=carried)  # it began fuller than any of its entries or exits left it
        hours.append(found)
        carried, at = found.occupied_end, at + HOUR
    return OccupancyHistory(facility_id, capacity, start, end, tuple(hours))
