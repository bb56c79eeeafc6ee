#!/usr/bin/env python3
"""The disk's floor under a durable commit: how long a 4 KiB write and its fsync take here.

Every AuthorizePlate waits for its audit entry to be durable (one sync per commit group), so no
answer can come faster than the disk syncs. Writes in a temporary folder beside the databases
(``--dir``: elsewhere), one at a time.

    .venv/bin/python bench/disk_sync.py [--count 500] [--dir DIR]
"""

import argparse
import os
import tempfile
import time

from harness import latency_summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--dir", help="default: the system's temporary folder")
    args = parser.parse_args()
    block = os.urandom(4096)
    took = []
    with tempfile.NamedTemporaryFile(dir=args.dir) as f:
        for _ in range(args.count):
            started = time.perf_counter()
            f.write(block)
            f.flush()
            os.fsync(f.fileno())
            took.append(time.perf_counter() - started)
    print(f"fsync of 4 KiB appended, {args.count} times: {latency_summary(took)}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
