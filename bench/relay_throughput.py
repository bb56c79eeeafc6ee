#!/usr/bin/env python3
"""Relay throughput: events/s delivered to a local receiver with 1 and 4 destinations (and what
relaying does to SubmitEvent latency), then how fast a 10,000-event backlog drains after an
outage of one destination.

The receiver runs in this process (Twisted on asyncio, counting Idempotency-Keys per path);
the gateway runs as `parkgate serve` in its own process, SQLite, XML POST destinations. With
``--baseline DIR`` (another checkout, e.g. `git worktree add DIR COMMIT`) every measurement
runs on that code and on this checkout's, one after the other, in the same run.

    .venv/bin/python bench/relay_throughput.py [--events 2000] [--backlog 10000] [--outage-s 300]
                                               [--baseline DIR]
"""

import argparse
import asyncio
import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from twisted.internet import asyncioreactor

asyncioreactor.install()

from harness import (  # noqa: E402
    REPO,
    configs,
    latency_summary,
    open_connection,
    read_response,
    request,
    start_gateway,
)
from twisted.internet import defer, reactor  # noqa: E402
from twisted.internet.threads import deferToThread  # noqa: E402
from twisted.web import resource, server  # noqa: E402

from plc.driver import as_deferred  # noqa: E402


def bench_config(db, destinations):
    """Every event a vehicle of its own, relayed as XML POSTs to ``destinations`` [(name, url)] that
    are retried for a day, never dead-lettered by count."""
    return configs.gateway(
        configs.facility("LOT-RB", configs.lane("RB-IN", 1, "ENTRY"), name="Relay Bench", capacity=1_000_000,
                         tariff_=configs.tariff("H", "2.00", "20.00", grace_minutes=0)),
        database_url=f"sqlite:///{db}", frame_window_s=0,
        relays=[configs.relay(name, url, timeout_s=2, backoff_s=1, backoff_max_s=60, max_age_s=86400)
                for name, url in destinations])


EVENT = ('<pg:SubmitEvent><pg:Event><pg:EventID>{event_id}</pg:EventID><pg:FacilityID>LOT-RB</pg:FacilityID>'
         '<pg:CameraID>RB-IN</pg:CameraID><pg:Direction>ENTRY</pg:Direction><pg:Timestamp>{ts}</pg:Timestamp>'
         '<pg:PlateText>{plate}</pg:PlateText><pg:Confidence>0.97</pg:Confidence></pg:Event></pg:SubmitEvent>')


class Receiver(resource.Resource):
    isLeaf = True

    def __init__(self):
        super().__init__()
        self.keys = {}      # path -> set of keys
        self.last = {}      # path -> time of the last new key

    def render_POST(self, request):
        key = request.getHeader(b"idempotency-key")
        path = request.path.decode()
        keys = self.keys.setdefault(path, set())
        if key not in keys:
            keys.add(key)
            self.last[path] = time.perf_counter()
        return b"ok"


async def submit(port, prefix, count, connections=8):
    latencies = []
    counter = iter(range(count))

    async def one_connection():
        reader, writer = await open_connection(port)
        for n in counter:
            payload = request("/soap/EventService", EVENT.format(
                event_id=f"{prefix}-{n}", ts=datetime.now(timezone.utc).isoformat(), plate=f"R{n:08d}"[-10:]))
            started = time.perf_counter()
            writer.write(payload)
            status, body = await read_response(reader)
            assert status == 200, body[:300]
            latencies.append(time.perf_counter() - started)
        writer.close()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return latencies


aio = as_deferred


@defer.inlineCallbacks
def until_delivered(receiver, paths, count, timeout):
    deadline = time.perf_counter() + timeout
    while any(len(receiver.keys.get(p, ())) < count for p in paths):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"not delivered within {timeout} s")
        yield aio(asyncio.sleep(0.05))


@defer.inlineCallbacks
def throughput(args, tmp, receiver, port, destinations, label, repo):
    config = bench_config(f"{tmp}/{label}t{destinations}.db",
                          [(f"dest-{label}{destinations}-{i}", f"http://127.0.0.1:{port}/d{label}{destinations}-{i}")
                           for i in range(destinations)])
    gateway, gw_port = yield deferToThread(start_gateway, tmp, config, repo=repo)
    try:
        yield aio(submit(gw_port, f"W{label}{destinations}", 200))  # warm-up
        paths = [f"/d{label}{destinations}-{i}" for i in range(destinations)]
        yield until_delivered(receiver, paths, 200, 60)
        started = time.perf_counter()
        latencies = yield aio(submit(gw_port, f"T{label}{destinations}", args.events, args.connections))
        if not destinations:
            print(f"{label:<7}no relays:          SubmitEvent c={args.connections} {latency_summary(latencies)}")
            return
        yield until_delivered(receiver, paths, 200 + args.events, 600)
        elapsed = max(receiver.last[p] for p in paths) - started
        total = args.events * destinations
        print(f"{label:<7}{destinations} destination(s): {args.events} events -> {total} deliveries in "
              f"{elapsed:5.1f} s = {total / elapsed:6.0f} deliveries/s; SubmitEvent c={args.connections} "
              f"{latency_summary(latencies)}")
    finally:
        gateway.terminate()


@defer.inlineCallbacks
def backlog(args, tmp, receiver, label, repo):
    down_site = server.Site(receiver)
    down_port = reactor.listenTCP(0, down_site, interface="127.0.0.1")
    port = down_port.getHost().port
    yield down_port.stopListening()  # the destination is down from the start
    path = f"/d{label}b"
    config = bench_config(f"{tmp}/{label}backlog.db", [(f"dest-{label}b", f"http://127.0.0.1:{port}{path}")])
    gateway, gw_port = yield deferToThread(start_gateway, tmp, config, repo=repo)
    try:
        outage_started = time.perf_counter()
        yield aio(submit(gw_port, f"B{label}", args.backlog))
        remaining = args.outage_s - (time.perf_counter() - outage_started)
        if remaining > 0:
            print(f"{label:<7}backlog of {args.backlog} built; keeping the destination down {remaining:.0f} s more")
            yield aio(asyncio.sleep(remaining))
        up = reactor.listenTCP(port, down_site, interface="127.0.0.1")
        recovered = time.perf_counter()
        while not receiver.keys.get(path):
            yield aio(asyncio.sleep(0.05))
        first = time.perf_counter()
        yield until_delivered(receiver, [path], args.backlog, 1800)
        drained = receiver.last[path]
        outage = time.perf_counter() - outage_started - (drained - recovered)
        print(f"{label:<7}backlog: {args.backlog} events after a {outage:.0f} s outage; first delivery "
              f"{first - recovered:.1f} s after recovery (retry back-off), drained in "
              f"{drained - first:.1f} s = {args.backlog / (drained - first):.0f} events/s "
              f"({drained - recovered:.1f} s from recovery)")
        yield up.stopListening()
    finally:
        gateway.terminate()


@defer.inlineCallbacks
def run(args, tmp):
    receiver = Receiver()
    listening = reactor.listenTCP(0, server.Site(receiver), interface="127.0.0.1")
    port = listening.getHost().port
    print(f"parkgate relay benchmark: {os.cpu_count()} cores, loopback, SQLite, XML POST destinations")
    runs = [("before", args.baseline), ("after", REPO)] if args.baseline else [("", REPO)]
    try:
        for destinations in (0, 1, 4):
            for label, repo in runs:
                yield throughput(args, tmp, receiver, port, destinations, label, repo)
        if args.backlog:
            for label, repo in runs:
                yield backlog(args, tmp, receiver, label, repo)
    except Exception as e:  # noqa: BLE001 - a benchmark says what broke, then stops
        print(f"benchmark failed: {type(e).__name__}: {e}")
    finally:
        reactor.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--backlog", type=int, default=10000)
    parser.add_argument("--connections", type=int, default=8, help="concurrent SubmitEvent clients")
    parser.add_argument("--outage-s", type=float, default=300, help="how long the destination stays down")
    parser.add_argument("--baseline", type=Path, help="another checkout: each figure also on its code, side by side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reactor.callWhenRunning(run, args, tmp)
        reactor.run()


if __name__ == "__main__":
    main()
