#!/usr/bin/env python3
"""AuthorizePlate latency at a PARCS's concurrency, with 100,000 permits in the database.

Seeds the permits straight into a fresh database (SQLite in a temporary folder, or the PostgreSQL
given), starts `parkgate serve` in its own process, then asks from N keep-alive connections
whether plates may pass the entry lane: four in five hold a permit, the rest are transients.
Ping on the same server, in the same run, is the ceiling (spyne's own cost per request).

    .venv/bin/python bench/authorize_plate.py [--permits 100000] [--connections 8] [--duration 10]
                                              [--baseline CHECKOUT] [--pin]

``--pin``: the client (this process) on the first core, the gateways (all their threads) on the others,
so that the figures show what the server does with its own cores; the client's CPU per request is
printed either way.

``--floor``: beside them, a bare Twisted site (this checkout's reactor) that hops to a thread and back
and answers a fixed document of an answer's size: what HTTP and one thread hop cost on this machine
now, the floor under any SOAP answer.

``--baseline``: another checkout's gateway (``git worktree add ../before main``) runs beside this
one on a database of its own seeded alike, and every point is measured on both in turn, so the
two share the machine's state of the moment. ``--baseline-threads``: its request threads (default
``--threads``): with ``--baseline .`` the same code at two pool sizes.

Each point also gives the server's voluntary context switches a request (all its threads): a
thread that waits (for the GIL, a lock, the disk) and is woken again.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from harness import REPO, configs, cpu_seconds, free_port, latency_summary, request, start_gateway, wait_listening
from soap_events import ping_for, run_load
from sqlalchemy import insert

from gateway.store.engine import Store
from gateway.store.migrate import upgrade
from gateway.store.schema import PermitRecord

ASK = ('<pg:AuthorizePlate><pg:FacilityID>LOT-BENCH</pg:FacilityID><pg:LaneNumber>1</pg:LaneNumber>'
       '<pg:Plate>{plate}</pg:Plate></pg:AuthorizePlate>')


def plate_of(n):
    return f"P{n:07d}"


def seed(database_url, permits):
    upgrade(database_url)
    store = Store(database_url)
    now = datetime.now(timezone.utc)
    rows = [dict(permit_number=f"PRMT-B-{n}", plate=plate_of(n), facility_id="LOT-BENCH" if n % 3 else None,
                 permit_type="Monthly", valid_from=date(2000, 1, 1), valid_until=date(2099, 12, 31), state="ACTIVE",
                 issued_at=now, revoked_at=None, revocation_reason=None) for n in range(permits)]
    with store.connection() as conn:
        for i in range(0, len(rows), 10_000):
            conn.execute(insert(PermitRecord.__table__), rows[i:i + 10_000])
    store.dispose()


def seeded(repo, database_url, permits):
    """``seed`` run by ``repo``'s own code (its migrations, its keys: plates are sealed at rest)."""
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--seed", database_url, "--permits", str(permits)],
                   cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, check=True)


def pin(pid, cores):
    """Every thread of process ``pid`` (0: this one) onto ``cores``; threads made later inherit it."""
    for tid in os.listdir(f"/proc/{pid or os.getpid()}/task"):
        os.sched_setaffinity(int(tid), cores)


def voluntary_switches(pid):
    """Voluntary context switches of every thread of process ``pid`` so far (Linux /proc)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("voluntary_ctxt_switches"))
        except (OSError, StopIteration):   # a thread that ended meanwhile
            pass
    return total


def bare_server(port):
    """The floor (``--floor``): Twisted's HTTP, one hop to a thread and back, a fixed answer."""
    from gateway.web import reactor as gateway_reactor
    gateway_reactor.install()
    from twisted.internet import reactor, threads
    from twisted.web import resource, server
    answer = b"<?xml version='1.0' encoding='UTF-8'?>\n<answer>" + b"x" * 640 + b"</answer>"

    class Bare(resource.Resource):
        isLeaf = True

        def render_POST(self, request):
            def send(body):
                request.setHeader(b"Content-Type", b"text/xml; charset=utf-8")
                request.setHeader(b"Content-Length", b"%d" % len(body))
                request.write(body)
                request.finish()
            threads.deferToThread(lambda: answer).addCallback(send)
            return server.NOT_DONE_YET
    site = server.Site(Bare())
    site.log = lambda request: None
    reactor.listenTCP(port, site, interface="127.0.0.1")
    reactor.run()


def asks_for(permits):
    def for_connection(conn):
        rng = random.Random(conn)

        def make(n):
            k = rng.randrange(permits * 5 // 4)  # the last fifth of the range: plates without a permit
            return request("/soap/PermitService", ASK.format(plate=plate_of(k)))
        return make
    return for_connection


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permits", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--baseline-threads", type=int, help="the baseline's request threads (default --threads)")
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--sqlite-synchronous", default="FULL", choices=("FULL", "NORMAL"))
    parser.add_argument("--baseline", type=Path, help="another checkout, measured in turn with this one")
    parser.add_argument("--baseline-database-url", help="with --database-url: the baseline's own database")
    parser.add_argument("--pin", action="store_true", help="client on core 0, gateways on the other cores")
    parser.add_argument("--floor", action="store_true", help="also measure a bare Twisted site with one thread hop")
    parser.add_argument("--seed", metavar="DATABASE_URL", help=argparse.SUPPRESS)  # seeded(): this process seeds
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the floor's process
    args = parser.parse_args()
    if args.seed:
        return seed(args.seed, args.permits)
    if args.bare_server:
        return bare_server(args.bare_server)
    if args.database_url and args.baseline and not args.baseline_database_url:
        raise SystemExit("--baseline on PostgreSQL needs --baseline-database-url (a database of its own)")
    checkouts = {"this": REPO} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    with tempfile.TemporaryDirectory() as tmp:
        print(f"AuthorizePlate: {os.cpu_count()} cores (client and server share them), {args.permits} permits, "
              f"c={args.connections}, {args.duration:.0f} s per point, "
              f"{args.database_url.split(':')[0] if args.database_url else 'sqlite'} "
              f"(synchronous={args.sqlite_synchronous}), load average {os.getloadavg()[0]:.1f}"
              f"{', client pinned to core 0, gateways to the others' if args.pin else ''}")
        servers = {}
        try:
            for label, repo in checkouts.items():
                home = Path(tmp) / label
                home.mkdir()
                given = args.baseline_database_url if label == "baseline" else args.database_url
                db = given or f"sqlite:///{home}/bench.db"
                threads = (args.baseline_threads or args.threads) if label == "baseline" else args.threads
                seeded(repo, db, args.permits)
                config = configs.gateway(
                    configs.facility("LOT-BENCH", configs.lane("CAM-IN", 1, "ENTRY"),
                                     configs.lane("CAM-OUT", 2, "EXIT")),
                    database_url=db, server={"threads": threads}, metrics={"enabled": False},
                    database={"sqlite_synchronous": args.sqlite_synchronous})
                servers[label] = start_gateway(home, config, role="integrator", repo=repo)
            if args.floor:
                port = free_port()
                servers["floor"] = subprocess.Popen([sys.executable, str(Path(__file__).resolve()),
                                                     "--bare-server", str(port)]), port
                wait_listening(port)
            if args.pin:
                rest = set(range(1, os.cpu_count() or 2))
                for server, _ in servers.values():
                    pin(server.pid, rest)
                pin(0, {0})
            for _, port in servers.values():
                asyncio.run(run_load(port, 2, 2.0, asks_for(args.permits)))  # warm-up
                if args.pin:   # the request threads the warm-up started
                    for server, _ in servers.values():
                        pin(server.pid, rest)
            for name, maker in (("Ping", ping_for), ("AuthorizePlate", asks_for(args.permits))):
                for label, (server, port) in servers.items():
                    if label == "floor" and name == "Ping":
                        continue   # one point: it answers every request alike
                    cpu, client, waits = cpu_seconds(server.pid), time.process_time(), voluntary_switches(server.pid)
                    rate, lat, failures = asyncio.run(run_load(port, args.connections, args.duration, maker))
                    cpu, client = cpu_seconds(server.pid) - cpu, time.process_time() - client
                    waits = voluntary_switches(server.pid) - waits
                    if failures:
                        print(f"  {len(failures)} failed, first: {failures[0]!r}")
                    tag = f"[{label}]".ljust(11) if len(servers) > 1 else ""
                    point = "HTTP + 1 hop" if label == "floor" else name
                    print(f"{tag}{point:<15} {rate:7.0f}/s   {latency_summary(lat)}   "
                          f"server CPU {cpu / len(lat) * 1e6:5.0f} us/req   "
                          f"client CPU {client / len(lat) * 1e6:5.0f} us/req   "
                          f"switches {waits / len(lat):4.1f}/req")
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(10)


if __name__ == "__main__":
    main()
