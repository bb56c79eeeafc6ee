#!/usr/bin/env python3
"""SubmitEvent latency while the retention job purges a million rows, next to the same load with
the job idle (before it and after it), in one run (SQLite, the harder case: one writer).

Seeds the database with ``--rows`` lane events recorded a year ago (and as many lane incidents,
a table the job also purges), starts `parkgate serve`, measures SubmitEvent at ``--connections`` for
``--duration`` seconds with nothing else going on, then starts a retention run (SOAP
``RunRetention``) and measures the same load again while it runs; says how many rows the run had
purged by the end of the measurement (and its rate). With ``--wait``, lets the run finish, says how
long it took, and measures the idle load once more; without it, each gateway is stopped after its
purge's measurement (a purge still running would load the next one's).

``--baseline DIR``: another checkout (``git worktree add DIR main``) with a database and a gateway
of its own, measured in the same run: both idle in turns, then each one's purge in turn (the other
gateway idle beside it), so the machine's load is the same for both.

    .venv/bin/python bench/retention.py [--rows 1000000] [--duration 15] [--connections 8] [--baseline DIR] [--wait]
"""

import argparse
import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from tempfile import TemporaryDirectory

from harness import PASSWORD, REPO, configs, cpu_seconds, free_port, open_connection, read_response, request
from soap_events import bench_config, events_for, run_load, summary


def seed(db, rows):
    """``rows`` lane events and ``rows`` incidents recorded a year ago, straight into the file."""
    old = (datetime.now(timezone.utc) - timedelta(days=365)).replace(tzinfo=None).isoformat(sep=" ")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    chunk = 50_000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        conn.executemany(
            "INSERT INTO lane_events (event_id, facility_id, camera_id, direction, occurred_at, plate, confidence, "
            "recorded_at, decision, reason, session_id, document, fingerprint) VALUES "
            "(?, 'LOT-BENCH', 'CAM-IN', 'ENTRY', ?, NULL, NULL, ?, 'OPEN', 'TRANSIENT_ENTRY', NULL, '<old/>', NULL)",
            ((f"OLD-{start + i}", old, old) for i in range(n)))
        conn.executemany("INSERT INTO lane_incidents (at, facility_id, lane_number, kind, event_id, detail) "
                         "VALUES (?, 'LOT-BENCH', 1, 'NO_PASSAGE', NULL, NULL)", ((old,) for _ in range(n)))
        conn.commit()
    conn.close()


async def soap(port, body):
    reader, writer = await open_connection(port)
    writer.write(request("/soap/MaintenanceService", body))
    status, data = await read_response(reader)
    writer.close()
    return status, data.decode()


class Gateway:
    """One checkout's gateway on a seeded database of its own."""

    def __init__(self, label, repo, home, args):
        self.label, self.repo, self.db = label, repo, home / "bench.db"
        self.port = free_port()
        config = bench_config(16, f"sqlite:///{self.db}", "FULL")
        config["server"]["listen"] = f"127.0.0.1:{self.port}"
        config["retention"] = {"interval_s": 0, "batch": args.batch, "pause_s": args.pause}
        cfg = home / "bench.toml"
        cfg.write_text(configs.toml(config))
        self.cli = [sys.executable, "-m", "gateway", "--config", str(cfg)]
        subprocess.run(self.cli + ["user", "add", "bench", "--role", "admin", "--password", PASSWORD], check=True,
                       capture_output=True, cwd=repo)
        started = time.monotonic()
        seed(self.db, args.rows)
        print(f"  [{label}] seeded in {time.monotonic() - started:.0f} s ({os.path.getsize(self.db) / 1e6:.0f} MB)")
        self.server = subprocess.Popen(self.cli + ["serve"], cwd=repo, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                asyncio.run(soap(self.port, "<pg:Ping/>"))
                break
            except OSError:
                time.sleep(0.2)
        asyncio.run(run_load(self.port, 2, 2.0, events_for))  # warm-up

    def measure(self, label, args, note=""):
        cpu = cpu_seconds(self.server.pid)
        rate, lat, failures = asyncio.run(run_load(self.port, args.connections, args.duration, events_for))
        cpu = cpu_seconds(self.server.pid) - cpu
        print(f"[{self.label}]".ljust(11) + f"SubmitEvent  {label:<8} {summary(rate, lat)}   "
              f"server CPU {cpu / len(lat) * 1e6:5.0f} us/req" + (f"   ({len(failures)} failed)" if failures else "")
              + note)

    def purge(self, args):
        status, body = asyncio.run(soap(self.port, "<pg:RunRetention/>"))
        assert status == 200 and "<tns:Started>true</tns:Started>" in body, body[:500]
        started = time.monotonic()
        self.measure("purging", args)
        with sqlite3.connect(self.db) as conn:
            left = conn.execute("SELECT count(*) FROM lane_events WHERE event_id LIKE 'OLD-%'").fetchone()[0]
        purged = args.rows - left
        print(f"  [{self.label}] purged during the measurement: {purged:,} of {args.rows:,} old lane events "
              f"({purged / (time.monotonic() - started):,.0f} rows/s)")
        if not args.wait:
            self.stop()
            return
        while True:  # the run goes on: how long it takes in all
            status, body = asyncio.run(soap(self.port, "<pg:RunRetention/>"))
            if "<tns:Started>false</tns:Started>" not in body:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        print(f"  [{self.label}] the whole run: {elapsed:.0f} s, {2 * args.rows / elapsed:,.0f} rows/s "
              f"(a second run was started at its end: the first had finished)")
        found = re.findall(r"<tns:Step>(\w+)</tns:Step><tns:Rows>(\d+)</tns:Rows>", body)
        if found:
            print(f"  [{self.label}] " + ", ".join(f"{k} {v}" for k, v in found if v != "0"))

    def stop(self):
        if self.server.poll() is None:
            self.server.terminate()
            self.server.wait(30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="lane events to purge (and as many incidents)")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batch", type=int, default=500, help="[retention] batch")
    parser.add_argument("--pause", type=float, default=0.02, help="[retention] pause_s")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured in the same run")
    parser.add_argument("--wait", action="store_true", help="let each run finish (its time, then idle again)")
    args = parser.parse_args()
    print(f"parkgate retention benchmark: {os.cpu_count()} cores, SQLite (WAL, synchronous=FULL), "
          f"{args.rows:,} old lane events and {args.rows:,} old incidents, batches of {args.batch}, "
          f"{args.connections} connections, {args.duration:.0f} s per measurement")
    checkouts = ({"baseline": args.baseline.resolve()} if args.baseline else {}) | {"this": REPO}
    with TemporaryDirectory() as tmp:
        gateways = []
        try:
            for label, repo in checkouts.items():
                home = Path(tmp) / label
                home.mkdir()
                gateways.append(Gateway(label, repo, home, args))
            for gw in gateways:
                gw.measure("idle", args)
            for gw in gateways:
                gw.purge(args)
            for gw in gateways if args.wait else ():   # once more, the job idle again: the machine's drift
                gw.measure("idle", args, "   (after the run)")
        finally:
            for gw in gateways:
                gw.stop()


if __name__ == "__main__":
    main()
