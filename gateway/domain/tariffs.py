"""What a stay costs: pure functions over a facility's tariff versions.

A tariff is set per facility and vehicle type, as versions: each is in force from its effective
time until the next one's, and a new version never changes an earlier one (history is never
rewritten). A stay is charged by the versions in force while it lasted: each version charges
what its rules add to the stay while it is in force (the stay's charge under that version at the
end of its time, less the charge at its start), so a change mid-stay splits the stay, and a
"change" to the same rules changes nothing.

One daily maximum per 24 hours, across a change: the 24 hours from the entry (and each 24 hours
after) cost at most the daily maximum of the version in force when they began (of its rates for
the day they began on), whatever the versions that charged them; as a driver reads the sign at
the start of the day. Without the rule a stay over a change could pay up to both versions' caps
for one day. Overnight charges stay beyond the cap.

Under one version, a stay:

- is free within the grace (the grace of the version in force at entry: promised at the gate);
- otherwise costs the flat charge per entry, then its periods from the entry on: the first
  period at its price, the following ones at theirs; a time band (day, night) prices the periods
  that start in it; a special rate (a date range, weekdays: events, weekends, holidays) replaces
  the rates of the days it covers (local dates of the facility);
- is capped, per 24 hours from the entry, at the daily maximum of the day those 24 hours began
  on; each 24 hours start over (the first period is the stay's first only);
- plus the overnight charge for every cut-off (local time) passed while present, beyond the cap
  (gateway.domain.overnight: the rule the overnight listing goes by too).
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal

from . import overnight
from .errors import InvalidInput
from .facility import Facility, Tariff
from .vehicle_types import VEHICLE_TYPES

DAY = timedelta(hours=24)
ZERO = Decimal("0.00")
CENTS = Decimal("0.01")
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)   # the configured defaults are in force from then


@dataclass(frozen=True)
class TimeBand:
    """Periods that start from ``start`` until ``end`` (local time; an ``end`` before its ``start``
    runs past midnight, e.g. night 20:00-06:00) cost ``price_per_period``."""
    name: str
    start: time
    end: time
    price_per_period: Decimal

    def covers(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class Rates:
    first_period: timedelta
    first_price: Decimal
    period: timedelta
    price_per_period: Decimal
    daily_maximum: Decimal | None = None     # None: no cap
    entry_charge: Decimal = ZERO             # flat, once per entry (0 periods' prices: a flat tariff)
    bands: tuple[TimeBand, ...] = ()

    def __post_init__(self) -> None:
        if self.first_period <= timedelta(0) or self.period <= timedelta(0):
            raise InvalidInput("tariff periods must be positive", "Period")
        prices = (self.first_price, self.price_per_period, self.entry_charge, self.daily_maximum or ZERO,
                  *(b.price_per_period for b in self.bands))
        if any(p < 0 for p in prices):
            raise InvalidInput("tariff prices are never negative", "Price")

    def price(self, local: time, first: bool) -> Decimal:
        for band in self.bands:
            if band.covers(local):
                return band.price_per_period
        return self.first_price if first else self.price_per_period


@dataclass(frozen=True)
class SpecialRate:
    """Rates for the days from ``first_day`` to ``last_day`` (either open) that fall on ``weekdays``
    (0 Monday .. 6 Sunday; none given: every day)."""
    name: str
    rates: Rates
    first_day: date | None = None
    last_day: date | None = None
    weekdays: frozenset[int] = frozenset()

    def applies(self, day: date) -> bool:
        if (self.first_day and day < self.first_day) or (self.last_day and day > self.last_day):
            return False
        return not self.weekdays or day.weekday() in self.weekdays


@dataclass(frozen=True)
class TariffVersion:
    facility_id: str
    vehicle_type: str
    effective_from: datetime
    rate_code: str
    currency: str
    rates: Rates
    grace: timedelta = timedelta(0)
    overnight_cutoff: time | None = None     # local; None: no overnight charge
    overnight_charge: Decimal = ZERO
    lost_ticket: Decimal = ZERO
    exit_after_payment: timedelta = timedelta(minutes=15)
    specials: tuple[SpecialRate, ...] = ()   # the first that applies to a day wins
    version: int = 0                         # the stored version's number; 0: the configured default
    set_by: str = "config"
    set_at: datetime | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.vehicle_type not in VEHICLE_TYPES:
            raise InvalidInput(f"unknown vehicle type {self.vehicle_type!r}", "VehicleType")
        if self.effective_from.tzinfo is None:
            raise InvalidInput("a tariff's effective time carries a timezone", "EffectiveFrom")
        if self.overnight_charge < 0 or self.lost_ticket < 0 or self.grace < timedelta(0):
            raise InvalidInput("tariff amounts and the grace are never negative", "Price")

    @property
    def price_per_period(self) -> Decimal:
        return self.rates.price_per_period

    @property
    def daily_maximum(self) -> Decimal | None:
        return self.rates.daily_maximum

    def rates_on(self, day: date) -> Rates:
        for special in self.specials:
            if special.applies(day):
                return special.rates
        return self.rates


def from_tariff(tariff: Tariff, facility_id: str, vehicle_type: str, effective_from: datetime = EPOCH,
                **changes: object) -> TariffVersion:
    """A facility's configured :class:`~gateway.domain.facility.Tariff` as a version (every period
    at one price), with ``changes`` (the vehicle type's own settings) on top."""
    rates = Rates(first_period=tariff.period, first_price=tariff.price_per_period, period=tariff.period,
                  price_per_period=tariff.price_per_period, daily_maximum=tariff.daily_maximum)
    fields: dict = dict(facility_id=facility_id, vehicle_type=vehicle_type, effective_from=effective_from,
                        rate_code=tariff.rate_code, currency=tariff.currency, rates=rates, grace=tariff.grace,
                        lost_ticket=tariff.lost_ticket, exit_after_payment=tariff.exit_after_payment)
    return TariffVersion(**{**fields, **changes})


# --- one version ---------------------------------------------------------------------------

def charge(version: TariffVersion, entry: datetime, until: datetime, zone: tzinfo = timezone.utc) -> Decimal:
    """What the stay from ``entry`` costs up to ``until`` under ``version`` alone."""
    return (_periods(version, entry, until, zone) + _overnight(version, entry, until, zone)).quantize(CENTS)


def _periods(version: TariffVersion, entry: datetime, until: datetime, zone: tzinfo) -> Decimal:
    """:func:`charge` less the overnight charges: the periods, each 24 hours capped."""
    if until - entry <= version.grace:
        return ZERO
    total, start, first = ZERO, entry, True
    while start < until:
        total += _window(version, start, min(start + DAY, until), first, zone)
        start, first = start + DAY, False
    return total


def _overnight(version: TariffVersion, entry: datetime, until: datetime, zone: tzinfo) -> Decimal:
    if until - entry <= version.grace:
        return ZERO
    return _overnights(version, entry, until, zone) * version.overnight_charge


def _window(version: TariffVersion, start: datetime, end: datetime, first: bool, zone: tzinfo) -> Decimal:
    """One 24 hours of the stay (``first``: the stay's first), up to ``end``, capped."""
    first_day, last_day = start.astimezone(zone).date(), end.astimezone(zone).date()
    rates = version.rates_on(first_day)
    # Every local date the 24 hours touch: three when a day has 23 hours (the clocks go forward).
    days = (first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1))
    uniform = not rates.bands and all(version.rates_on(d) is rates for d in days)
    amount = rates.entry_charge if first else ZERO
    if uniform:  # every period at one price: count them
        rest = end - start
        if first:
            amount += rates.first_price
            rest -= rates.first_period
        if rest > timedelta(0):
            amount += -(-rest // rates.period) * rates.price_per_period
    else:
        cap, at, is_first = rates.daily_maximum, start, first
        while at < end and (cap is None or amount < cap):
            local = at.astimezone(zone)
            amount += version.rates_on(local.date()).price(local.time(), is_first)
            at += rates.first_period if is_first else rates.period
            is_first = False
    return amount if rates.daily_maximum is None else min(amount, rates.daily_maximum)


def _overnights(version: TariffVersion, entry: datetime, until: datetime, zone: tzinfo) -> int:
    """Cut-offs passed while present (gateway.domain.overnight: after the entry, at or before ``until``)."""
    cutoff = version.overnight_cutoff
    if cutoff is None or not version.overnight_charge:
        return 0
    return overnight.passed(entry, until, zone, cutoff)


def overnight_cutoff(version: TariffVersion, operator: time) -> time:
    """The cut-off past which a stay under ``version`` stayed overnight: the tariff's own where it
    sets one (its overnight charge counts those), else the operator's (``[facility.operator]
    overnight_cutoff``: a tariff with no cut-off charges no night). So a vehicle is listed overnight
    exactly when its stay has passed a cut-off it is charged for, where its tariff charges one."""
    return version.overnight_cutoff if version.overnight_cutoff is not None else operator


# --- the versions of a facility's tariff ------------------------------------------------------

def chain(versions: Iterable[TariffVersion], vehicle_type: str) -> list[TariffVersion]:
    """The vehicle type's versions in the order they came into force (a later set wins a tie)."""
    found = sorted((v for v in versions if v.vehicle_type == vehicle_type),
                   key=lambda v: (v.effective_from, v.version))
    if not found:
        raise InvalidInput(f"no tariff for {vehicle_type}", "VehicleType")
    return found


def in_force(versions: Iterable[TariffVersion], vehicle_type: str, at: datetime) -> TariffVersion:
    """The version in force at ``at`` (before the first: the first)."""
    found = chain(versions, vehicle_type)
    current = found[0]
    for v in found:
        if v.effective_from <= at:
            current = v
    return current


def _segments(found: Sequence[TariffVersion], entry: datetime, leave: datetime
              ) -> Iterator[tuple[TariffVersion, datetime, datetime]]:
    """(version, from, until): the parts of the stay each version was in force for."""
    current, since = found[0], entry
    for v in found[1:]:
        if v.effective_from <= entry:
            current = v
        elif v.effective_from < leave:
            yield current, since, v.effective_from
            current, since = v, v.effective_from
    yield current, since, leave


def fee(versions: Sequence[TariffVersion], vehicle_type: str, entry: datetime, leave: datetime,
        zone: tzinfo = timezone.utc) -> Decimal:
    """The charge for a stay from ``entry`` to ``leave``, in the versions' currency
    (:func:`in_force` (...).currency)."""
    if leave <= entry:
        return ZERO
    found = chain(versions, vehicle_type)
    if leave - entry <= in_force(found, vehicle_type, entry).grace:
        return ZERO
    parts = list(_segments(found, entry, leave))
    if len(parts) == 1:
        return charge(parts[0][0], entry, leave, zone)
    total = sum((_overnight(v, entry, b, zone) - _overnight(v, entry, a, zone) for v, a, b in parts), ZERO)
    start = entry
    while start < leave:   # each 24 hours: what every version adds to them, capped once
        end = min(start + DAY, leave)
        added = sum((_periods(v, entry, min(b, end), zone) - _periods(v, entry, max(a, start), zone)
                     for v, a, b in parts if a < end and b > start), ZERO)
        cap = in_force(found, vehicle_type, start).rates_on(start.astimezone(zone).date()).daily_maximum
        total += added if cap is None else min(added, cap)
        start = end
    return total.quantize(CENTS)


def amount_due(versions: Sequence[TariffVersion], vehicle_type: str, entry: datetime, leave: datetime,
               paid: Decimal, paid_at: datetime | None = None, zone: tzinfo = timezone.utc) -> Decimal:
    """What is still owed when leaving at ``leave`` after paying ``paid`` at ``paid_at``.

    A payment covers the stay up to the moment it was made, plus the time to reach the exit
    (``exit_after_payment`` of the version in force when it was paid).
    """
    until = leave
    if paid_at is not None and leave - paid_at <= in_force(versions, vehicle_type, paid_at).exit_after_payment:
        until = max(paid_at, entry)
    return max(fee(versions, vehicle_type, entry, until, zone) - paid, ZERO).quantize(CENTS)


@dataclass(frozen=True)
class Schedule:
    """A facility's tariff versions (every vehicle type) and the zone its local times are in: what
    the fee of any stay there needs."""
    versions: tuple[TariffVersion, ...]
    zone: tzinfo = timezone.utc

    def fee(self, vehicle_type: str, entry: datetime, leave: datetime) -> Decimal:
        return fee(self.versions, vehicle_type, entry, leave, self.zone)

    def amount_due(self, vehicle_type: str, entry: datetime, leave: datetime, paid: Decimal,
                   paid_at: datetime | None = None) -> Decimal:
        return amount_due(self.versions, vehicle_type, entry, leave, paid, paid_at, self.zone)

    def in_force(self, vehicle_type: str, at: datetime) -> TariffVersion:
        return in_force(self.versions, vehicle_type, at)

    def with_version(self, version: TariffVersion) -> "Schedule":
        return Schedule(self.versions + (version,), self.zone)

    def lost_ticket(self, vehicle_type: str, at: datetime) -> Decimal:
        return self.in_force(vehicle_type, at).lost_ticket

    def _chain(self, vehicle_type: str) -> list[TariffVersion]:
        """The type's versions in order; none: the type has no tariff here."""
        return chain(self.versions, vehicle_type) if any(v.vehicle_type == vehicle_type for v in self.versions) \
            else []

    def last_overnight(self, vehicle_type: str, at: datetime, operator: time) -> datetime:
        """The last cut-off at or before ``at`` of a stay of the type: a vehicle still in that entered
        before it stayed overnight. Each version's cut-off (:func:`overnight_cutoff`) holds for the
        cut-offs after its effective time, up to the next one's, as :func:`fee` charges them."""
        found = self._chain(vehicle_type)
        if not found:   # a type without a tariff here
            return overnight.last_cutoff(at, self.zone, operator)
        upper = at
        for i in range(len(found) - 1, -1, -1):
            start = found[i].effective_from
            if i and start >= upper:
                continue                              # in force only after what is asked about
            cut = overnight.last_cutoff(upper, self.zone, overnight_cutoff(found[i], operator))
            if i == 0 or cut > start:
                return cut
            upper = start                             # before this version: the one before decides
        raise AssertionError("unreachable")

    def first_overnight(self, vehicle_type: str, entry: datetime, operator: time) -> datetime:
        """The first cut-off a stay of the type in since ``entry`` passes (by the same versions)."""
        found = self._chain(vehicle_type)
        if not found:
            return overnight.first_cutoff_after(entry, self.zone, operator)
        i = max((n for n, v in enumerate(found) if v.effective_from <= entry), default=0)
        lower = entry
        while True:
            cut = overnight.first_cutoff_after(lower, self.zone, overnight_cutoff(found[i], operator))
            if i == len(found) - 1 or cut <= found[i + 1].effective_from:
                return cut
            i += 1
            lower = found[i].effective_from

    def last_overnights(self, at: datetime, operator: time) -> dict[str, datetime]:
        """Vehicle type -> :meth:`last_overnight`: what the overnight listing asks of the database."""
        return {t: self.last_overnight(t, at, operator) for t in VEHICLE_TYPES}


def configured(facility: Facility) -> Schedule:
    """The facility's tariff as configured: its versions per vehicle type, or (none given) its one
    :class:`~gateway.domain.facility.Tariff` for every type."""
    versions = facility.tariff_versions or tuple(from_tariff(facility.tariff, facility.id, t) for t in VEHICLE_TYPES)
    return Schedule(tuple(versions), facility.timezone)
