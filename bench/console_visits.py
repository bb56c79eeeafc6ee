#!/usr/bin/env python3
"""Cookie-less visits to the console (a scanner, a health check pointed at /console/): how many a
gateway answers a second, its CPU per visit, and how many console-session rows they leave.

Starts `parkgate serve` in its own process (SQLite in a temporary folder, synchronous=FULL: every
commit an fsync) and sends ``--visits`` GETs without a cookie over ``--connections`` keep-alive
connections (asyncio, raw sockets: the client costs little beside the server), half of /console/
(a 303 to the log-in page) and half of /console/login (the form, with its CSRF token). The rows
are counted in the database file before and after.

    .venv/bin/python bench/console_visits.py [--visits 1000] [--connections 4] [--rounds 3]
                                             [--baseline CHECKOUT]

``--baseline``: another checkout's gateway (``git worktree add ../before <commit>``) runs beside
this one, each in its own process and database, measured in turns in one run (repeatable).
"""

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from harness import REPO, configs, cpu_seconds, latency_summary, open_connection, read_response, start_gateway

PATHS = ("/console/", "/console/login")


def bench_config(database_url, threads):
    return configs.gateway(configs.facility("LOT-BENCH", configs.lane("CAM-IN", 1, "ENTRY")),
                           database_url=database_url, frame_window_s=0, server={"threads": threads},
                           database={"sqlite_synchronous": "FULL"}, console={"threads": threads})


def visit(path):
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept-Language: id,en;q=0.5\r\n\r\n".encode()


async def visitor(port, queue, latencies, failures):
    reader, writer = await open_connection(port)
    while True:
        try:
            n = queue.pop()
        except IndexError:
            break
        started = time.perf_counter()
        writer.write(visit(PATHS[n % 2]))
        status, body = await read_response(reader)
        latencies.append(time.perf_counter() - started)
        if status != (303, 200)[n % 2] or (n % 2 and b'name="csrf"' not in body):
            failures.append((status, body[:200]))
    writer.close()


async def visits(port, count, connections):
    queue, latencies, failures = list(range(count)), [], []
    await asyncio.gather(*(visitor(port, queue, latencies, failures) for _ in range(connections)))
    return latencies, failures


def rows(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM console_sessions").fetchone()[0]


def measure(server, port, db, count, connections):
    before, cpu = rows(db), cpu_seconds(server.pid)
    started = time.perf_counter()
    latencies, failures = asyncio.run(visits(port, count, connections))
    wall = time.perf_counter() - started
    cpu = cpu_seconds(server.pid) - cpu
    if failures:
        raise SystemExit(f"{len(failures)} visits failed, first: {failures[0]!r}")
    return dict(rate=count / wall, cpu_us=cpu / count * 1e6, rows=rows(db) - before, latency=latency_summary(latencies))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000, help="cookie-less GETs per round and checkout")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8, help="the gateway's console threads")
    parser.add_argument("--baseline", type=Path, action="append", default=[],
                        help="another checkout, measured in turn with this one (repeatable)")
    args = parser.parse_args()
    print(f"console visits: {os.cpu_count()} cores (client and server share them), load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.visits} cookie-less GETs a round over "
          f"{args.connections} connections, SQLite synchronous=FULL")
    checkouts = {"this": REPO} | {path.resolve().name: path.resolve() for path in args.baseline}
    width = max(len(label) for label in checkouts) + 3
    with tempfile.TemporaryDirectory() as tmp:
        servers = {}
        try:
            for label, repo in checkouts.items():
                home = Path(tmp) / label
                home.mkdir()
                db = home / "bench.db"
                server, port = start_gateway(home, bench_config(f"sqlite:///{db}", args.threads), repo=repo)
                servers[label] = (server, port, db)
            for _, port, _ in servers.values():
                asyncio.run(visits(port, 50, args.connections))             # warm-up: imports, templates
            results = {label: [] for label in servers}
            for r in range(args.rounds):
                for label, (server, port, db) in servers.items():
                    result = measure(server, port, db, args.visits, args.connections)
                    results[label].append(result)
                    print(f"round {r + 1} [{label}]".ljust(width + 9) +
                          f"{result['rate']:7.0f} visits/s   server CPU {result['cpu_us']:6.0f} us/visit   "
                          f"rows written {result['rows']:5d}   {result['latency']}")
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            for label, found in results.items():
                rates = sorted(x["rate"] for x in found)
                cpus = sorted(x["cpu_us"] for x in found)
                print(f"[{label}]".ljust(width) + f"median {rates[len(rates) // 2]:7.0f} visits/s, "
                      f"{cpus[len(cpus) // 2]:6.0f} us CPU/visit, {sum(x['rows'] for x in found)} rows "
                      f"for {args.visits * args.rounds} visits")
        finally:
            for server, _, _ in servers.values():
                server.terminate()
                server.wait(10)


if __name__ == "__main__":
    main()
