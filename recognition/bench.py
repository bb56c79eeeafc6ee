"""Accuracy, calibration and speed of the recogniser on folders in the dataset format
(``NAME.jpg`` with ``NAME.txt``: ``NAME.jpg x y w h PLATE``)."""

import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from .images import ImageRejected, decode
from .regions import normalise

THRESHOLDS = (0.5, 0.7, 0.85, 0.95)


@dataclass
class Sample:
    image: Path
    plate: str
    box: tuple


def samples(folder):
    for label in sorted(Path(folder).glob("*.txt")):
        fields = label.read_text().split()
        if len(fields) < 6:
            continue
        image = label.parent / fields[0]
        if image.exists():
            yield Sample(image, normalise(fields[5]), tuple(int(v) for v in fields[1:5]))


def overlaps(a, b):
    """The reading's box covers the labelled plate's centre (it found the plate)."""
    if a is None:
        return False
    cx, cy = b[0] + b[2] / 2, b[1] + b[3] / 2
    return a[0] <= cx <= a[0] + a[2] and a[1] <= cy <= a[1] + a[3]


def run(recognizer, folder, out=sys.stdout, progress=sys.stderr):
    items = list(samples(folder))
    rows = []
    for n, sample in enumerate(items, 1):
        try:
            reading = recognizer.recognize(decode(sample.image.read_bytes()))
        except ImageRejected:
            rows.append((sample, None))
            continue
        rows.append((sample, reading))
        if progress is not None:
            done = int(30 * n / len(items))
            progress.write(f"\r{Path(folder).name:<10} [{'#' * done}{'.' * (30 - done)}] {n}/{len(items)}")
            progress.flush()
    if progress is not None:
        progress.write("\n")
    report(Path(folder).name, rows, out)
    return rows


def report(name, rows, out):
    total = len(rows)
    if not total:
        print(f"{name}: no samples", file=out)
        return
    read = [(s, r) for s, r in rows if r is not None]
    exact = sum(r.plate == s.plate for s, r in read)
    within = sum(s.plate in [t for t, _ in r.candidates] for s, r in read)
    found = sum(overlaps(r.box, s.box) for s, r in read)
    latencies = sorted(r.timings["total"] for _, r in read)
    print(f"{name}: {total} images  exact {exact / total:.1%}  within candidates {within / total:.1%}  "
          f"plate found {found / total:.1%}  latency p50 {statistics.median(latencies):.0f} ms  "
          f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.0f} ms", file=out)
    for threshold in THRESHOLDS:
        taken = [(s, r) for s, r in read if r.plate and r.confidence >= threshold]
        right = sum(r.plate == s.plate for s, r in taken)
        precision = right / len(taken) if taken else 1.0
        print(f"  confidence >= {threshold:.2f}: precision {precision:.1%}  coverage {len(taken) / total:.1%}",
              file=out)
