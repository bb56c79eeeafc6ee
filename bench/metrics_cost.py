#!/usr/bin/env python3
"""What /metrics costs each request: SubmitEvent and Ping on a gateway with ``[metrics] enabled`` and
on one without, measured in turns (off, on, off, on) in one run, so that the machine's noise falls
on both alike.

    .venv/bin/python bench/metrics_cost.py [--duration 8] [--connections 8] [--rounds 2]
"""

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from harness import cpu_seconds, start_gateway
from soap_events import bench_config, events_for, ping_for, run_load, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"parkgate metrics cost: {os.cpu_count()} cores, SQLite (WAL, FULL), c={args.connections}, "
          f"{args.duration:.0f} s per measurement, {args.rounds} rounds of metrics off then on")
    with tempfile.TemporaryDirectory() as tmp:
        servers = {}
        for label, enabled in (("off", False), ("on", True)):
            folder = Path(tmp) / label
            folder.mkdir()
            config = bench_config(16, f"sqlite:///{folder}/bench.db", "FULL")
            config["metrics"] = {"enabled": enabled}
            servers[label] = start_gateway(folder, config, role="integrator")
        try:
            for _, port in servers.values():
                asyncio.run(run_load(port, 2, 2.0, events_for))
            totals = {(name, label): [0, 0.0, 0.0, []] for name in ("Ping", "SubmitEvent") for label in servers}
            for _ in range(args.rounds):
                for label, (server, port) in servers.items():
                    for name, maker in (("Ping", ping_for), ("SubmitEvent", events_for)):
                        cpu = cpu_seconds(server.pid)
                        rate, lat, _failures = asyncio.run(run_load(port, args.connections, args.duration, maker))
                        t = totals[(name, label)]
                        t[0] += len(lat)
                        t[1] += cpu_seconds(server.pid) - cpu
                        t[2] += args.duration
                        t[3].extend(lat)
            for name in ("Ping", "SubmitEvent"):
                for label in servers:
                    n, cpu, seconds, lat = totals[(name, label)]
                    print(f"{name:<12} metrics {label:<3} {summary(n / seconds, lat)}   server CPU "
                          f"{cpu / n * 1e6:5.0f} us/req")
                off, on = totals[(name, "off")], totals[(name, "on")]
                print(f"  {name} with metrics: throughput {(on[0] / on[2]) / (off[0] / off[2]):.1%} of without, "
                      f"CPU per request {(on[1] / on[0]) / (off[1] / off[0]):.1%}")
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(20)


if __name__ == "__main__":
    main()
