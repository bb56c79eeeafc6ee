#!/usr/bin/env python3
"""SecurityEvent delivery: the time from sending SubmitEvent of a hotlisted plate to the security
event's arrival at a local VMS receiver (p50/p99), the gateway in its own process (SQLite).

Plates are listed (category watch: the barrier opens, the VMS is told) straight in the database
before the gateway starts. Events go one connection at a time, paced, so the figure is the path's
latency (commit, wake, delivery worker, HTTP POST), not a queue's.

    .venv/bin/python bench/security_events.py [--events 300] [--interval-ms 20]
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

from harness import configs, latency_summary, open_connection, read_response, request, start_gateway  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.internet.threads import deferToThread  # noqa: E402
from twisted.web import resource, server  # noqa: E402

from gateway.store.engine import Store  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.schema import HotlistRecord  # noqa: E402
from plc.driver import as_deferred  # noqa: E402

EVENT = ('<pg:SubmitEvent><pg:Event><pg:EventID>{event_id}</pg:EventID><pg:FacilityID>LOT-SB</pg:FacilityID>'
         '<pg:CameraID>SB-IN</pg:CameraID><pg:Direction>ENTRY</pg:Direction><pg:Timestamp>{ts}</pg:Timestamp>'
         '<pg:PlateText>{plate}</pg:PlateText><pg:Confidence>0.97</pg:Confidence></pg:Event></pg:SubmitEvent>')


class Receiver(resource.Resource):
    isLeaf = True

    def __init__(self):
        super().__init__()
        self.arrived = {}   # Idempotency-Key -> perf_counter at arrival

    def render_POST(self, request):
        self.arrived.setdefault(request.getHeader(b"idempotency-key").decode(), time.perf_counter())
        return b"ok"


def plate(n):
    return f"H{n:07d}"


def seed(db, count):
    upgrade(db)
    store = Store(db)
    with store.connection() as conn:
        conn.execute(insert(HotlistRecord.__table__), [
            dict(plate=plate(n), facility_id=None, reason="bench", added_at=datetime.now(timezone.utc),
                 category="watch", source="bench") for n in range(count)])
    store.dispose()


async def send(port, first, count, interval):
    reader, writer = await open_connection(port)
    sent = {}
    for n in range(first, first + count):
        event_id = f"SB-{os.getpid()}-{n}"
        payload = request("/soap/EventService", EVENT.format(event_id=event_id, plate=plate(n),
                                                             ts=datetime.now(timezone.utc).isoformat()))
        sent[f"{event_id}:SEC"] = time.perf_counter()
        writer.write(payload)
        status, body = await read_response(reader)
        assert status == 200, body[:300]
        await asyncio.sleep(interval)
    writer.close()
    return sent


@defer.inlineCallbacks
def run(args, tmp):
    receiver = Receiver()
    listening = reactor.listenTCP(0, server.Site(receiver), interface="127.0.0.1")
    db = f"sqlite:///{tmp}/security.db"
    try:
        total = args.events + 20
        seed(db, total)
        config = configs.gateway(
            configs.facility("LOT-SB", configs.lane("SB-IN", 1, "ENTRY")), database_url=db, frame_window_s=0,
            relays=[configs.relay("vms", f"http://127.0.0.1:{listening.getHost().port}/vms",
                                  documents=["SecurityEvent"], timeout_s=2, backoff_s=0.1)])
        gateway, port = yield deferToThread(start_gateway, tmp, config)
        try:
            # Warm-up, the first 20 plates: until they arrive, the relay process (started by the gateway) is up.
            warm = yield as_deferred(send(port, 0, 20, args.interval_ms / 1000))
            deadline = time.perf_counter() + 60
            while not set(warm) <= set(receiver.arrived) and time.perf_counter() < deadline:
                yield as_deferred(asyncio.sleep(0.05))
            receiver.arrived.clear()
            sent = yield as_deferred(send(port, 20, args.events, args.interval_ms / 1000))
            deadline = time.perf_counter() + 30
            while len(set(sent) & set(receiver.arrived)) < len(sent) and time.perf_counter() < deadline:
                yield as_deferred(asyncio.sleep(0.05))
            latencies = [receiver.arrived[k] - t for k, t in sent.items() if k in receiver.arrived]
            print(f"SubmitEvent -> SecurityEvent at the VMS ({os.cpu_count()} cores, loopback, SQLite, "
                  f"one event every {args.interval_ms} ms): {latency_summary(latencies)}; "
                  f"{len(sent) - len(latencies)} not delivered within 30 s")
        finally:
            gateway.terminate()
            if args.show_log:
                gateway.wait()
                print((Path(tmp) / "serve.log").read_text(errors="replace")[-3000:])
    except Exception as e:  # noqa: BLE001 - a benchmark says what broke, then stops
        print(f"benchmark failed: {type(e).__name__}: {e}")
    finally:
        yield listening.stopListening()
        reactor.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--interval-ms", type=float, default=20)
    parser.add_argument("--show-log", action="store_true", help="print the end of the gateway's log")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reactor.callWhenRunning(run, args, tmp)
        reactor.run()


if __name__ == "__main__":
    main()
