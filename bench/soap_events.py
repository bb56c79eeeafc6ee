#!/usr/bin/env python3
"""SubmitEvent throughput and latency against a real gateway, with Ping as the ceiling.

Starts `parkgate serve` in its own process (SQLite in a temporary folder, a throwaway
user), then drives it from this process with N keep-alive HTTP connections (asyncio, raw
sockets, pre-built envelopes, so the client costs little CPU beside the server). Each
connection submits authenticated ENTRY/EXIT pairs with plate text; the same run measures
Ping on the same server. Last, ``--images`` image events at once (a rendered plate, read in the
recognition pool): how many are read, how many are told Server.Busy, and how soon.

    .venv/bin/python bench/soap_events.py [--duration 10] [--connections 1,8,32] [--images 40]
                                          [--baseline CHECKOUT] [--zoned]

``--baseline``: another checkout's gateway (``git worktree add ../before <commit>``) runs beside
this one, each in its own process, and every point is measured on each in turn, so the columns
share the machine's state of the moment. Give it more than once for more columns (main and an
older commit beside this one); each is labelled by its folder's name.
"""

import argparse
import asyncio
import base64
import os
import secrets
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from harness import REPO, configs, cpu_seconds, open_connection, read_response, request, start_gateway


def bench_config(threads, database_url, synchronous, zoned=False, summed=False):
    """Every event a vehicle of its own; capacity without end; exits within grace. ``zoned``: the
    entry lane leads into a zone (issue 16: its spaces per vehicle type counted and checked too);
    ``summed``: so too, and the facility has no capacity of its own (its zone's)."""
    entry = configs.lane("CAM-IN", 1, "ENTRY")
    zones = {}
    if zoned or summed:
        entry["zone"] = "L1"
        zones = {"zone": [{"id": "L1", "kind": "level", "capacity": {"car": 10 ** 9}}]}
    facility = configs.facility("LOT-BENCH", entry, configs.lane("CAM-OUT", 2, "EXIT"), name="Bench Garage",
                                tariff_=configs.tariff("H", "3.00", "24.00", grace_minutes=15), **zones)
    if summed:
        del facility["capacity"]
    return configs.gateway(facility, database_url=database_url, frame_window_s=0, server={"threads": threads},
                           database={"sqlite_synchronous": synchronous})


EVENT = ('<pg:SubmitEvent><pg:Event><pg:EventID>{event_id}</pg:EventID><pg:FacilityID>LOT-BENCH</pg:FacilityID>'
         '<pg:CameraID>{camera}</pg:CameraID><pg:Direction>{direction}</pg:Direction>'
         '<pg:Timestamp>{ts}</pg:Timestamp><pg:PlateText>{plate}</pg:PlateText>'
         '<pg:Confidence>0.97</pg:Confidence></pg:Event></pg:SubmitEvent>')


async def connection(port, make_request, deadline, latencies, failures):
    reader, writer = await open_connection(port)
    n = 0
    while time.perf_counter() < deadline:
        req = make_request(n)
        started = time.perf_counter()
        writer.write(req)
        status, body = await read_response(reader)
        latencies.append(time.perf_counter() - started)
        if status != 200:
            failures.append(body[:300])
        n += 1
    writer.close()


async def run_load(port, connections, duration, make_request_for):
    latencies, failures = [], []
    deadline = time.perf_counter() + duration
    started = time.perf_counter()
    await asyncio.gather(*(connection(port, make_request_for(c), deadline, latencies, failures)
                           for c in range(connections)))
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, failures


def events_for(conn):
    """ENTRY then EXIT of a fresh plate, over and over; within grace, so every exit opens."""
    prefix = secrets.token_hex(3).upper()

    def make(n):
        plate = f"B{prefix}{n // 2:05d}"[-10:]
        direction, camera = ("ENTRY", "CAM-IN") if n % 2 == 0 else ("EXIT", "CAM-OUT")
        ts = datetime.now(timezone.utc).isoformat()
        return request("/soap/EventService", EVENT.format(event_id=f"E{prefix}{conn}-{n}", camera=camera,
                                                          direction=direction, ts=ts, plate=plate))
    return make


def ping_for(conn):
    req = request("/soap/EventService", "<pg:Ping/>")
    return lambda n: req


IMAGE_EVENT = ('<pg:SubmitEvent><pg:Event><pg:EventID>{event_id}</pg:EventID><pg:FacilityID>LOT-BENCH</pg:FacilityID>'
               '<pg:CameraID>CAM-IN</pg:CameraID><pg:Direction>ENTRY</pg:Direction><pg:Timestamp>{ts}</pg:Timestamp>'
               '<pg:Image>{image}</pg:Image></pg:Event></pg:SubmitEvent>')


async def image_burst(port, count):
    """``count`` image events at once, each on a connection of its own, after one that starts the
    pool: (read, told Server.Busy, other) with their latencies."""
    from test_recognition import encoded, scene  # the tests' rendered plate

    image = base64.b64encode(encoded(scene("7ABC123"))).decode()

    async def one(n):
        reader, writer = await open_connection(port)
        started = time.perf_counter()
        writer.write(request("/soap/EventService", IMAGE_EVENT.format(
            event_id=f"I{os.getpid()}-{n}", ts=datetime.now(timezone.utc).isoformat(), image=image)))
        status, body = await read_response(reader)
        writer.close()
        kind = "busy" if b"Server.Busy" in body else "read" if status == 200 else "other"
        return kind, time.perf_counter() - started

    await one("warm")  # the pool starts on the first picture
    outcomes = await asyncio.gather(*(one(n) for n in range(count)))
    parts = []
    for kind in ("read", "busy", "other"):
        lat = sorted(t for k, t in outcomes if k == kind)
        if lat:
            parts.append(f"{len(lat)} {kind} (p50 {lat[len(lat) // 2] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms)")
    return f"Images       c={count:<3} " + ", ".join(parts)


def summary(rate, latencies):
    lat = sorted(latencies)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    return f"{rate:8.0f}/s   p50 {p(0.50):6.1f} ms   p99 {p(0.99):6.1f} ms   (n={len(lat)})"


def measure(port, pid, name, maker, c, duration):
    cpu = cpu_seconds(pid)
    rate, lat, failures = asyncio.run(run_load(port, c, duration, maker))
    cpu = cpu_seconds(pid) - cpu
    if failures:
        print(f"  {len(failures)} failed requests, first: {failures[0]!r}")
    return rate, f"{summary(rate, lat)}   server CPU {cpu / len(lat) * 1e6:5.0f} us/req"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--threads", type=int, default=16, help="the gateway's request threads")
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://postgres@127.0.0.1/test "
                                               "(default: SQLite in a temporary folder)")
    parser.add_argument("--sqlite-synchronous", default="FULL", choices=("FULL", "NORMAL"))
    parser.add_argument("--images", type=int, default=40, help="image events sent at once at the end (0: none)")
    parser.add_argument("--baseline", type=Path, action="append", default=[],
                        help="another checkout, measured in turn with this one (repeatable)")
    parser.add_argument("--zoned", action="store_true", help="the entry lane leads into a zone (issue 16)")
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]
    database = (args.database_url.split("://")[0] if args.database_url
                else f"SQLite (WAL, synchronous={args.sqlite_synchronous})")
    print(f"parkgate SOAP benchmark: {os.cpu_count()} cores (client and server share them), "
          f"{args.duration:.0f} s per point, server with {args.threads} request threads, {database}")
    checkouts = {"this": REPO} | {path.resolve().name: path.resolve() for path in args.baseline}
    if args.database_url and args.baseline:
        raise SystemExit("--baseline runs on SQLite only (two gateways would share one database)")
    width = max(len(label) for label in checkouts) + 3
    with tempfile.TemporaryDirectory() as tmp:
        servers = {}
        try:
            for label, repo in checkouts.items():
                home = Path(tmp) / label
                home.mkdir()
                db = args.database_url or f"sqlite:///{home}/bench.db"
                config = bench_config(args.threads, db, args.sqlite_synchronous, args.zoned)
                servers[label] = start_gateway(home, config, role="integrator", repo=repo)
            for _, port in servers.values():
                asyncio.run(run_load(port, 2, 2.0, ping_for))  # warm-up: imports, caches, first hash check
                asyncio.run(run_load(port, 2, 2.0, events_for))
            for c in levels:
                results = {}
                for name, maker in (("Ping", ping_for), ("SubmitEvent", events_for)):
                    for label, (server, port) in servers.items():
                        rate, line = measure(port, server.pid, name, maker, c, args.duration)
                        results[(name, label)] = rate
                        tag = f"[{label}]".ljust(width) if args.baseline else ""
                        print(f"{tag}{name:<12} c={c:<3} {line}")
                for label in servers:
                    tag = f"[{label}]".ljust(width) if args.baseline else ""
                    print(f"  {tag}SubmitEvent/Ping at c={c}: "
                          f"{results[('SubmitEvent', label)] / results[('Ping', label)]:.0%}")
            if args.images:
                for label, (_, port) in servers.items():
                    tag = f"[{label}]".ljust(width) if args.baseline else ""
                    print(tag + asyncio.run(image_burst(port, args.images)))
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(10)

if __name__ == "__main__":
    main()
