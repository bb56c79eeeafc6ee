"""Scale: SubmitEvent and LookupPermit p50/p99 at 8 connections on a database holding millions of
past sessions with payments, against the same on an empty database, in one run; then the time of a
monthly report over the seeded sessions (in this process: one core).

    nice -n 10 .venv/bin/python bench/scale.py [--sessions 5500000] [--duration 10] [--connections 8]

Seeding is bulk (executemany in chunks on SQLite), spread over the six months before today.
"""

import argparse
import asyncio
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from harness import request, start_gateway
from soap_events import bench_config, events_for, run_load, summary

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
            rows.append((sid, "LOT-BENCH", f"P{i:09d}"[-10:], "CLOSED", _ts(entry), _ts(leave), f"E-SEED-{i}",
                         f"X-SEED-{i}", 1 if i % 2 else 2, amount, amount, _ts(leave)))
            pays.append((f"PAY-SEED-{i:08d}", sid, amount, "USD", "CASH" if i % 3 else "CARD", _ts(leave), "seed",
                         "LOT-BENCH", "PAYMENT", ("car", "car", "car", "van", "motorcycle")[i % 5], 1 + i % 2))
        db.executemany("INSERT INTO sessions (id, facility_id, plate, status, entry_time, exit_time, entry_event_id,"
                       " exit_event_id, lane_number, amount_charged, amount_paid, paid_at)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        db.executemany("INSERT INTO payments (id, session_id, amount, currency, method, paid_at, recorded_by,"
                       " facility_id, kind, vehicle_type, lane_number, \"partial\")"
                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,0)", pays)
        db.commit()
        made += n
    db.execute("ANALYZE")
    db.commit()
    db.close()


def measure(tmp, label, db, connections, duration, plates):
    server, port = start_gateway(tmp, bench_config(16, db, "FULL"), role="admin")
    try:
        asyncio.run(run_load(port, 1, 1.0, events_for))                       # warm
        rate, lat, failures = asyncio.run(run_load(port, connections, duration, events_for))
        print(f"{label:<24} SubmitEvent  c={connections}  {summary(rate, lat)}  failures {len(failures)}")
        rate, lat, failures = asyncio.run(run_load(port, connections, duration, lookups_for(plates)))
        print(f"{label:<24} LookupPermit c={connections}  {summary(rate, lat)}  failures {len(failures)}")
    finally:
        server.terminate()
        server.wait(10)


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
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    print(f"parkgate scale benchmark: {os.cpu_count()} cores (client, server and seeding share them), "
          f"SQLite, {args.sessions:,} seeded sessions with payments, {args.duration:.0f} s per point")
    with tempfile.TemporaryDirectory() as tmp:
        empty, full = f"{tmp}/empty.db", f"{tmp}/full.db"
        from gateway.store.migrate import upgrade
        upgrade(f"sqlite:///{empty}")
        started = time.perf_counter()
        seed(full, args.sessions, now)
        print(f"seeded in {time.perf_counter() - started:.0f} s ({os.path.getsize(full) / 2 ** 30:.2f} GiB)")
        plates = [f"P{i:09d}"[-10:] for i in range(0, args.sessions, max(1, args.sessions // 1000))]
        measure(tmp, "empty database", f"sqlite:///{empty}", args.connections, args.duration, plates)
        measure(tmp, f"{args.sessions:,} sessions", f"sqlite:///{full}", args.connections, args.duration, plates)
        monthly_report(full, now)


if __name__ == "__main__":
    main()
