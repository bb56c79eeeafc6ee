"""Two `parkgate serve` nodes on one PostgreSQL (issue 19): lane events go to either node; the lane's
PLC is driven by exactly one of them (the holder of the lane's lease), the other carrying its
barrier commands there; an EventID answers once across both; relays deliver each message once.
Kill the node that drives the lane: the other takes the lane over within seconds, and the lanes
and the relays carry on.

Real processes, a real PLC simulator over Modbus TCP, a real HTTP receiver, the CI database."""

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import configs
import pytest
from sqlalchemy import create_engine, text
from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread

from conftest import PASSWORD, PG_URL, _drop_pg_schema, _fresh_pg_schema, unique
from gateway.store.migrate import upgrade
from test_crash import free_port, serve
from test_hardening import envelope
from test_plc import fast_simulator, until

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="two nodes need PARKGATE_TEST_PG_URL")]


def on_reactor(fn, *args):
    return blockingCallFromThread(reactor, fn, *args)


def submit(port, event_id=None, plate=None, timeout=10, at=None, with_reason=False):
    """An ENTRY at the gated lane through node ``port``: (HTTP status, Decision, Barrier Result)."""
    event_id = event_id or unique("N")
    at = at or datetime.now(timezone.utc)
    plate = plate or f"N{os.urandom(3).hex().upper()}"
    body = envelope(f"""<pg:SubmitEvent><pg:Event><pg:EventID>{event_id}</pg:EventID>
        <pg:FacilityID>LOT-NODES</pg:FacilityID><pg:CameraID>N-IN</pg:CameraID><pg:Direction>ENTRY</pg:Direction>
        <pg:Timestamp>{at.isoformat()}</pg:Timestamp>
        <pg:PlateText>{plate}</pg:PlateText></pg:Event></pg:SubmitEvent>""")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", "/soap/EventService", body=body, headers={"Content-Type": "text/xml"})
    response = conn.getresponse()
    data = response.read().decode()
    conn.close()
    found = [re.search(f"<tns:{tag}>(\\w+)</tns:{tag}>", data) for tag in ("Decision", "Result", "Reason")]
    status, decision, result, reason = response.status, *(m.group(1) if m else None for m in found)
    return (status, decision, result, reason) if with_reason else (status, decision, result)


@pytest.fixture
def cluster(tmp_path, receiver):
    url, schema = _fresh_pg_schema()
    upgrade(url)
    sim = fast_simulator(lanes=1, heartbeat_timeout=None)
    on_reactor(sim.start)
    ports = [free_port(), free_port()]
    cli = {}
    for port in ports:
        cfg = tmp_path / f"node-{port}.toml"
        cfg.write_text(configs.toml(configs.gateway(
            configs.facility("LOT-NODES", configs.lane("N-IN", 1, "ENTRY", plc=(sim.port, 1)), name="Two Nodes",
                             tariff_=configs.tariff("H", "2.00", "20.00", grace_minutes=0)),
            listen=f"127.0.0.1:{port}", database_url=url, frame_window_s=3,
            plc={"pulse_ms": 50, "timeout_ms": 1000, "poll_ms": 50, "heartbeat_s": 0.5, "reconnect_max_s": 0.5},
            cluster={"lane_lease_s": 3},
            relays=[configs.relay("feed", receiver.url, timeout_s=1, backoff_s=0.1, backoff_max_s=0.5, lease_s=4)])))
        cli[port] = [sys.executable, "-m", "gateway", "--config", str(cfg)]
    subprocess.run(cli[ports[0]] + ["user", "add", "operator", "--role", "operator", "--password", PASSWORD],
                   check=True, capture_output=True)
    nodes = {port: serve(cli[port], port) for port in ports}
    engine = create_engine(url)

    def holder():
        with engine.connect() as conn:
            return conn.execute(text("SELECT owner FROM node_leases WHERE name = 'lane:LOT-NODES:1' "
                                     "AND expires_at > :now"), {"now": datetime.now(timezone.utc).replace(
                                         tzinfo=None)}).scalar()
    yield dict(ports=ports, nodes=nodes, sim=sim, receiver=receiver, holder=holder)
    for proc in nodes.values():
        if proc.poll() is None:
            proc.terminate()
            proc.wait(20)
    engine.dispose()
    on_reactor(sim.stop)
    _drop_pg_schema(schema)


def test_two_nodes_share_a_lane_and_carry_on_when_its_driver_dies(cluster):
    ports, nodes, barrier = cluster["ports"], cluster["nodes"], cluster["sim"].barriers[1]
    until(lambda: cluster["holder"]() is not None, timeout=30, interval=0.1, blocking=True)
    driver = cluster["holder"]()
    driving = next(p for p in ports if driver.endswith(f":{p}"))
    other = next(p for p in ports if p != driving)
    until(lambda: submit(driving)[2] == "COMMANDED", timeout=30, interval=0.2, blocking=True)

    acknowledged, opens = [], barrier.opens
    for n in range(10):  # either node decides; the driving one pulses the barrier for both
        event_id = unique("N")
        status, decision, result = submit(ports[n % 2], event_id)
        assert (status, decision, result) == (200, "OPEN", "COMMANDED"), (n, result)
        acknowledged.append(event_id)
    assert barrier.opens > opens  # (pulses a few ms apart merge into one)

    twice, at = unique("N"), datetime.now(timezone.utc)
    assert submit(driving, twice, "TWICE1", at=at)[1] == "OPEN"
    assert submit(other, twice, "TWICE1", at=at) == (200, "OPEN", "NOT_DRIVEN")  # the first outcome, replayed
    acknowledged.append(twice)

    # Two frames of one car, one at each node: one vehicle, decided once.
    burst = f"F{os.urandom(3).hex().upper()}"
    first = submit(driving, plate=burst, with_reason=True)
    assert first[1:3] == ("OPEN", "COMMANDED")
    assert submit(other, plate=burst, with_reason=True) == (200, "OPEN", "NOT_DRIVEN", "SAME_VEHICLE")

    nodes[driving].send_signal(signal.SIGKILL)
    nodes[driving].wait(10)
    killed_at = time.monotonic()
    until(lambda: (cluster["holder"]() or "").endswith(f":{other}"), timeout=30,   # asked once a check
          interval=0.1, blocking=True)
    until(lambda: submit(other)[2] == "COMMANDED", timeout=30, interval=0.2, blocking=True)
    taken_over = time.monotonic() - killed_at
    assert taken_over < 15, f"the lane was taken over after {taken_over:.1f} s"
    for _ in range(5):
        event_id = unique("N")
        assert submit(other, event_id)[1:] == ("OPEN", "COMMANDED")
        acknowledged.append(event_id)

    receiver = cluster["receiver"]
    until(lambda: set(acknowledged) <= set(receiver.keys), timeout=60, interval=0.2)
    assert nodes[other].poll() is None
