"""When a stay has stayed overnight: the cut-offs (a local time each day) it passed while present.

One rule for the overnight listing (ListOvernightVehicles, the console's page, the shift report's
count) and the overnight charge (gateway.domain.tariffs): a stay passes a cut-off that comes
strictly after its entry and at or before the instant asked about (its exit, or now). The cut-off
itself is chosen once too, by :func:`gateway.domain.tariffs.overnight_cutoff`: the tariff's, which
its overnight charge counts, else the operator's.

Compared as instants, one cut-off a local date: on the day the clocks go back the cut-off's wall
time happens twice (``fold``), and a stay that came in between the two reaches the second; a stay
in before both passes that date's cut-off once. In the hour the clocks skip, the cut-off is the
instant its wall time gives with the offset before the change.
"""

from datetime import date, datetime, time, timedelta, timezone, tzinfo


def _instants(day: date, tz: tzinfo, cutoff: time) -> list[datetime]:
    """The instants (UTC, in order) ``cutoff`` happens at on the local ``day``: one, or two when the
    clocks go back through it (a skipped wall time gives one, its ``fold=0`` reading)."""
    first, second = (datetime.combine(day, cutoff.replace(fold=f), tzinfo=tz).astimezone(timezone.utc) for f in (0, 1))
    return [first, second] if second > first else [first]


def _after(day: date, tz: tzinfo, cutoff: time, entry: datetime) -> datetime | None:
    """The day's cut-off a stay in since ``entry`` reaches (None: it came after it): the first of
    :func:`_instants` after ``entry``, the second worked out only when the first is not (an exit's fee
    counts every night of a stay: one instant a night)."""
    first = datetime.combine(day, cutoff, tzinfo=tz).astimezone(timezone.utc)
    if first > entry:
        return first
    second = datetime.combine(day, cutoff.replace(fold=1), tzinfo=tz).astimezone(timezone.utc)
    return second if second > entry else None   # after the first and the entry: the repeated hour's


def first_cutoff_after(entry: datetime, tz: tzinfo, cutoff: time) -> datetime:
    """The first overnight cut-off (local ``cutoff``) after ``entry``, as UTC."""
    day = entry.astimezone(tz).date()
    return next(c for d in (day, day + timedelta(days=1)) if (c := _after(d, tz, cutoff, entry)) is not None)


def last_cutoff(at: datetime, tz: tzinfo, cutoff: time) -> datetime:
    """The last overnight cut-off (local ``cutoff``) at or before ``at``, as UTC: a vehicle still in
    that entered before it stayed overnight (exactly when :func:`first_cutoff_after` its entry is at
    or before ``at``). Taken from the local date, not from 24 hours before ``at``, which on the day a
    clock goes forward (23 hours) is before the day's cut-off."""
    day = at.astimezone(tz).date()
    return next(c for d in (day, day - timedelta(days=1)) for c in reversed(_instants(d, tz, cutoff)) if c <= at)


def passed(entry: datetime, until: datetime, tz: tzinfo, cutoff: time) -> int:
    """How many cut-offs a stay from ``entry`` passed by ``until``: the nights it is charged for."""
    day, last, n = entry.astimezone(tz).date(), until.astimezone(tz).date(), 0
    while day <= last:
        reached = _after(day, tz, cutoff, entry)
        n += reached is not None and reached <= until
        day += timedelta(days=1)
    return n
