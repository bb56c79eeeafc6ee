#!/usr/bin/env python3
"""``audit verify`` (``gateway.app.audit.Audit.verify``) over a log whose listings hold the tombstones
of plates erased since: CPU and wall time of the check for N erasures x M tombstones, and the
erasures' CPU per tombstone left.

Before 0143 verify tried every erased plate's hash on every tombstone (an HMAC a pair); since, it
opens the plate's hash sealed beside each one. Each measurement runs in a process of its own on a
fresh SQLite file (the schema made from the models), the checkout's code imported there, so a
checkout from before writes and checks its own tombstones; with ``--baseline``, every checkout is
measured in turns, ``--rounds`` times, so the columns share the machine's state of the moment.
Each listing shows ``--shown`` erased plates and 10 kept; each erased plate is in M/N listings.

    .venv/bin/python bench/audit_verify.py [--baseline CHECKOUT] [--sizes 100x10000,1000x10000] [--rounds 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Run in the checkout's folder: prints "<erase CPU us per tombstone> <verify CPU s> <verify wall s>".
MEASURE = """
import os, sys, tempfile, time
from datetime import datetime, timezone
from gateway.app.audit import Audit
from gateway.domain.audit import AuditKeys
from gateway.store import audit
from gateway.store.engine import Store
from gateway.store.keyring import KeyRing, init
from gateway.store.schema import Base

erasures, tombstones, shown = map(int, sys.argv[1:4])
shown = min(shown, erasures)
groups = erasures // shown                 # listing j shows the erased plates of group j % groups
listings = tombstones // shown
at = datetime(2026, 1, 1, tzinfo=timezone.utc)
with tempfile.TemporaryDirectory() as tmp:
    init(f"{tmp}/keys.json")
    store = Store(f"sqlite:///{tmp}/bench.db", sqlite_synchronous="OFF", keys=KeyRing.load(f"{tmp}/keys.json"))
    Base.metadata.create_all(store.engine)
    audit.use_keys(AuditKeys(os.urandom(32)))
    plates = [f"ER{i:06d}" for i in range(groups * shown)]
    for first in range(0, listings, 64):
        with store.connection() as conn:
            audit.record_all(conn, [audit.Entry(
                at, "enforcement", "ListHotlist", "hotlist", "shown",
                plates=(*plates[j % groups * shown:(j % groups + 1) * shown], *(f"KP{j:06d}{n}" for n in range(10))))
                for j in range(first, min(first + 64, listings))])
    started, left = time.process_time(), 0
    for plate in plates:
        with store.connection() as conn:
            left += audit.forget_plate(conn, plate)
            audit.record(conn, at, "admin", "ErasePlate", "plate", "bench", plate=plate)
    erase_us = (time.process_time() - started) / left * 1e6
    log = Audit(store, lambda: at)
    cpu, wall = time.process_time(), time.perf_counter()
    check = log.verify()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert check.verified and left == listings * shown, (check, left)
    print(erase_us, cpu, wall)
    store.dispose()
"""


def measure(repo, erasures, tombstones, shown):
    run = subprocess.run([sys.executable, "-c", MEASURE, str(erasures), str(tombstones), str(shown)], cwd=repo,
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(repo)})
    return tuple(float(v) for v in run.stdout.split())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, action="append", default=[],
                        help="another checkout, measured in turns with this one (repeatable)")
    parser.add_argument("--sizes", default="100x10000,1000x10000",
                        help="erasures x tombstones, comma-separated (default: %(default)s)")
    parser.add_argument("--shown", type=int, default=50, help="erased plates each listing shows")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    checkouts = {"this": REPO} | {path.resolve().name: path.resolve() for path in args.baseline}
    print(f"audit verify: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, listings of {args.shown} erased "
          f"plates and 10 kept, {args.rounds} rounds in turns; SQLite")
    width = max(len(label) for label in checkouts) + 2
    for erasures, tombstones in sizes:
        found: dict[str, list[tuple[float, ...]]] = {label: [] for label in checkouts}
        for _ in range(args.rounds):
            for label, repo in checkouts.items():
                found[label].append(measure(repo, erasures, tombstones, args.shown))
        print(f"{erasures} erasures x {tombstones} tombstones:")
        for label, runs in found.items():
            erase_us, cpu, wall = (statistics.median(column) for column in zip(*runs))
            print(f"  {label.ljust(width)}verify CPU median {cpu:8.2f} s (min {min(r[1] for r in runs):8.2f}, "
                  f"max {max(r[1] for r in runs):8.2f}), wall {wall:8.2f} s, "
                  f"{cpu / tombstones * 1e6:7.2f} us a tombstone; erasure {erase_us:6.1f} us a tombstone")


if __name__ == "__main__":
    main()
