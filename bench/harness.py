"""What the benchmarks share: a gateway in its own process, raw keep-alive SOAP over asyncio,
percentiles. The client side stays cheap so that the figures are the server's. Configurations
come from the tests' builder (tests/configs.py), so a benchmark runs the gateway a test runs."""

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import configs  # noqa: E402  (the configuration builder, beside the tests that use it too)

PASSWORD = "bench-" + secrets.token_hex(8)
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
ENVELOPE = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:pg="urn:parkgate:v1"><soapenv:Header><wsse:Security xmlns:wsse="' + WSSE + '">'
            '<wsse:UsernameToken><wsse:Username>bench</wsse:Username><wsse:Password>' + PASSWORD +
            '</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header><soapenv:Body>{body}'
            '</soapenv:Body></soapenv:Envelope>')


def request(path, body):
    """A complete HTTP/1.1 POST carrying a SOAP envelope with the bench user's token."""
    data = ENVELOPE.format(body=body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: text/xml; charset=utf-8\r\n"
            f"SOAPAction: \"\"\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return status, await reader.readexactly(length)


async def open_connection(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(tmp, config, role="admin", repo=REPO, start_timeout=30.0):
    """`parkgate serve` in its own process with ``config`` (built by tests/configs.py) on a free port;
    returns (process, port). ``repo``: the checkout whose code runs (another one: a baseline to compare with);
    ``start_timeout``: seconds it has to listen (a loaded machine, a large database: longer)."""
    port = free_port()
    cfg = Path(tmp) / "bench.toml"
    cfg.write_text(configs.toml({**config, "server": {**config.get("server", {}), "listen": f"127.0.0.1:{port}"}}))
    cli = [sys.executable, "-m", "gateway", "--config", str(cfg)]
    subprocess.run(cli + ["user", "add", "bench", "--role", role, "--password", PASSWORD],
                   check=True, capture_output=True, cwd=repo)
    # Its log to a file beside its database: a pipe nobody reads would stop the server once full.
    log = Path(tmp) / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(cli + ["serve"], cwd=repo, stdout=subprocess.DEVNULL, stderr=out)
    if wait_listening(port, start_timeout):
        return server, port
    server.kill()
    server.wait()
    raise SystemExit("the gateway did not start: " + log.read_text(errors="replace")[-2000:])


def wait_listening(port, timeout=30.0):
    """Whether something listens on ``port`` within ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def cpu_seconds(pid):
    """User+system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def latency_summary(latencies):
    lat = sorted(latencies)
    return (f"p50 {percentile(lat, 0.50) * 1000:6.2f} ms   p99 {percentile(lat, 0.99) * 1000:6.2f} ms   "
            f"max {lat[-1] * 1000:6.2f} ms   (n={len(lat)})")
