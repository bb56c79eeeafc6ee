#!/usr/bin/env python3
"""The audit log's append (``gateway.store.audit.record_all``): CPU per entry, in batches as
``Audit.record`` writes them (AuthorizePlate's entries: one plate each), and for listings that show
plates (``audit_plates``).

Each measurement runs in a process of its own on a fresh SQLite file (the schema made from the
models), the checkout's code imported there; with ``--baseline``, every checkout is measured in
turns, ``--rounds`` times, so the columns share the machine's state of the moment.

    .venv/bin/python bench/audit_append.py [--baseline CHECKOUT] [--rounds 5] [--entries 20000]
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Run in the checkout's folder: prints "<kind> <CPU us per entry>" for each kind.
MEASURE = """
import os, sys, tempfile, time
from datetime import datetime, timezone
from sqlalchemy import create_engine, event
from gateway.domain.audit import AuditKeys
from gateway.store import audit
from gateway.store.schema import Base

entries, batch = int(sys.argv[1]), int(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    engine = create_engine(f"sqlite:///{tmp}/bench.db")
    event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA synchronous = OFF"))
    Base.metadata.create_all(engine)
    audit.use_keys(AuditKeys(os.urandom(32)))
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    kinds = {
        "authorize": lambda i: audit.Entry(at, "parcs", "AuthorizePlate", f"LOT-1/lane {i % 8}", "GRANTED",
                                           plate=f"AB{i:06d}", address="10.0.0.7"),
        "listing": lambda i: audit.Entry(at, "enforcement", "ListHotlist", "hotlist", "50 shown",
                                         plates=tuple(f"L{i % 97}P{n:03d}" for n in range(50))),
    }
    for kind, make in kinds.items():
        count = entries if kind == "authorize" else entries // 50
        for warm in (True, False):
            started = time.process_time()
            for first in range(0, count, batch):
                with engine.begin() as conn:
                    audit.record_all(conn, [make(i) for i in range(first, min(first + batch, count))])
            if not warm:
                print(kind, (time.process_time() - started) / count * 1e6)
"""


def measure(repo, entries, batch):
    run = subprocess.run([sys.executable, "-c", MEASURE, str(entries), str(batch)], cwd=repo, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(repo)})
    return {kind: float(us) for kind, us in (line.split() for line in run.stdout.splitlines())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, action="append", default=[],
                        help="another checkout, measured in turns with this one (repeatable)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--entries", type=int, default=20_000, help="AuthorizePlate entries per measurement")
    parser.add_argument("--batch", type=int, default=8, help="entries per unit of work (Audit.record's batches)")
    args = parser.parse_args()
    checkouts = {"this": REPO} | {path.resolve().name: path.resolve() for path in args.baseline}
    print(f"audit append: {os.cpu_count()} cores, {args.entries} AuthorizePlate entries and "
          f"{args.entries // 50} listings of 50 plates per measurement, {args.batch} a unit of work, "
          f"{args.rounds} rounds in turns; CPU us per entry")
    found = {label: {} for label in checkouts}
    for _ in range(args.rounds):
        for label, repo in checkouts.items():
            for kind, us in measure(repo, args.entries, args.batch).items():
                found[label].setdefault(kind, []).append(us)
    width = max(len(label) for label in checkouts) + 2
    for label, kinds in found.items():
        print(f"{label.ljust(width)}" + "   ".join(
            f"{kind} median {statistics.median(v):7.1f} (min {min(v):7.1f}, max {max(v):7.1f})"
            for kind, v in kinds.items()))


if __name__ == "__main__":
    main()
