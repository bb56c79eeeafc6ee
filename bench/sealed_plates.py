#!/usr/bin/env python3
"""What sealing plates at rest costs: SubmitEvent and Ping at 8 connections, on a baseline checkout
(plates in clear, e.g. main before issue 19 part B) and on this one, side by side in one run.

Both servers run at once on SQLite of their own; the measurements alternate between them, round
after round, so that the machine's noise falls on both alike. Make the baseline checkout with
``git archive COMMIT | tar -x -C DIR`` (it runs on this checkout's virtual environment).

    .venv/bin/python bench/sealed_plates.py --baseline /tmp/parkgate-baseline [--rounds 3] [--duration 8]
"""

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

from harness import cpu_seconds, start_gateway
from soap_events import bench_config, events_for, ping_for, run_load

REPO = Path(__file__).resolve().parents[1]


def crypto_costs():
    """The sealing itself, per call, in this process: a plate, a 1.5 kB document, a blind index."""
    import timeit

    from gateway.store.keyring import KeyRing, init
    with tempfile.TemporaryDirectory() as tmp:
        init(Path(tmp) / "keys.json")
        ring = KeyRing.load(Path(tmp) / "keys.json")
    document = "x" * 1500
    sealed_plate, sealed_doc = ring.seal_text("AB123CD"), ring.seal_text(document)
    costs = {"seal plate": lambda: ring.seal_text("AB123CD"), "open plate": lambda: ring.open_text(sealed_plate),
             "seal 1.5 kB": lambda: ring.seal_text(document), "open 1.5 kB": lambda: ring.open_text(sealed_doc),
             "blind index": lambda: ring.blind("AB123CD")}
    parts = [f"{name} {min(timeit.repeat(call, number=2000, repeat=3)) / 2000 * 1e6:.1f} us"
             for name, call in costs.items()]
    return "per call: " + ", ".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="a checkout of the code to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    c = args.connections
    print(crypto_costs())
    print(f"sealed plates: {os.cpu_count()} cores shared by client and both servers, SQLite (WAL, FULL), "
          f"c={c}, {args.rounds} rounds of {args.duration:.0f} s per point, in turns")
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        servers = {}
        for name, tmp, repo in (("baseline", a, Path(args.baseline)), ("sealed", b, REPO)):
            servers[name] = start_gateway(tmp, bench_config(16, f"sqlite:///{tmp}/bench.db", "FULL"),
                                          role="integrator", repo=repo)
        try:
            for _server, port in servers.values():   # warm-up: imports, caches
                asyncio.run(run_load(port, 2, 2.0, ping_for))
                asyncio.run(run_load(port, 2, 2.0, events_for))
            rates = {(n, op): [] for n in servers for op in ("Ping", "SubmitEvent")}
            cpu = {n: [] for n in servers}
            for r in range(args.rounds):
                for name, (server, port) in servers.items():
                    for op, maker in (("Ping", ping_for), ("SubmitEvent", events_for)):
                        before = cpu_seconds(server.pid)
                        rate, lat, failures = asyncio.run(run_load(port, c, args.duration, maker))
                        if failures:
                            print(f"  {name}: {len(failures)} failed requests, first: {failures[0]!r}")
                        rates[(name, op)].append(rate)
                        if op == "SubmitEvent":
                            cpu[name].append((cpu_seconds(server.pid) - before) / len(lat) * 1e6)
                        print(f"  round {r + 1} {name:<8} {op:<11} {rate:7.0f}/s")
            print()
            median = {k: statistics.median(v) for k, v in rates.items()}
            for name in servers:
                ratio = median[(name, "SubmitEvent")] / median[(name, "Ping")]
                print(f"{name:<8}  Ping {median[(name, 'Ping')]:6.0f}/s   "
                      f"SubmitEvent {median[(name, 'SubmitEvent')]:6.0f}/s   SubmitEvent/Ping {ratio:5.0%}   "
                      f"server CPU {statistics.median(cpu[name]):5.0f} us/event")
            change = median[("sealed", "SubmitEvent")] / median[("baseline", "SubmitEvent")] - 1
            cpu_change = statistics.median(cpu["sealed"]) / statistics.median(cpu["baseline"]) - 1
            print(f"sealed against baseline: SubmitEvent {change:+.1%}, CPU per event {cpu_change:+.1%} "
                  "(goal: within 10%)")
        finally:
            for server, _port in servers.values():
                server.terminate()
                server.wait(10)


if __name__ == "__main__":
    main()
