#!/usr/bin/env python3
"""A few hundred hostile requests against a real gateway: how fast each kind is answered, the
server's memory before and after, and Ping's (and SubmitEvent's) latency during the run next to
the same idle, in one run.

Starts `parkgate serve` in its own process (SQLite in a temporary folder, scrypt at the
recommended cost, the default 16 request threads and 1 MiB body limit), measures Ping and
SubmitEvent idle, then sends ``--requests`` hostile requests from ``--senders`` connections at
once (issue 15's classes: namespace, attribute and comment bombs, deep and wide trees, a UTF-16
DOCTYPE, processing instructions, envelopes of the wrong shape, unknown mandatory headers, wrong
passwords and unknown users, nonces in other spellings, forms, calendar edges, look-alike plates)
while one connection pings and another submits events. Every hostile answer must be a SOAP fault
(or the 415/405 the HTTP binding asks for): the run says how many were not.

    .venv/bin/python bench/hostile.py [--requests 400] [--senders 4] [--baseline /work/main]

``--baseline``: the same run against another checkout's code first (before/after, side by side).
"""

import argparse
import asyncio
import base64
import hashlib
import itertools
import secrets
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from harness import (
    ENVELOPE,
    REPO,
    WSSE,
    configs,
    latency_summary,
    open_connection,
    percentile,
    read_response,
    request,
    start_gateway,
)

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
PATH = "/soap/EventService"


def bench_config(database_url):
    return configs.gateway(
        configs.facility("LOT-BENCH", configs.lane("CAM-IN", 1, "ENTRY"), configs.lane("CAM-OUT", 2, "EXIT"),
                         tariff_=configs.tariff("H", "3.00", "24.00", grace_minutes=15)),
        database_url=database_url, frame_window_s=0, auth={"scrypt_n": 2 ** 17},
        server={"max_body_bytes": 1024 * 1024})


def event(plate="HOST1", when=None):
    when = when or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f"<pg:SubmitEvent><pg:Event><pg:EventID>E-{secrets.token_hex(6)}</pg:EventID>"
            f"<pg:FacilityID>LOT-BENCH</pg:FacilityID><pg:CameraID>CAM-IN</pg:CameraID>"
            f"<pg:Direction>ENTRY</pg:Direction><pg:Timestamp>{when}</pg:Timestamp>"
            f"<pg:PlateText>{plate}</pg:PlateText><pg:Confidence>0.97</pg:Confidence></pg:Event></pg:SubmitEvent>")


def raw(body, content_type="text/xml; charset=utf-8", path=PATH):
    return (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def envelope(body, header=None):
    text = ENVELOPE.format(body=body)
    if header is not None:
        text = text.replace("</soapenv:Header>", header + "</soapenv:Header>")
    return text.encode()


def token(username, password):
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:pg="urn:parkgate:v1"><soapenv:Header>'
            f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken><wsse:Username>{username}</wsse:Username>'
            f"<wsse:Password>{password}</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header>"
            f"<soapenv:Body><pg:Ping/></soapenv:Body></soapenv:Envelope>").encode()


def digest_spelling(n):
    """A PasswordDigest for the bench user (who has none: refused) with the nth spelling of one nonce."""
    nonce = hashlib.sha256(b"captured").digest()[:16]
    text = base64.b64encode(nonce).decode()
    text = text[:-3] + "ABCDEFGHIJKLMNOP"[n % 16] + "=="
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:pg="urn:parkgate:v1"><soapenv:Header>'
            f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
            f'<wsse:Username>bench</wsse:Username><wsse:Password Type="{DIGEST}">AAAA</wsse:Password>'
            f"<wsse:Nonce>{text}</wsse:Nonce><wsu:Created>{created}</wsu:Created></wsse:UsernameToken>"
            f"</wsse:Security></soapenv:Header><soapenv:Body><pg:Ping/></soapenv:Body></soapenv:Envelope>").encode()


def hostile_kinds():
    """kind -> a function of n giving the nth request's bytes (HTTP request and all)."""
    ns_bomb = envelope("<pg:Ping " + " ".join(f'xmlns:n{i}="urn:x:{i}"' for i in range(30_000)) + "/>")
    attr_bomb = envelope("<pg:Ping " + " ".join(f'a{i}="1"' for i in range(30_000)) + "/>")
    comments = token("bench", "wrong-password").replace(b"<pg:Ping/>", b"<pg:Ping>" + b"<!---->" * 140_000
                                                         + b"</pg:Ping>")
    wide = envelope("<pg:Ping>" + "<x/>" * 100_000 + "</pg:Ping>")
    deep = envelope("<pg:Ping>" + "<a>" * 250 + "</a>" * 250 + "</pg:Ping>")
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "boom">]>'
             + envelope("<pg:Ping/>").decode()).encode("utf-16")
    two_bodies = envelope("<pg:Ping/>").replace(b"</soapenv:Body>", b"</soapenv:Body><soapenv:Body>"
                                                + event().encode() + b"</soapenv:Body>", 1)
    must = '<x:Trace xmlns:x="urn:other" soapenv:mustUnderstand="1">t</x:Trace>'
    return {
        "namespace bomb (30k xmlns, 0.8 MB)": lambda n: raw(ns_bomb),
        "attribute bomb (30k attributes)": lambda n: raw(attr_bomb),
        "comment bomb (140k comments)": lambda n: raw(comments),
        "wide tree (100k elements)": lambda n: raw(wide),
        "deep tree (250 levels)": lambda n: raw(deep),
        "UTF-16 with a DOCTYPE": lambda n: raw(utf16),
        "processing instruction": lambda n: raw(envelope("<?pi x?><pg:Ping/>")),
        "two Bodies": lambda n: raw(two_bodies),
        "empty Body": lambda n: raw(envelope("")),
        "unknown mandatory header": lambda n: raw(envelope(event(), must)),
        "wrong password": lambda n: raw(token("bench", f"wrong-{n}-password")),
        "unknown user": lambda n: raw(token(f"nobody-{n}", "some-password")),
        "nonce in another spelling": lambda n: raw(digest_spelling(n)),
        "form content type": lambda n: raw(envelope("<pg:Ping/>"), "application/x-www-form-urlencoded"),
        "calendar edge": lambda n: raw(envelope(event(when="0001-01-01T00:00:00+14:00"))),
        "look-alike plate": lambda n: raw(envelope(event(plate="ſTRAßı"))),
    }


def rss_kib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


async def probe(port, data, stop, latencies, pause=0.02):
    """One keep-alive connection sending ``data`` again and again until ``stop``; latencies kept (an
    answer that does not come within 30 s counts as 30 s, and the probe connects again)."""
    writer = None
    try:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(open_connection(port), 30)
                writer.write(data() if callable(data) else data)
                await asyncio.wait_for(read_response(reader), 30)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                if writer is not None:
                    writer.close()
                writer = None
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(pause)
    finally:
        if writer is not None:
            writer.close()


async def idle(port, seconds):
    stop = asyncio.Event()
    pings, events = [], []
    tasks = [asyncio.create_task(probe(port, request(PATH, "<pg:Ping/>"), stop, pings)),
             asyncio.create_task(probe(port, lambda: request(PATH, event(_plate())), stop, events))]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return pings, events


def _plate():
    return "B" + secrets.token_hex(4).upper()


async def send_one(port, data):
    """One hostile request on a connection of its own: (seconds, status, body)."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(open_connection(port), 30)
    except (OSError, asyncio.TimeoutError):
        return time.perf_counter() - started, -1, b""  # not even connected
    try:
        writer.write(data)
        await writer.drain()
        try:
            status, body = await asyncio.wait_for(read_response(reader), 30)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError):
            status, body = 0, b""  # no answer (within 30 s)
    finally:
        writer.close()
    return time.perf_counter() - started, status, body


async def hostile(port, total, senders, only=None):
    kinds = {k: v for k, v in hostile_kinds().items() if not only or only in k}
    plan = list(itertools.islice(itertools.cycle(kinds.items()), total))
    answers = {kind: [] for kind in kinds}
    wrong = []
    stop = asyncio.Event()
    pings, events = [], []
    probes = [asyncio.create_task(probe(port, request(PATH, "<pg:Ping/>"), stop, pings)),
              asyncio.create_task(probe(port, lambda: request(PATH, event(_plate())), stop, events))]
    queue = asyncio.Queue()
    for n, item in enumerate(plan):
        queue.put_nowait((n, item))

    async def sender():
        while not queue.empty():
            n, (kind, make) = queue.get_nowait()
            seconds, status, body = await send_one(port, make(n))
            answers[kind].append(seconds)
            if b"Fault>" not in body or status not in (400, 415, 500):
                wrong.append((kind, status, body[:120]))
    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(senders)))
    elapsed = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*probes)
    return answers, wrong, pings, events, elapsed


def run(repo, label, args):
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_gateway(tmp, bench_config(f"sqlite:///{tmp}/bench.db"), role="operator", repo=repo)
        try:
            time.sleep(1)
            asyncio.run(idle(port, 1))  # warm: the first request verifies the password
            rss_before = rss_kib(server.pid)[0]
            idle_pings, idle_events = asyncio.run(idle(port, args.idle))
            rss_rounds, answers, wrong, pings, events, elapsed = [], {}, [], [], [], 0.0
            for _ in range(args.rounds):  # the same burst again: memory a burst keeps is not kept twice
                got = asyncio.run(hostile(port, args.requests, args.senders, args.only))
                rss_rounds.append(rss_kib(server.pid))
                for kind, times in got[0].items():
                    answers.setdefault(kind, []).extend(times)
                wrong, pings, events = wrong + got[1], pings + got[2], events + got[3]
                elapsed += got[4]
            alive = asyncio.run(idle(port, 0.5))[0]
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    print(f"\n== {label} ({repo})")
    print(f"{args.rounds} rounds of {args.requests} hostile requests from {args.senders} connections at once "
          f"in {elapsed:.1f} s")
    print(f"  {'kind':<36} {'n':>4} {'p50 ms':>9} {'max ms':>9}")
    for kind, times in answers.items():
        times.sort()
        if times:
            print(f"  {kind:<36} {len(times):>4} {percentile(times, 0.5) * 1000:>9.1f} {times[-1] * 1000:>9.1f}")
    print(f"  answered other than a SOAP fault: {len(wrong)}" + "".join(f"\n    {w}" for w in wrong[:8]))
    print(f"Ping idle:                 {latency_summary(idle_pings)}")
    print(f"Ping during the run:       {latency_summary(pings)}")
    print(f"SubmitEvent idle:          {latency_summary(idle_events)}")
    print(f"SubmitEvent during the run:{latency_summary(events)}")
    after = ", ".join(f"{rss / 1024:.0f} MB" for rss, _ in rss_rounds)
    print(f"server RSS: {rss_before / 1024:.0f} MB before, after each round {after} "
          f"(peak {rss_rounds[-1][1] / 1024:.0f} MB); serving after: {'yes' if alive else 'NO'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--idle", type=float, default=3, help="seconds of idle Ping and SubmitEvent")
    parser.add_argument("--only", help="only the kinds whose name holds this")
    parser.add_argument("--rounds", type=int, default=3, help="hostile bursts, one after another")
    parser.add_argument("--baseline", type=Path, help="another checkout to run first (before/after)")
    args = parser.parse_args()
    if args.baseline:
        run(args.baseline.resolve(), "baseline", args)
    run(REPO, "this checkout", args)


if __name__ == "__main__":
    main()
