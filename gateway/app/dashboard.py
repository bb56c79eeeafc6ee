"""What the console's dashboard shows: how full a facility is, today's traffic and takings, the
trends, and what waits for a person.

Read-only and not audited: it refreshes every few seconds and shows no plate. The days before
today change little (a late event now and then), so they are counted once every few minutes and
kept; a refresh counts only today (bench/console.py: the figures on a large database).
"""

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from ..domain.facility import Facility, find_facility
from ..domain.reviews import OPEN
from ..store import payments, reviews, sessions
from ..store.engine import Store
from .clock import Clock
from .lanes import Lanes, LaneState
from .zones import Zones, ZoneView

TREND_DAYS = 30
#: How long the days before today are kept between two counts.
PAST_DAYS_KEPT = timedelta(minutes=10)


@dataclass(frozen=True)
class Traffic:
    """Entries and exits in one interval (an hour of today, or a day), from ``start`` (local time)."""
    start: datetime
    entries: int
    exits: int


@dataclass(frozen=True)
class DashboardView:
    facility: Facility
    as_of: datetime
    occupied: int
    revenue: dict[str, Decimal]          # today (local day) per payment method
    hours: list[Traffic]                 # today, hour by hour
    days: list[Traffic]                  # the last TREND_DAYS days, today last
    open_reviews: int
    attention: list[LaneState]           # lanes that need a person: offline, fault, local mode
    zones: tuple[ZoneView, ...] = ()     # issue 16: free spaces per zone and vehicle type

    @property
    def available(self) -> int:
        return max(self.facility.capacity - self.occupied, 0)

    @property
    def revenue_total(self) -> Decimal:
        return sum(self.revenue.values(), Decimal("0"))


def _midnight(day: date, fac: Facility) -> datetime:
    return datetime.combine(day, time(0), fac.timezone).astimezone(timezone.utc)


def _traffic(conn, fac: Facility, edges: list[datetime]) -> list[Traffic]:
    entries = sessions.counts_by_bucket(conn, fac.id, "entry_time", edges)
    exits = sessions.counts_by_bucket(conn, fac.id, "exit_time", edges)
    return [Traffic(edge.astimezone(fac.timezone), n_in, n_out) for edge, n_in, n_out in zip(edges, entries, exits)]


class Dashboard:
    def __init__(self, *, facilities: Mapping[str, Facility], store: Store, lanes: Lanes, clock: Clock,
                 zones: Zones | None = None) -> None:
        self.zones = zones
        self.facilities = facilities
        self.store = store
        self.lanes = lanes
        self.clock = clock
        self._past: dict[str, tuple[date, datetime, list[Traffic]]] = {}   # facility -> (today, counted at, days)
        self._lock = threading.Lock()

    def _past_days(self, conn, fac: Facility, today: date, now: datetime) -> list[Traffic]:
        """The TREND_DAYS - 1 days before today, as counted at most PAST_DAYS_KEPT ago."""
        with self._lock:
            kept = self._past.get(fac.id)
        if kept is not None and kept[0] == today and now - kept[1] < PAST_DAYS_KEPT:
            return kept[2]
        edges = [_midnight(today - timedelta(days=d), fac) for d in range(TREND_DAYS - 1, -1, -1)]
        counted = _traffic(conn, fac, edges)
        with self._lock:
            self._past[fac.id] = (today, now, counted)
        return counted

    def view(self, facility_id: str) -> DashboardView:
        fac = find_facility(self.facilities, facility_id)
        now = self.clock()
        today = now.astimezone(fac.timezone).date()
        start, end = _midnight(today, fac), _midnight(today + timedelta(days=1), fac)
        hours = [start + timedelta(hours=h) for h in range(int((end - start) / timedelta(hours=1)) + 1)]
        with self.store.connection() as conn:
            occupied = sessions.occupied(conn, fac.id)
            revenue = payments.revenue_by_method(conn, fac.id, start, end)
            by_hour = _traffic(conn, fac, hours)
            past = self._past_days(conn, fac, today, now)
            waiting = reviews.count(conn, OPEN, fac.id)
        whole_day = Traffic(start.astimezone(fac.timezone), sum(t.entries for t in by_hour),
                            sum(t.exits for t in by_hour))
        return DashboardView(facility=fac, as_of=now, occupied=occupied, revenue=revenue, hours=by_hour,
                             days=[*past, whole_day], open_reviews=waiting, attention=self.lanes.attention(fac.id),
                             zones=tuple(self.zones.listing(fac.id)) if self.zones is not None else ())
