"""Scale: SubmitEvent and LookupPermit p50/p99 at 8 connections on a database holding millions of
past sessions with payments, against the same on an empty database, in one run; then the time of a
monthly report over the seeded sessions (in this process: one core).

    nice -n 10 .venv/bin/python bench/scale.py [--sessions 5500000] [--duration 10] [--connections 8]
        [--rounds 3] [--start-timeout 180] [--baseline CHECKOUT] [--report-only] [--report-core 0]

Seeding is bulk (executemany in chunks on SQLite), spread over the six months before today; its
rate is printed, so a run with fewer sessions tells how long 5.5 million would take. Bulk rows
bypass the rollups each write keeps, so they are then counted from the rows (as migration 0110
does; its time is printed). Both gateways run at once and the loads alternate (empty, seeded,
empty, seeded...) for ``--rounds``: on a shared machine the noise falls on both alike; the medians
over the rounds are compared. ``--baseline``: the monthly report also by another checkout's code
(e.g. main, which read the sessions themselves), on the same database, in turn with this one's;
``--report-only``: no load, only the seeding and the reports.
"""

import argparse
import asyncio
import hashlib
import os
import random
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import median

from harness import request, start_gateway
from soap_events import bench_config, events_for, run_load

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LOOKUP = ('<pg:LookupPermit><pg:Plate>{plate}</pg:Plate><pg:FacilityID>LOT-BENCH</pg:FacilityID>'
          '</pg:LookupPermit>')
CHUNK = 50_000


def lookups_for(plates):
    def make_for(conn):
        rnd = random.Random(conn)
        return lambda n: request("/soap/PermitService", LOOKUP.format(plate=rnd.choice(plates)))
    return make_for


def _ts(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def seed(path, sessions, now):
    """``sessions`` closed stays of 20 min to 10 h over the 182 days before ``now``, each paid in cash."""
    from gateway.store.migrate import upgrade
    upgrade(f"sqlite:///{path}")
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    rnd = random.Random(7)
    start = now - timedelta(days=182)
    span = (now - timedelta(hours=12) - start).total_seconds()
    made = 0
    while made < sessions:
        n = min(CHUNK, sessions - made)
        rows, pays = [], []
        for i in range(made, made + n):
            entry = start + timedelta(seconds=span * i / sessions)
            leave = entry + timedelta(minutes=rnd.randint(20, 600))
            amount = f"{min(24, 3 * -(-int((leave - entry).total_seconds()) // 3600))}.00"
            sid = f"S-SEED-{i:08d}"
            # A distinct blind index a row, as sealed plates have (the lane's look-up goes by it).
            index = hashlib.blake2b(sid.encode(), digest_size=16).hexdigest()
            rows.append((sid, "LOT-BENCH", f"P{i:09d}"[-10:], index, "CLOSED", _ts(entry), _ts(leave),
                         f"E-SEED-{i}", f"X-SEED-{i}", 1 if i % 2 else 2, amount, amount, _ts(leave)))
            pays.append((f"PAY-SEED-{i:08d}", sid, amount, "USD", "CASH" if i % 3 else "CARD", _ts(leave), "seed",
                         "LOT-BENCH", "PAYMENT", ("car", "car", "car", "van", "motorcycle")[i % 5], 1 + i % 2))
        db.executemany("INSERT INTO sessions (id, facility_id, plate, plate_index, status, entry_time, exit_time,"
                       " entry_event_id, exit_event_id, lane_number, amount_charged, amount_paid, paid_at)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        db.executemany("INSERT INTO payments (id, session_id, amount, currency, method, paid_at, recorded_by,"
                       " facility_id, kind, vehicle_type, lane_number, \"partial\")"
                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,0)", pays)
        db.commit()
        made += n
    db.execute("ANALYZE")
    db.commit()
    db.close()
    from sqlalchemy import create_engine

    from gateway.store import rollups
    started = time.perf_counter()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        rollups.rebuild(conn)
    engine.dispose()
    print(f"rollups counted from the seeded rows in {time.perf_counter() - started:.1f} s", flush=True)


def _pct(latencies, q):
    lat = sorted(latencies)
    return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000


def measure(tmp, dbs, connections, duration, plates, rounds, start_timeout):
    """``dbs``: label -> database URL. Every gateway runs at once; each round loads each in turn."""
    servers = {}
    try:
        for label, url in dbs.items():
            folder = Path(tmp) / label.replace(" ", "-").replace(",", "")
            folder.mkdir()
            servers[label] = start_gateway(folder, bench_config(16, url, "FULL"), role="admin",
                                           start_timeout=start_timeout)
        for _, port in servers.values():
            asyncio.run(run_load(port, 1, 1.0, events_for))                   # warm
        figures = {}
        for n in range(1, rounds + 1):
            for op, maker in (("SubmitEvent", events_for), ("LookupPermit", lookups_for(plates))):
                for label, (_, port) in servers.items():
                    rate, lat, failures = asyncio.run(run_load(port, connections, duration, maker))
                    figures.setdefault((op, label), []).append((rate, _pct(lat, 0.5), _pct(lat, 0.99)))
                    print(f"round {n}  {label:<22} {op:<12} c={connections}  {rate:6.0f}/s   "
                          f"p50 {_pct(lat, 0.5):6.1f} ms   p99 {_pct(lat, 0.99):6.1f} ms   (n={len(lat)})  "
                          f"failures {len(failures)}", flush=True)
        print(f"medians over {rounds} rounds:")
        empty = next(iter(dbs))
        for (op, label), runs in figures.items():
            rate, p50, p99 = (median(r[i] for r in runs) for i in range(3))
            base = median(r[2] for r in figures[(op, empty)])
            print(f"  {label:<22} {op:<12} c={connections}  {rate:6.0f}/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
                  f"   p99 / empty's {p99 / base:4.2f}x")
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(10)


def baseline_report(checkout, db, now):
    """The monthly report by ``checkout``'s code (its own bench/scale.py's), in a process of its own."""
    code = ("import sys; from datetime import datetime; sys.path.insert(0, 'bench'); from scale import monthly_report; "
            "monthly_report(sys.argv[1], datetime.fromisoformat(sys.argv[2]))")
    run = subprocess.run([sys.executable, "-c", code, db, now.isoformat()], cwd=checkout, capture_output=True,
                         text=True, check=True)
    return run.stdout.strip()


def monthly_report(db, now):
    from gateway import config as configuration
    from gateway.app.reports import Reports
    from gateway.store import audit
    from gateway.store.engine import Store
    cfg = configuration.parse(bench_config(16, f"sqlite:///{db}", "FULL"))
    audit.use_keys(audit.AuditKeys(secrets.token_bytes(32)))
    store = Store(cfg.database_url)
    reports = Reports(facilities=cfg.facilities, store=store, clock=lambda: now)
    month = (now - timedelta(days=40)).date()
    started = time.perf_counter()
    report = reports.report("monthly", month)
    seconds = time.perf_counter() - started
    f = report.facilities[0]
    print(f"monthly report {f.period.first_day}..{f.period.last_day}: {seconds:.2f} s  "
          f"(revenue {f.revenue} USD, {sum(f.entries_per_hour)} entries, {sum(f.exits_per_hour)} exits)")
    store.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5_500_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of empty and seeded (medians)")
    parser.add_argument("--start-timeout", type=float, default=180.0,
                        help="seconds a gateway has to start listening (a loaded machine: longer)")
    parser.add_argument("--baseline", type=Path, help="another checkout: its monthly report too, in turn with ours")
    parser.add_argument("--report-only", action="store_true", help="no SubmitEvent or LookupPermit load")
    parser.add_argument("--report-core", type=int,
                        help="the monthly reports pinned to this core (after the load, which has every core)")
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    print(f"parkgate scale benchmark: {os.cpu_count()} cores (client, server and seeding share them), "
          f"SQLite, {args.sessions:,} seeded sessions with payments, {args.duration:.0f} s per point", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        empty, full = f"{tmp}/empty.db", f"{tmp}/full.db"
        from gateway.store.migrate import upgrade
        upgrade(f"sqlite:///{empty}")
        started = time.perf_counter()
        seed(full, args.sessions, now)
        took = time.perf_counter() - started
        rate = args.sessions / took
        print(f"seeded in {took:.0f} s ({os.path.getsize(full) / 2 ** 30:.2f} GiB): {rate:,.0f} sessions+payments/s,"
              f" so 5,500,000 in about {5_500_000 / rate / 60:.0f} min at this rate", flush=True)
        plates = [f"P{i:09d}"[-10:] for i in range(0, args.sessions, max(1, args.sessions // 1000))]
        if not args.report_only:
            measure(tmp, {"empty database": f"sqlite:///{empty}", f"{args.sessions:,} sessions": f"sqlite:///{full}"},
                    args.connections, args.duration, plates, args.rounds, args.start_timeout)
        if args.report_core is not None:
            os.sched_setaffinity(0, {args.report_core})          # the baseline's process inherits it
            print(f"monthly reports pinned to core {args.report_core}", flush=True)
        for _ in range(2 if args.baseline else 1):   # in turn: the machine's noise on both
            if args.baseline:
                print(f"[baseline] {baseline_report(args.baseline.resolve(), full, now)}", flush=True)
            print(("[this]     " if args.baseline else ""), end="", flush=True)
            monthly_report(full, now)


if __name__ == "__main__":
    main()
