#!/usr/bin/env python3
"""SubmitEvent throughput with one and with two `parkgate serve` nodes on one PostgreSQL, in one run,
with the CPU each process used per event (the nodes and the bench database's PostgreSQL backends),
the database's transactions per event, and PostgreSQL's lock waits sampled throughout.

Each point gets a fresh schema in a database of its own (made and dropped here); the load is N
keep-alive connections spread over the nodes (as a load balancer would), each submitting ENTRY/EXIT
pairs of fresh plates. On a small machine the nodes, PostgreSQL and the load share the cores: the
figure to read is CPU per event, one node against two (the goal: within 10%), and the lock waits
(the goal: none). PostgreSQL's CPU is that of the backends serving the bench database only (other
databases on the server, other people's tests, are not counted).

    .venv/bin/python bench/nodes.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                    [--duration 15] [--connections 8] [--rounds 1] [--baseline CHECKOUT]
                                    [--zoned | --summed]

``--baseline``: another checkout's nodes measured in turns with this one's (one node, two nodes, for
each), each point on a database of its own; repeatable, each column labelled by its folder's name.
``--rounds``: each point that many times, in turns (a noisy machine: read the medians' spread).
``--zoned``: the entry lane leads into a zone (its spaces checked, its hours counted too); ``--summed``:
so too, in a facility with no capacity of its own (its zone's).
"""

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path

from harness import REPO, cpu_seconds, start_gateway
from soap_events import bench_config, events_for, run_load, summary
from sqlalchemy import create_engine, text


def backends(engine, database):
    """The PostgreSQL processes serving ``database`` now (its connection pools' backends)."""
    with engine.connect() as conn:
        return {row.pid for row in conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :db"),
                                                {"db": database})}


def backend_cpu(pids):
    """CPU seconds so far of each of ``pids`` that is still there."""
    found = {}
    for pid in pids:
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:
            pass  # a backend that ended meanwhile
    return found


def transactions(engine, database):
    with engine.connect() as conn:
        return conn.execute(text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :db"),
                            {"db": database}).scalar() or 0


class LockSampler(threading.Thread):
    """Samples pg_stat_activity every 20 ms: backends of the bench database waiting on a lock."""

    def __init__(self, url, database):
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.database = database
        self.samples = self.waiting = self.lwlock = 0
        self.kinds = {}
        self.statements = {}   # the start of each statement seen waiting on a lock -> how often
        self.stop = threading.Event()

    def run(self):
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                rows = conn.execute(text("SELECT wait_event_type, wait_event, left(query, 40) FROM pg_stat_activity "
                                         "WHERE datname = :db AND state = 'active' AND wait_event_type IN "
                                         "('Lock', 'LWLock')"), {"db": self.database}).all()
                conn.rollback()
                self.samples += 1
                for kind, event, statement in rows:
                    if kind == "Lock":
                        self.waiting += 1
                        self.statements[statement] = self.statements.get(statement, 0) + 1
                    else:
                        self.lwlock += 1
                    self.kinds[f"{kind}:{event}"] = self.kinds.get(f"{kind}:{event}", 0) + 1
                time.sleep(0.02)
        self.engine.dispose()


def run_point(admin_url, nodes, connections, duration, threads, repo, zoned, summed=False):
    database = f"bench_nodes_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + database
    servers = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(nodes):
                folder = Path(tmp) / f"node{n}"
                folder.mkdir()
                # a loaded machine: migrations take a while
                servers.append(start_gateway(folder, bench_config(threads, url, "FULL", zoned, summed),
                                             role="integrator", repo=repo, start_timeout=120))
            ports = [port for _, port in servers]

            def spread(c):  # connection c goes to node c % nodes
                make = events_for(c)
                return make, ports[c % len(ports)]
            # Counted from before the warm-up (a backend reports its counts a second or more late),
            # per event of the warm-up and the load together.
            xacts = transactions(admin, database)
            warmed = asyncio.run(warm(ports))
            sampler = LockSampler(admin_url, database)
            cpu = [cpu_seconds(s.pid) for s, _ in servers]
            pg = backend_cpu(backends(admin, database))
            sampler.start()
            rate, lat, failures = asyncio.run(spread_load(spread, connections, duration))
            sampler.stop.set()
            sampler.join(5)
            cpu = [cpu_seconds(s.pid) - before for (s, _), before in zip(servers, cpu)]
            after = backend_cpu(backends(admin, database) | set(pg))
            pg = sum(seconds - pg.get(pid, 0.0) for pid, seconds in after.items())
            events = len(lat)
            for server, _ in servers:  # their backends end, and report what they counted
                server.terminate()
                server.wait(20)
            time.sleep(1.0)
            xacts = (transactions(admin, database) - xacts) / (warmed + events)
    finally:
        for server, _ in servers:
            if server.poll() is None:
                server.terminate()
                server.wait(20)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()
    return dict(rate=rate, lat=lat, failures=failures, cpu=cpu, pg=pg, events=events, sampler=sampler, xacts=xacts)


async def warm(ports):
    """Two seconds of load on each node; the events it submitted."""
    submitted = 0
    for port in ports:
        rate, lat, _ = await run_load(port, 2, 2.0, events_for)
        submitted += len(lat)
    return submitted


async def spread_load(spread, connections, duration):
    """Like soap_events.run_load, with each connection on its own node."""
    from soap_events import connection
    latencies, failures = [], []
    deadline = time.perf_counter() + duration
    started = time.perf_counter()
    tasks = []
    for c in range(connections):
        make, port = spread(c)
        tasks.append(connection(port, make, deadline, latencies, failures))
    await asyncio.gather(*tasks)
    return len(latencies) / (time.perf_counter() - started), latencies, failures


def report(tag, nodes, r):
    node_cpu = sum(r["cpu"]) / r["events"] * 1e6
    per_node = ", ".join(f"{c / r['events'] * 1e6:.0f}" for c in r["cpu"])
    s = r["sampler"]
    print(f"{tag}{nodes} node{'s' if nodes > 1 else ' '}  SubmitEvent {summary(r['rate'], r['lat'])}")
    pg_us = r["pg"] / r["events"] * 1e6
    print(f"{tag}         CPU per event: nodes {node_cpu:5.0f} us ({per_node}), PostgreSQL {pg_us:5.0f} us,"
          f" together {(sum(r['cpu']) + r['pg']) / r['events'] * 1e6:5.0f} us;"
          f" {r['xacts']:.2f} transactions per event (warm-up included)")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(s.kinds.items()))
    print(f"{tag}         lock waits: {s.waiting} in {s.samples} samples of pg_stat_activity"
          f" (LWLock waits {s.lwlock}{': ' + kinds if kinds else ''})")
    for statement, count in sorted(s.statements.items(), key=lambda item: -item[1])[:3]:
        print(f"{tag}           {count} waiting in: {statement}")
    if r["failures"]:
        print(f"{tag}         {len(r['failures'])} failed requests, first: {r['failures'][0]!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("PARKGATE_BENCH_PG_URL",
                                                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL database to create the bench databases from")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="each point this many times, in turns")
    parser.add_argument("--baseline", type=Path, action="append", default=[],
                        help="another checkout, measured in turns with this one (repeatable)")
    parser.add_argument("--zoned", action="store_true", help="the entry lane leads into a zone (issue 16)")
    parser.add_argument("--summed", action="store_true", help="so too, the facility's capacity its zone's")
    args = parser.parse_args()
    checkouts = {"this": REPO} | {path.resolve().name: path.resolve() for path in args.baseline}
    width = max(len(label) for label in checkouts) + 3
    print(f"parkgate nodes benchmark: {os.cpu_count()} cores (nodes, PostgreSQL and the load share them), "
          f"{args.duration:.0f} s per point, {args.connections} connections spread over the nodes"
          f"{', the entry lane into a zone' if args.zoned or args.summed else ''}"
          f"{' of a facility whose capacity is its zones' if args.summed else ''}")
    results = {}
    for round_ in range(args.rounds):
        for nodes in (1, 2):
            for label, repo in checkouts.items():
                r = results[(label, nodes, round_)] = run_point(args.url, nodes, args.connections, args.duration,
                                                                args.threads, repo, args.zoned, args.summed)
                report(f"[{label}]".ljust(width) if args.baseline else "", nodes, r)
    for label in checkouts:
        per = {n: [(sum(r["cpu"]) + r["pg"]) / r["events"] for (lbl, nn, _), r in results.items()
                   if lbl == label and nn == n] for n in (1, 2)}
        rate = {n: [r["rate"] for (lbl, nn, _), r in results.items() if lbl == label and nn == n] for n in (1, 2)}
        tag = f"[{label}]".ljust(width) if args.baseline else ""
        print(f"{tag}two nodes against one: throughput {statistics.median(rate[2]) / statistics.median(rate[1]):.0%},"
              f" CPU per event {statistics.median(per[2]) / statistics.median(per[1]):.0%}")


if __name__ == "__main__":
    main()
