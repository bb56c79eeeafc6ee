"""Accuracy, calibration and speed of recognisers on folders in the dataset format
(``NAME.jpg`` with ``NAME.txt``: ``NAME.jpg x y w h PLATE``).

Several recognisers are compared in one run, image by image (each image is read by every
recogniser in turn), so that the machine's noise falls on all of them alike; the figures
are printed side by side, with the precision per confidence bin (the reliability diagram).
"""

import importlib.util
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from .calibration import reliability
from .images import ImageRejected, decode
from .regions import normalise

THRESHOLDS = (0.5, 0.7, 0.85, 0.9, 0.95, 0.97, 0.99)


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


def baseline(root, reader="plate", precision="f32", regions_allowed=None):
    """The recogniser of another checkout (``root``: e.g. ``git worktree add /tmp/base main``), its
    ``recognition`` package imported under a name of its own, to be read beside this one in one
    run: old and new code on the same images at the same moment of a noisy machine."""
    name = "baseline_recognition"
    if name not in sys.modules:
        package = Path(root) / "recognition"
        spec = importlib.util.spec_from_file_location(name, package / "__init__.py",
                                                      submodule_search_locations=[str(package)])
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"no recognition package under {root}")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return importlib.import_module(f"{name}.pipeline").recognizer(reader, precision, regions_allowed)


def run(recognizers, folder, out=None, progress=None):
    """``recognizers``: {name: PlateRecognizer} (or one recogniser). Returns {name: rows}.
    ``out``, ``progress``: the figures' and the progress bar's streams (stdout, stderr as they
    are at the call)."""
    out, progress = out or sys.stdout, progress or sys.stderr
    if not isinstance(recognizers, dict):
        recognizers = {"reader": recognizers}
    items = list(samples(folder))
    rows = {name: [] for name in recognizers}
    for n, sample in enumerate(items, 1):
        try:
            image = decode(sample.image.read_bytes())
        except ImageRejected:
            image = None
        for name, recognizer in recognizers.items():
            rows[name].append((sample, recognizer.recognize(image) if image is not None else None))
        done = int(30 * n / len(items))
        progress.write(f"\r{Path(folder).name:<10} [{'#' * done}{'.' * (30 - done)}] {n}/{len(items)}")
        progress.flush()
    progress.write("\n")
    report(Path(folder).name, rows, out)
    return rows


def figures(rows):
    """The figures of one recogniser's rows [(Sample, Reading or None)]."""
    total = len(rows)
    read = [(s, r) for s, r in rows if r is not None]
    latencies = sorted(r.timings["total"] for _, r in read) or [0.0]
    confidences = [r.confidence if r is not None and r.plate else 0.0 for _, r in rows]
    correct = [r is not None and r.plate == s.plate for s, r in rows]
    out = {"images": total, "exact": sum(correct) / total,
           "within candidates": sum(s.plate in [t for t, _ in r.candidates] for s, r in read) / total,
           "plate found": sum(overlaps(r.box, s.box) for s, r in read) / total,
           "latency p50 ms": statistics.median(latencies),
           "latency p95 ms": latencies[int(0.95 * (len(latencies) - 1))], "at": {}}
    for threshold in THRESHOLDS:
        taken = [c for p, c in zip(confidences, correct) if p >= threshold]
        out["at"][threshold] = (sum(taken) / len(taken) if taken else 1.0, len(taken) / total)
    out["bins"] = reliability(confidences, correct)
    return out


def report(name, rows, out):
    """Side by side: one column per recogniser."""
    names = list(rows)
    if not rows[names[0]]:
        print(f"{name}: no samples", file=out)
        return
    figs = {n: figures(rows[n]) for n in names}
    width = max(22, *(len(n) + 2 for n in names))
    line = "".join

    def row(label, cell):
        print(f"  {label:<30}" + line(f"{cell(figs[n]):>{width}}" for n in names), file=out)

    print(f"{name}: {figs[names[0]]['images']} images", file=out)
    print(f"  {'':<30}" + line(f"{n:>{width}}" for n in names), file=out)
    for key in ("exact", "within candidates", "plate found"):
        row(key, lambda f, key=key: f"{f[key]:.1%}")
    for key in ("latency p50 ms", "latency p95 ms"):
        row(key, lambda f, key=key: f"{f[key]:.0f}")
    for threshold in THRESHOLDS:
        row(f"confidence >= {threshold:.2f}",
            lambda f, t=threshold: f"{f['at'][t][0]:.1%} prec {f['at'][t][1]:.1%} cov")
    print("  reliability (precision per confidence bin, readings in it):", file=out)
    for i, (low, high, *_rest) in enumerate(figs[names[0]]["bins"]):
        row(f"  [{low:.2f}, {high:.2f})", lambda f, i=i: "-" if f["bins"][i][3] is None
            else f"{f['bins'][i][3]:.0%} of {f['bins'][i][2]}")
