"""The report reads rollups (issue 16): for random stays and payments (voids and refunds among them),
written through the store as the use cases write them, the report equals the one computed here from
the raw rows, in a whole-hour zone and a half-hour one, for daily, weekly, monthly and custom
periods; and the rollups counted afresh (the migration's backfill) are the ones kept live. Real
SQLite and PostgreSQL."""

import secrets
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import configs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from gateway.app.reports import Reports
from gateway.domain.payments import PAYMENT, REFUND, VOID, PaymentEntry
from gateway.domain.reports import STAY_BANDS, band_label, period
from gateway.domain.sessions import OPEN, ParkingSession, Payment
from gateway.store import payments, rollups, sessions
from gateway.store.engine import Store
from gateway.store.migrate import upgrade
from gateway.store.schema import (
    LostTicketRecord,
    PaymentRecord,
    RevenueRollupRecord,
    SessionRecord,
    TrafficRollupRecord,
    table_of,
)

CONFIG = configs.parse(configs.gateway(
    configs.facility("LOT-NY", configs.lane("NY-IN", 1), configs.lane("NY-OUT", 2, "EXIT"),
                     timezone="America/New_York", currency="USD"),
    configs.facility("LOT-IN", configs.lane("IN-GATE", 1, "BOTH"), timezone="Asia/Kolkata", currency="USD")))
BASE = datetime(2025, 3, 1, tzinfo=timezone.utc)       # the New York spring change falls on 9 March
NOW = BASE + timedelta(days=40)
ROLLUPS = (table_of(RevenueRollupRecord), table_of(TrafficRollupRecord))
_S, _P = table_of(SessionRecord), table_of(PaymentRecord)


@pytest.fixture(scope="module")
def store(database_url):
    upgrade(database_url, keys=CONFIG.ops.key_ring())
    s = Store(database_url, keys=CONFIG.ops.key_ring())
    yield s
    s.dispose()


def _wipe(store):
    with store.connection() as conn:
        for table in (*ROLLUPS, table_of(LostTicketRecord), _P, _S):
            conn.execute(delete(table))


# --- random stays and journal entries ---------------------------------------------------------

moments = st.integers(0, 36 * 24 * 60 * 60 * 1_000_000).map(lambda us: BASE + timedelta(microseconds=us))
stays = st.one_of(st.none(), st.integers(0, 30 * 60 * 60 * 1_000_000).map(lambda us: timedelta(microseconds=us)),
                  st.sampled_from([timedelta(hours=h) for h in (1, 2, 4, 8, 24)]))   # on a band's edge
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("80"), places=2)
entry_lines = st.tuples(st.sampled_from(["CASH", "CARD", "EWALLET"]), st.sampled_from(["car", "van", "motorcycle"]),
                        st.sampled_from([1, 2, None]), amounts, st.sampled_from([None, VOID, REFUND]),
                        st.booleans())
visits = st.lists(st.tuples(st.sampled_from(["LOT-NY", "LOT-IN"]), moments, stays,
                            st.lists(entry_lines, max_size=2)), max_size=25)


def _write(store, drawn):
    """As the use cases write them: a session opened, closed; payments, voids and refunds (the
    integrators' too) in the journal."""
    for n, (facility_id, entry, stay, lines) in enumerate(drawn):
        sid = f"S-{n}-{secrets.token_hex(4)}"
        session = ParkingSession(id=sid, facility_id=facility_id, plate=f"P{n:05d}", status=OPEN, entry_time=entry,
                                 exit_time=None, entry_event_id=f"E-{sid}", exit_event_id=None, lane_number=1,
                                 jurisdiction=None, country=None, space_assigned=None, permit_number=None,
                                 amount_charged=None, amount_paid=Decimal("0"), paid_at=None)
        with store.connection() as conn:
            sessions.insert(conn, session)
            for i, (method, vehicle_type, lane, amount, reversal, integrator) in enumerate(lines):
                paid_at = entry + timedelta(minutes=7 * i)
                if integrator:
                    payments.insert(conn, Payment(id=f"PAY-{sid}-{i}", session_id=sid, amount=amount, currency="USD",
                                                  method=method, paid_at=paid_at, recorded_by="app",
                                                  facility_id=facility_id, channel="app"))
                    continue
                entry_line = PaymentEntry(id=f"PAY-{sid}-{i}", session_id=sid, facility_id=facility_id, kind=PAYMENT,
                                          method=method, amount=amount, currency="USD", paid_at=paid_at,
                                          recorded_by="officer", vehicle_type=vehicle_type, lane_number=lane,
                                          shift_id=None, channel=None)
                payments.insert_entry(conn, entry_line)
                if reversal is not None:
                    back = amount if reversal == VOID else (amount / 2).quantize(Decimal("0.01"))
                    payments.insert_entry(conn, PaymentEntry(
                        **{**entry_line.__dict__, "id": f"REV-{sid}-{i}", "kind": reversal, "amount": -back,
                           "paid_at": paid_at + timedelta(hours=3), "original_id": entry_line.id}))
            if stay is not None:
                assert sessions.close(conn, session.closed(entry + stay, f"X-{sid}", Decimal("0")))


# --- the report as the raw rows give it (the oracle: here only) -------------------------------

def _raw(store, fac, p, now):
    with store.connection() as conn:
        rows = conn.execute(select(_S.c.entry_time, _S.c.exit_time, _S.c.status).where(
            _S.c.facility_id == fac.id)).all()
        journal = conn.execute(select(_P.c.method, _P.c.kind, _P.c.vehicle_type, _P.c.lane_number, _P.c.amount,
                                      _P.c.paid_at).where(_P.c.facility_id == fac.id)).all()
    groups = {"method": defaultdict(lambda: [0, Decimal("0.00")]), "type": defaultdict(lambda: [0, Decimal("0.00")]),
              "lane": defaultdict(lambda: [0, Decimal("0.00")])}
    kinds = defaultdict(lambda: [0, Decimal("0.00")])
    for method, kind, vehicle_type, lane, amount, paid_at in journal:
        if not p.start <= paid_at < p.end:
            continue
        for name, key in (("method", method), ("type", vehicle_type or "car"),
                          ("lane", f"lane {lane}" if lane is not None else "no lane")):
            groups[name][key][0] += kind == PAYMENT
            groups[name][key][1] += amount
        kinds[kind][0] += 1
        kinds[kind][1] += amount
    per_hour = {"in": [0] * 24, "out": [0] * 24}
    stays = [0] * len(STAY_BANDS)
    for entry, leave, _ in rows:
        if p.start <= entry < p.end:
            per_hour["in"][entry.astimezone(fac.timezone).hour] += 1
        if leave is not None and p.start <= leave < p.end:
            per_hour["out"][leave.astimezone(fac.timezone).hour] += 1
            hours = (leave - entry) / timedelta(hours=1)
            stays[next((i for i, (_, hi) in enumerate(STAY_BANDS) if hi is not None and hours < hi),
                       len(STAY_BANDS) - 1)] += 1
    inside = sum(1 for entry, leave, status in rows if entry < p.start and (leave is None or leave >= p.start))
    peak, total, hours_counted, hour = inside, 0, 0, p.start
    while hour < min(p.end, now):
        nxt = hour + timedelta(hours=1)
        inside += sum(1 for entry, _, _ in rows if hour <= entry < nxt)
        inside -= sum(1 for _, leave, _ in rows if leave is not None and hour <= leave < nxt)
        peak, total, hours_counted, hour = max(peak, inside), total + inside, hours_counted + 1, nxt

    def lines(g):
        return [(k, v[0], v[1]) for k, v in sorted(g.items())]
    return dict(revenue=sum((v[1] for v in kinds.values()), Decimal("0.00")), by_method=lines(groups["method"]),
                by_vehicle_type=lines(groups["type"]), by_lane=lines(groups["lane"]),
                voids=(VOID, *kinds[VOID]), refunds=(REFUND, *kinds[REFUND]),
                entries_per_hour=per_hour["in"], exits_per_hour=per_hour["out"],
                stays=[(band_label(lo, hi), n, Decimal("0.00")) for (lo, hi), n in zip(STAY_BANDS, stays)],
                occupancy_peak=peak, occupancy_end=inside,
                occupancy_average=(Decimal(total) / hours_counted).quantize(Decimal("0.1")) if hours_counted
                else Decimal(inside))


def _as_read(f):
    def lines(ls):
        return [(x.key, x.count, x.amount) for x in ls]
    return dict(revenue=f.revenue, by_method=lines(f.by_method), by_vehicle_type=lines(f.by_vehicle_type),
                by_lane=lines(f.by_lane), voids=(f.voids.key, f.voids.count, f.voids.amount),
                refunds=(f.refunds.key, f.refunds.count, f.refunds.amount), entries_per_hour=list(f.entries_per_hour),
                exits_per_hour=list(f.exits_per_hour), stays=lines(f.stays), occupancy_peak=f.occupancy_peak,
                occupancy_end=f.occupancy_end, occupancy_average=f.occupancy_average)


def _rollups(store):
    """Each rollup's groups, their shards summed (kept live: a row per connection; counted afresh: shard 0)."""
    groups = []
    with store.connection() as conn:
        for t in ROLLUPS:
            keys = [c for c in t.primary_key.columns if c.key != "shard"]
            sums = [func.sum(c) for c in t.columns if not c.primary_key]
            groups.append(sorted(tuple(r) for r in conn.execute(select(*keys, *sums).group_by(*keys))))
    return groups


periods = st.tuples(st.sampled_from(["daily", "weekly", "monthly", "custom"]), st.integers(0, 36), st.integers(0, 9),
                    st.sampled_from(["LOT-NY", "LOT-IN"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=visits, asked=periods)
def test_the_report_from_rollups_is_the_report_from_the_rows(store, drawn, asked):
    _wipe(store)
    _write(store, drawn)
    kind, offset, length, facility_id = asked
    fac = CONFIG.facilities[facility_id]
    day = (BASE + timedelta(days=offset)).date()
    until = day + timedelta(days=length) if kind == "custom" else None
    reports = Reports(facilities=CONFIG.facilities, store=store, clock=lambda: NOW)
    read = _as_read(reports.report(kind, day, until, facility_id).facilities[0])
    assert read == _raw(store, fac, period(kind, day, fac.timezone, until), NOW)

    kept = _rollups(store)
    with store.connection() as conn:
        rollups.rebuild(conn)
    assert _rollups(store) == kept


def test_a_half_hour_zone_counts_its_own_midnight():
    """Asia/Kolkata's midnight is 18:30 UTC: a quarter hour, so its day is exact; a zone whose
    midnight is no quarter hour (Amsterdam's local mean time of 1930, +00:19:32) is refused."""
    from zoneinfo import ZoneInfo
    p = period("daily", date(2025, 3, 2), ZoneInfo("Asia/Kolkata"))
    assert (p.start, p.end) == (datetime(2025, 3, 1, 18, 30, tzinfo=timezone.utc),
                                datetime(2025, 3, 2, 18, 30, tzinfo=timezone.utc))
    with pytest.raises(Exception, match="no quarter hour"):
        period("daily", date(1930, 3, 2), ZoneInfo("Europe/Amsterdam"))


@pytest.mark.postgres
def test_lane_events_side_by_side_never_wait_on_one_quarter_s_rollup(store, database_url):
    """Two units of work open at once count the same quarter hour and journal group (PostgreSQL
    runs lane events side by side): the second does not wait for the first's row lock (each
    connection keeps a shard of its own), and the report reads both shards summed."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes units of work in turn")
    from sqlalchemy import text

    facility = f"LOT-SHARDS-{secrets.token_hex(4)}"
    at = datetime(2025, 4, 1, 9, 2, tzinfo=timezone.utc)
    with store.connection() as first:
        rollups.entered(first, facility, at)
        rollups.paid(first, facility, at, "CARD", PAYMENT, "car", 1, Decimal("2.50"))
        with store.connection() as second:
            second.execute(text("SET LOCAL lock_timeout = '3s'"))   # one row for both: it would wait, then fail
            rollups.entered(second, facility, at + timedelta(minutes=5))
            rollups.left(second, facility, at - timedelta(hours=3), at + timedelta(minutes=6))
            rollups.paid(second, facility, at + timedelta(minutes=6), "CARD", PAYMENT, "car", 1, Decimal("1.25"))
        rollups.entered(first, facility, at + timedelta(minutes=7))
    quarter, end = datetime(2025, 4, 1, 9, 0, tzinfo=timezone.utc), datetime(2025, 4, 1, 10, 0, tzinfo=timezone.utc)
    traffic_rows = ROLLUPS[1]
    with store.connection() as conn:
        shards = conn.execute(select(traffic_rows.c.shard).distinct().where(
            traffic_rows.c.facility_id == facility)).scalars().all()
        traffic = sorted(rollups.traffic(conn, facility, quarter, end))
        revenue = rollups.revenue(conn, facility, quarter, end)
        moved = rollups.moved_since(conn, facility, quarter)
    _wipe(store)
    assert len(shards) == 2
    assert traffic == [(quarter, rollups.ENTRY, 0, 3), (quarter, rollups.EXIT, 2, 1)]   # 3 h: the 2-4 h band
    assert revenue == [("CARD", PAYMENT, "car", 1, 2, Decimal("3.75"))]
    assert moved == (3, 1)
