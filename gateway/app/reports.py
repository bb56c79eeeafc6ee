"""Management reports over a period: revenue by method, vehicle type, lane and facility; traffic
per hour and stay lengths; occupancy; voids, refunds and lost tickets. Exported as CSV, XLSX or
PDF (:mod:`gateway.app.exports`). Read from the rollups each write keeps (a month of a busy
facility in milliseconds, not a pass over its sessions): exact for periods on quarter hours
(:mod:`gateway.domain.reports`). The occupancy peak is the highest the lanes counted in the
period's whole hours (:mod:`gateway.store.occupancy`), or an hour's end if that was higher."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ..domain.facility import Facility, find_facility
from ..domain.occupancy import hour_of, whole_hours
from ..domain.payments import PAYMENT, REFUND, VOID
from ..domain.reports import STAY_BANDS, Period, band_label, period
from ..store import audit, occupancy, reports
from ..store.engine import Store
from ..store.rollups import ENTRY, EXIT
from .clock import Clock

ZERO = Decimal("0.00")
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Line:
    key: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class FacilityReport:
    facility: Facility
    period: Period
    revenue: Decimal                          # net of voids and refunds
    by_method: Sequence[Line]
    by_vehicle_type: Sequence[Line]
    by_lane: Sequence[Line]
    voids: Line
    refunds: Line
    lost_tickets: Line
    entries_per_hour: Sequence[int]           # local hour of day 0-23, summed over the period
    exits_per_hour: Sequence[int]
    stays: Sequence[Line]                     # key: the band, count: stays that ended in it
    occupancy_peak: int
    occupancy_average: Decimal
    occupancy_end: int


@dataclass(frozen=True)
class Report:
    period: Period
    facilities: Sequence[FacilityReport]

    @property
    def revenue(self) -> Decimal:
        return sum((f.revenue for f in self.facilities), ZERO)


def _lines(groups: Mapping[str, list]) -> list[Line]:
    return [Line(k, v[0], v[1]) for k, v in sorted(groups.items())]


class Reports:
    def __init__(self, *, facilities: Mapping[str, Facility], store: Store, clock: Clock) -> None:
        self.facilities = facilities
        self.store = store
        self.clock = clock

    def report(self, kind: str, day: date | None, until: date | None = None, facility_id: str | None = None,
               username: str = "system") -> Report:
        chosen = [find_facility(self.facilities, facility_id)] if facility_id else list(self.facilities.values())
        sections = []
        first = None
        for fac in chosen:
            local_day = day or self.clock().astimezone(fac.timezone).date()
            p = period(kind, local_day, fac.timezone, until)
            first = first or p
            with self.store.connection() as conn:
                sections.append(self._facility(conn, fac, p))
        with self.store.connection() as conn:
            audit.record(conn, self.clock(), username, "GetReport", facility_id or "all facilities",
                         f"{first.kind if first else kind} {first.first_day if first else day}", kind="QUERY")
        assert first is not None
        return Report(first, sections)

    def _facility(self, conn, fac: Facility, p: Period) -> FacilityReport:
        by_method: dict[str, list] = defaultdict(lambda: [0, ZERO])
        by_type: dict[str, list] = defaultdict(lambda: [0, ZERO])
        by_lane: dict[str, list] = defaultdict(lambda: [0, ZERO])
        kinds: dict[str, list] = defaultdict(lambda: [0, ZERO])
        for method, kind, vehicle_type, lane, n, amount in reports.revenue(conn, fac.id, p.start, p.end):
            counted = n if kind == PAYMENT else 0
            for groups, key in ((by_method, method), (by_type, vehicle_type),
                                (by_lane, f"lane {lane}" if lane is not None else "no lane")):
                groups[key][0] += counted
                groups[key][1] += amount
            kinds[kind][0] += n
            kinds[kind][1] += amount
        entries: dict[int, int] = defaultdict(int)    # by the hour of the period, from 0
        exits: dict[int, int] = defaultdict(int)
        stays: dict[int, int] = defaultdict(int)
        by_hour_of_day = {ENTRY: [0] * 24, EXIT: [0] * 24}
        for quarter, movement, band, n in reports.traffic(conn, fac.id, p.start, p.end):
            (entries if movement == ENTRY else exits)[(quarter - p.start) // HOUR] += n
            by_hour_of_day[movement][quarter.astimezone(fac.timezone).hour] += n
            if movement == EXIT:
                stays[band] += n
        occupied = reports.occupied_at(conn, fac.id, p.start)
        now = self.clock()
        peak, total, hours = occupied, 0, 0
        while p.start + hours * HOUR < min(p.end, now):
            occupied += entries[hours] - exits[hours]
            peak, total, hours = max(peak, occupied), total + occupied, hours + 1
        # The most inside at once, as the lanes counted each whole hour (occupancy_hours): an hour's
        # end misses a vehicle that came and one that left within the hour, both inside together.
        first, last = whole_hours(p.start, min(p.end, hour_of(now) + HOUR))
        peak = max([peak, *(h.peak for h in occupancy.hours(conn, fac.id, first, last))])
        lost_n, lost_amount = reports.lost_tickets(conn, fac.id, p.start, p.end)
        return FacilityReport(
            facility=fac, period=p, revenue=sum((v[1] for v in kinds.values()), ZERO),
            by_method=_lines(by_method), by_vehicle_type=_lines(by_type), by_lane=_lines(by_lane),
            voids=Line(VOID, *kinds[VOID]), refunds=Line(REFUND, *kinds[REFUND]),
            lost_tickets=Line("lost tickets", lost_n, lost_amount),
            entries_per_hour=by_hour_of_day[ENTRY], exits_per_hour=by_hour_of_day[EXIT],
            stays=[Line(band_label(lo, hi), stays.get(i, 0), ZERO) for i, (lo, hi) in enumerate(STAY_BANDS)],
            occupancy_peak=peak, occupancy_end=occupied,
            occupancy_average=(Decimal(total) / hours).quantize(Decimal("0.1")) if hours else Decimal(occupied))

