#!/usr/bin/env python3
"""Gate latency: from a SubmitEvent request (a plate with a valid permit) to the OPEN coil being
set on the PLC, p50/p99; and the bare Modbus round trip (write single coil), the floor.

The PLC simulator runs in this process (so both ends of the measurement share one clock);
the gateway runs in its own, as `parkgate serve`. Events alternate ENTRY (lane 1) and EXIT
(lane 2) of one permit holder, so every decision is OPEN.

    .venv/bin/python bench/gate_latency.py [--events 1000] [--baseline CHECKOUT]

``--baseline``: another checkout's gateway, with a simulator of its own, measured in turns with
this one (ten rounds of a tenth of the events each), so both share the machine's moment.
"""

import argparse
import asyncio
import os
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from twisted.internet import asyncioreactor

asyncioreactor.install()

from harness import REPO, configs, latency_summary, open_connection, read_response, request, start_gateway  # noqa: E402
from pymodbus.client import AsyncModbusTcpClient  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402

from plc.driver import as_deferred  # noqa: E402
from plc.simulator import PlcSimulator  # noqa: E402


def bench_config(tmp, plc_port):
    """A permit holder's ENTRY at lane 1 and EXIT at lane 2, both with a barrier PLC."""
    return configs.gateway(
        configs.facility("LOT-GATE", configs.lane("GATE-IN", 1, "ENTRY", plc=(plc_port, 1)),
                         configs.lane("GATE-OUT", 2, "EXIT", plc=(plc_port, 2)), name="Gate Bench", capacity=1000,
                         tariff_=configs.tariff("H", "3.00", "24.00", grace_minutes=0)),
        database_url=f"sqlite:///{tmp}/gate.db", frame_window_s=0, plc={"heartbeat_s": 2})


EVENT = ('<pg:SubmitEvent><pg:Event><pg:EventID>{event_id}</pg:EventID><pg:FacilityID>LOT-GATE</pg:FacilityID>'
         '<pg:CameraID>{camera}</pg:CameraID><pg:Direction>{direction}</pg:Direction>'
         '<pg:Timestamp>{ts}</pg:Timestamp><pg:PlateText>PERMIT1</pg:PlateText>'
         '<pg:Confidence>0.97</pg:Confidence></pg:Event></pg:SubmitEvent>')


async def issue_permit(port):
    reader, writer = await open_connection(port)
    today = datetime.now(timezone.utc).date()
    writer.write(request("/soap/PermitService", (
        f"<pg:IssuePermit><pg:Plate>PERMIT1</pg:Plate><pg:PermitType>Annual</pg:PermitType>"
        f"<pg:ValidFrom>{today - timedelta(days=1)}</pg:ValidFrom><pg:ValidUntil>{today + timedelta(days=365)}"
        f"</pg:ValidUntil><pg:FacilityID>LOT-GATE</pg:FacilityID></pg:IssuePermit>")))
    status, body = await read_response(reader)
    assert status == 200, body[:500]
    writer.close()


async def gate_latencies(port, sim, events, first=0):
    """``events`` permit holder's passages from event number ``first``: (latencies, misses)."""
    reader, writer = await open_connection(port)
    latencies, misses = [], 0
    for n in range(first, first + events):
        unit = 1 if n % 2 == 0 else 2
        opened = asyncio.get_running_loop().create_future()
        sim[unit].on_open = lambda f=opened: f.done() or f.set_result(time.perf_counter())
        direction, camera = ("ENTRY", "GATE-IN") if unit == 1 else ("EXIT", "GATE-OUT")
        payload = request("/soap/EventService", EVENT.format(
            event_id=f"G{os.getpid()}-{n}", camera=camera, direction=direction,
            ts=datetime.now(timezone.utc).isoformat()))
        started = time.perf_counter()
        writer.write(payload)
        status, body = await read_response(reader)
        if status != 200 or b"COMMANDED" not in body:
            misses += 1
            continue
        latencies.append(await asyncio.wait_for(opened, 2) - started)
    writer.close()
    return latencies, misses


async def modbus_round_trips(port, count):
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
    await client.connect()
    latencies = []
    for n in range(count):
        started = time.perf_counter()
        await client.write_coil(5, bool(n % 2), device_id=1)
        latencies.append(time.perf_counter() - started)
    client.close()
    return latencies


@defer.inlineCallbacks
def run(args, tmp):
    checkouts = {"this": REPO} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    lanes = {}  # label -> (simulator, gateway process, port)
    try:
        for label, repo in checkouts.items():
            home = Path(tmp) / label
            home.mkdir()
            sim = PlcSimulator(2, reactor, port=0, rise_time=0.2, fall_time=0.2, heartbeat_timeout=None,
                               report=lambda unit, text: None)
            yield sim.start()
            server, port = yield reactor_thread_free(start_gateway, home, bench_config(home, sim.port), "admin", repo)
            lanes[label] = (sim, server, port)
        yield as_deferred(asyncio.sleep(1.5))  # the lanes connect
        print(f"parkgate gate latency: {os.cpu_count()} cores, loopback, SQLite, {args.events} events")
        floor = yield as_deferred(modbus_round_trips(lanes["this"][0].port, args.events))
        print(f"Modbus write_coil round trip (floor):   {latency_summary(floor)}")
        gate = {label: ([], 0) for label in lanes}
        for _, _, port in lanes.values():
            yield as_deferred(issue_permit(port))
        rounds = 10 if args.baseline else 1
        for r in range(rounds):
            for label, (sim, _, port) in lanes.items():
                share = args.events // rounds
                lat, misses = yield as_deferred(gate_latencies(port, sim, share, first=r * share))
                gate[label] = (gate[label][0] + lat, gate[label][1] + misses)
        for label, (lat, misses) in gate.items():
            tag = f"[{label}]".ljust(11) if args.baseline else ""
            print(f"{tag}SubmitEvent -> OPEN coil set on the PLC: {latency_summary(lat)}")
            if misses:
                print(f"  {misses} events did not command the barrier")
    finally:
        for sim, server, _ in lanes.values():
            server.terminate()
            yield sim.stop()
        reactor.stop()


def reactor_thread_free(fn, *args):
    """Run a blocking set-up step in a thread so the simulator keeps answering meanwhile."""
    from twisted.internet.threads import deferToThread
    return deferToThread(fn, *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--baseline", type=Path, help="another checkout, measured in turns with this one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reactor.callWhenRunning(run, args, tmp)
        reactor.run()


if __name__ == "__main__":
    main()
