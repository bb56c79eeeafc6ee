#!/usr/bin/env python3
"""What sealing costs per call (this process, one core): a plate sealed and opened, a 1.5 kB
document sealed and opened, a blind index. A lane event seals its plate, answer and fingerprint
and blinds its plate a few times; compare with SubmitEvent's server CPU per event
(``bench/soap_events.py --baseline`` measures the whole of it against a checkout in clear).

    .venv/bin/python bench/sealing.py
"""

import os
import tempfile
import timeit
from pathlib import Path

from gateway.store.keyring import KeyRing, init


def main():
    with tempfile.TemporaryDirectory() as tmp:
        init(Path(tmp) / "keys.json")
        ring = KeyRing.load(Path(tmp) / "keys.json")
    document = "x" * 1500
    sealed_plate, sealed_doc = ring.seal_text("AB123CD"), ring.seal_text(document)
    costs = {"seal plate": lambda: ring.seal_text("AB123CD"), "open plate": lambda: ring.open_text(sealed_plate),
             "seal 1.5 kB": lambda: ring.seal_text(document), "open 1.5 kB": lambda: ring.open_text(sealed_doc),
             "blind index": lambda: ring.blind("AB123CD")}
    print(f"sealing, per call ({os.cpu_count()} cores, shared):")
    for name, call in costs.items():
        print(f"  {name:<12} {min(timeit.repeat(call, number=5000, repeat=5)) / 5000 * 1e6:6.1f} us")


if __name__ == "__main__":
    main()
