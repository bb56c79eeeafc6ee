#!/usr/bin/env python3
"""The console's dashboard on a large database: how long one refresh takes (the use case's queries,
counting the days before today again, then the whole page through the WSGI application as a
refresh finds it, those days kept: queries, charts, template), with the indexes it reads through
(sessions by facility and entry time and payments by time: migration 0065; sessions by facility and
exit time: 0090) and without them, in turns in one run (SQLite).

Seeds ``--sessions`` parking sessions spread over the last ``--days`` days (as retention keeps
them: 183 days), a payment for each closed one, then times ``--rounds`` refreshes of each variant,
alternating. Every open browser on the dashboard costs one refresh every 5 s.

    .venv/bin/python bench/console.py [--sessions 300000] [--days 183] [--rounds 20]
"""

import argparse
import os
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta

from harness import REPO, configs

sys.path.insert(0, str(REPO))

from gateway.app.auth import Users  # noqa: E402
from gateway.app.clock import utcnow  # noqa: E402
from gateway.app.console_sessions import ConsoleSessions  # noqa: E402
from gateway.app.dashboard import Dashboard  # noqa: E402
from gateway.store.engine import Store  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402

FACILITY = "LOT-BENCH"
INDEXES = {"ix_sessions_facility_entry": "sessions (facility_id, entry_time)",
           "ix_sessions_facility_exit": "sessions (facility_id, exit_time)",
           "ix_payments_paid_at": "payments (paid_at)"}


def seed(db, sessions, days, now):
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    rng = random.Random(18)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    rows, payments = [], []
    for i in range(sessions):
        entry = now - timedelta(seconds=rng.uniform(0, days * 86400))
        stay = timedelta(minutes=rng.uniform(10, 600))
        closed = entry + stay < now - timedelta(minutes=5) and rng.random() < 0.995
        exit_ = (entry + stay).strftime(fmt) if closed else None
        sid = f"S-{i:09d}"
        rows.append((sid, FACILITY, f"B{i:08d}", "CLOSED" if closed else "OPEN", entry.strftime(fmt), exit_,
                     f"E-{i}", f"X-{i}" if closed else None, 1, "6.00" if closed else None,
                     "6.00" if closed else "0", exit_))
        if closed:
            payments.append((f"P-{i:09d}", sid, "6.00", "USD", rng.choice(["CASH", "CARD", "QRIS"]), exit_, "bench"))
    conn.executemany(
        "INSERT INTO sessions (id, facility_id, plate, status, entry_time, exit_time, entry_event_id, exit_event_id, "
        "lane_number, amount_charged, amount_paid, paid_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.executemany("INSERT INTO payments (id, session_id, amount, currency, method, paid_at, recorded_by) "
                     "VALUES (?,?,?,?,?,?,?)", payments)
    conn.commit()
    conn.close()


def with_index(db, present):
    conn = sqlite3.connect(db)
    for name, columns in INDEXES.items():
        conn.execute(f"DROP INDEX IF EXISTS {name}")
        if present:
            conn.execute(f"CREATE INDEX {name} ON {columns}")
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=300_000)
    p.add_argument("--days", type=int, default=183)
    p.add_argument("--rounds", type=int, default=20)
    args = p.parse_args()
    from werkzeug.test import Client

    from gateway.app.lanes import Lanes
    from gateway.web.console import Console

    folder = tempfile.mkdtemp()
    db = os.path.join(folder, "bench.db")
    url = f"sqlite:///{db}"
    upgrade(url)
    now = utcnow()
    started = time.perf_counter()
    seed(db, args.sessions, args.days, now)
    print(f"seeded {args.sessions} sessions over {args.days} days in {time.perf_counter() - started:.1f} s "
          f"({os.path.getsize(db) / 1e6:.0f} MB)")
    cfg = configs.parse(configs.gateway(configs.facility(FACILITY, configs.lane("IN", 1), capacity=500_000,
                                                          timezone="Asia/Jakarta", currency="IDR")),
                        database_url=url)
    store = Store(url)
    Users(store).add("bench", "bench-password", "admin")
    lanes = Lanes(cfg.facilities, barriers=type("NoPlcs", (), {"by_number": lambda *a: None,
                                                               "by_camera": lambda *a: None})(),
                  audit=None, reactor=None)
    dashboard = Dashboard(facilities=cfg.facilities, store=store, lanes=lanes, clock=utcnow)

    class UseCases:
        clock = staticmethod(utcnow)
        authenticator = __import__("gateway.app.auth", fromlist=["Authenticator"]).Authenticator(store, utcnow)
        audit = type("NoAudit", (), {"record": lambda *a, **k: None})()
    UseCases.dashboard = dashboard
    UseCases.console_sessions = ConsoleSessions(store=store, clock=utcnow, idle=timedelta(hours=1),
                                                form_key=secrets.token_bytes(32))
    console = Console(use_cases=UseCases, facilities=cfg.facilities, language="id", secure=False)
    browser = Client(console)
    page = browser.get("/login")
    token = page.get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    assert browser.post("/login", data={"csrf": token, "username": "bench", "password": "bench-password"}
                        ).status_code == 303

    timings = {(variant, part): [] for variant in ("indexes", "without") for part in ("use case", "page")}
    for _ in range(args.rounds):
        for variant in ("indexes", "without"):
            with_index(db, variant == "indexes")
            store.dispose()
            dashboard._past.clear()    # every refresh pays for the days before today too: the worst case
            t = time.perf_counter()
            view = dashboard.view(FACILITY)
            timings[(variant, "use case")].append(time.perf_counter() - t)
            t = time.perf_counter()
            r = browser.get("/dashboard/live")     # the days before today as kept: every refresh but one
            timings[(variant, "page")].append(time.perf_counter() - t)
            assert r.status_code == 200, r.status_code
    print(f"open sessions now: {view.occupied}; today's entries: {sum(h.entries for h in view.hours)}")
    print(f"cores: {os.cpu_count()} (shared, loaded); {args.rounds} refreshes each, in turns")
    print(f"{'variant':<10} {'part':<10} {'median ms':>10} {'p90 ms':>8}")
    for (variant, part), values in timings.items():
        values.sort()
        print(f"{variant:<10} {part:<10} {statistics.median(values) * 1000:>10.1f} "
              f"{values[int(len(values) * 0.9) - 1] * 1000:>8.1f}")
    store.dispose()
    if os.environ.get("BENCH_KEEP"):
        print("database kept:", db)


if __name__ == "__main__":
    main()
