#!/usr/bin/env python3
"""AuthorizePlate's instructions a request, counted by callgrind: a figure the machine's load does not move.

Seeds the permits as bench/authorize_plate.py does, starts `parkgate serve` under
``valgrind --tool=callgrind --separate-threads=yes``, warms it up (one login, then 200 questions),
zeroes the counts, asks ``--requests`` questions from ``--connections`` keep-alive connections,
dumps, and prints the instructions a request: the whole server, the reactor thread and the rest
(the request threads). Several minutes a run (everything runs some 50 times slower).

    .venv/bin/python bench/authorize_callgrind.py [CHECKOUT] [--permits 20000] [--requests 800]

CHECKOUT: the code to count (default this one; e.g. ``git worktree add ../before main``). Two
runs of one checkout differ by about 0.5% (the reactor thread's share by 2%): the threads'
interleaving changes how many audit entries share a batch.
"""

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from authorize_plate import asks_for, seeded
from harness import PASSWORD, REPO, configs, free_port, open_connection, read_response, wait_listening


async def ask(port, connections, total, make_for):
    """``total`` questions, ``total // connections`` on each connection: the answers that were not 200s."""
    bad = []

    async def one(c):
        reader, writer = await open_connection(port)
        make = make_for(c)
        for n in range(total // connections):
            writer.write(make(n))
            status, body = await read_response(reader)
            if status != 200:
                bad.append((status, body[:300]))
        writer.close()
    await asyncio.gather(*(one(c) for c in range(connections)))
    return bad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", nargs="?", type=Path, default=REPO)
    parser.add_argument("--permits", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    repo = args.checkout.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        db = f"sqlite:///{home}/bench.db"
        seeded(repo, db, args.permits)
        config = configs.gateway(configs.facility("LOT-BENCH", configs.lane("CAM-IN", 1, "ENTRY"),
                                                  configs.lane("CAM-OUT", 2, "EXIT")),
                                 database_url=db, server={"threads": args.threads}, metrics={"enabled": False})
        port = free_port()
        cfg = home / "bench.toml"
        cfg.write_text(configs.toml({**config, "server": {**config["server"], "listen": f"127.0.0.1:{port}"}}))
        cli = [sys.executable, "-m", "gateway", "--config", str(cfg)]
        subprocess.run(cli + ["user", "add", "bench", "--role", "integrator", "--password", PASSWORD],
                       check=True, capture_output=True, cwd=repo)
        out, log = home / "callgrind.out", home / "server.log"
        with open(log, "w") as err:
            server = subprocess.Popen(["valgrind", "--tool=callgrind", "--separate-threads=yes",
                                       f"--callgrind-out-file={out}"] + cli + ["serve"],
                                      cwd=repo, stdout=subprocess.DEVNULL, stderr=err)
        try:
            if not wait_listening(port, 600):
                raise SystemExit("the gateway did not start: " + log.read_text()[-2000:])
            while "parkgate listening" not in log.read_text():   # the site listens before the services start
                if server.poll() is not None:
                    raise SystemExit("the gateway stopped: " + log.read_text()[-2000:])
                time.sleep(0.5)
            asks = asks_for(args.permits)
            bad = asyncio.run(ask(port, 1, 5, asks))   # the slow password hash, once
            bad += asyncio.run(ask(port, args.connections, 200, asks))
            subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True, capture_output=True)
            bad += asyncio.run(ask(port, args.connections, args.requests, asks))
            subprocess.run(["callgrind_control", "-d", str(server.pid)], check=True, capture_output=True)
        finally:
            server.terminate()
            server.wait(120)
        if bad:
            raise SystemExit(f"{len(bad)} answers were not 200, first: {bad[0]!r}")
        threads = {}   # thread number -> instructions, from the dump after the zeroing (part 1)
        for dump in home.glob("callgrind.out.1-*"):
            text = dump.read_text(errors="replace")
            thread, total = re.search(r"^thread: (\d+)", text, re.M), re.search(r"^summary: (\d+)", text, re.M)
            threads[int(thread.group(1))] = int(total.group(1))
    n = args.requests
    whole, reactor = sum(threads.values()), threads.get(1, 0)
    print(f"AuthorizePlate under callgrind: {args.permits} permits, {n} requests on {args.connections} connections, "
          f"{args.threads} request threads, {repo}")
    print(f"instructions a request: whole server {whole / n / 1e6:.3f} M, reactor thread {reactor / n / 1e6:.3f} M, "
          f"other threads {(whole - reactor) / n / 1e6:.3f} M")


if __name__ == "__main__":
    main()
