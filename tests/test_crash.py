"""Kill the gateway (SIGKILL) while events stream in: after a restart, every event that got a
response is in the database and reaches the relay destination; the outbox CLI reports it."""

import http.client
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import configs
from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread

from conftest import PASSWORD
from legacy.doubles import HttpReceiver
from test_hardening import envelope
from test_plc import until


def crash_config(port, db, url):
    """`parkgate serve` on ``port`` with SQLite at ``db``, every event a vehicle of its own, relayed to
    ``url`` with quick retries that never give up."""
    return configs.toml(configs.gateway(
        configs.facility("LOT-K", configs.lane("K-IN", 1, "ENTRY"), name="Crash Garage",
                         tariff_=configs.tariff("H", "2.00", "20.00", grace_minutes=0)),
        listen=f"127.0.0.1:{port}", database_url=f"sqlite:///{db}", frame_window_s=0,
        relays=[configs.relay("feed", url, timeout_s=1, backoff_s=0.1, backoff_max_s=0.5)]))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(cli, port, timeout=60):
    """Start `parkgate serve` and return once it says it listens (it prints its WSDLs then); a
    gateway that neither says so nor exits within ``timeout`` seconds is killed."""
    proc = subprocess.Popen(cli + ["serve"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = queue.Queue()

    def read():  # drains its output for as long as it runs
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            proc.kill()
            raise RuntimeError(f"the gateway did not start listening within {timeout} s") from None
        if line is None:
            raise RuntimeError(f"the gateway exited at start ({proc.wait()})")
        if f":{port}/soap/" in line:
            return proc


def stream(port, acknowledged, stop):
    """Submit ENTRY events one after another until the gateway stops answering."""
    n = 0
    while not stop.is_set():
        event_id = f"K-{os.getpid()}-{n}"
        body = envelope(f"""<pg:SubmitEvent><pg:Event><pg:EventID>{event_id}</pg:EventID>
            <pg:FacilityID>LOT-K</pg:FacilityID><pg:CameraID>K-IN</pg:CameraID><pg:Direction>ENTRY</pg:Direction>
            <pg:Timestamp>{datetime.now(timezone.utc).isoformat()}</pg:Timestamp>
            <pg:PlateText>K{n:07d}</pg:PlateText></pg:Event></pg:SubmitEvent>""")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/soap/EventService", body=body, headers={"Content-Type": "text/xml"})
            response = conn.getresponse()
            data = response.read()
            conn.close()
        except (OSError, http.client.HTTPException):
            return  # killed
        if response.status == 200 and b"<tns:Decision>OPEN</tns:Decision>" in data:
            acknowledged.append(event_id)
        n += 1


def test_sigkill_loses_no_acknowledged_event(tmp_path):
    receiver = HttpReceiver()
    blockingCallFromThread(reactor, receiver.start)
    blockingCallFromThread(reactor, receiver.go_down)  # the destination is down: all goes to the outbox
    port, db = free_port(), tmp_path / "crash.db"
    cfg = tmp_path / "crash.toml"
    cfg.write_text(crash_config(port, db, receiver.url))
    cli = [sys.executable, "-m", "gateway", "--config", str(cfg)]
    subprocess.run(cli + ["user", "add", "operator", "--role", "operator", "--password", PASSWORD],
                   check=True, capture_output=True)
    gateway = serve(cli, port)
    acknowledged, stop = [], threading.Event()
    streamer = threading.Thread(target=stream, args=(port, acknowledged, stop))
    streamer.start()
    try:
        until(lambda: len(acknowledged) >= 40, timeout=60)
        gateway.send_signal(signal.SIGKILL)  # mid-stream: a request is likely in flight
        gateway.wait(10)
    finally:
        stop.set()
        streamer.join(10)
    acked = list(acknowledged)

    with sqlite3.connect(db) as conn:
        recorded = {row[0] for row in conn.execute("SELECT event_id FROM lane_events")}
        owed = {row[0] for row in conn.execute("SELECT key FROM outbox WHERE destination = 'feed'")}
    assert set(acked) <= recorded
    assert set(acked) <= owed

    status = subprocess.run(cli + ["outbox", "status"], capture_output=True, text=True, timeout=60)
    assert "feed" in status.stdout and "xml" in status.stdout

    blockingCallFromThread(reactor, receiver.come_back)
    gateway = serve(cli, port)
    try:
        until(lambda: set(acked) <= set(receiver.keys), timeout=60)
        firsts = list(dict.fromkeys(k for k in receiver.keys if k in set(acked)))
        assert firsts == acked  # in the order they were recorded
    finally:
        gateway.terminate()
        gateway.wait(10)
        blockingCallFromThread(reactor, receiver.stop)


def children(pid):
    """Live child processes of ``pid``, from /proc (no ps on a bare Debian)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(entry))
    return found


def alive(pid):
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_relay_process_is_restarted_when_it_dies(tmp_path):
    receiver = HttpReceiver()
    blockingCallFromThread(reactor, receiver.start)
    port = free_port()
    cfg = tmp_path / "restart.toml"
    cfg.write_text(crash_config(port, tmp_path / "restart.db", receiver.url))
    cli = [sys.executable, "-m", "gateway", "--config", str(cfg)]
    subprocess.run(cli + ["user", "add", "operator", "--role", "operator", "--password", PASSWORD],
                   check=True, capture_output=True)
    gateway = serve(cli, port)
    try:
        until(lambda: len(children(gateway.pid)) == 1, timeout=30)
        first = children(gateway.pid)[0]
        os.kill(first, signal.SIGKILL)
        until(lambda: any(child != first for child in children(gateway.pid)), timeout=30)
        body = envelope(f"""<pg:SubmitEvent><pg:Event><pg:EventID>after-restart</pg:EventID>
            <pg:FacilityID>LOT-K</pg:FacilityID><pg:CameraID>K-IN</pg:CameraID><pg:Direction>ENTRY</pg:Direction>
            <pg:Timestamp>{datetime.now(timezone.utc).isoformat()}</pg:Timestamp>
            <pg:PlateText>RESTART1</pg:PlateText></pg:Event></pg:SubmitEvent>""")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/soap/EventService", body=body, headers={"Content-Type": "text/xml"})
        assert conn.getresponse().status == 200
        until(lambda: "after-restart" in receiver.keys, timeout=30)
        second = next(child for child in children(gateway.pid) if child != first)
    finally:
        gateway.terminate()
        gateway.wait(10)
        blockingCallFromThread(reactor, receiver.stop)
    until(lambda: not alive(second), timeout=30)  # the relay child went with the gateway
