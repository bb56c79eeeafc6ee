"""How well the entry/exit picture score separates the same vehicle from another one.

Photos of ../shared/datasets/alpr-dev that show one plate more than once are pairs of the same
vehicle; each of those photos against others (a fixed sample) are pairs of different vehicles.
Measurement only: nothing is tuned on these photos. Prints, for seed 001's histogram score and
for recognition.vehicle_match's (histogram + ORB/RANSAC structure), the scores of both kinds of
pairs and the separation (ROC AUC: the chance that a same-vehicle pair scores above a different one).

    .venv/bin/python bench/image_match.py [--others 20]
"""

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recognition.vehicle_match import decode, histogram_score, structure_score  # noqa: E402

DATA = REPO.parent / "shared" / "datasets" / "alpr-dev"


def photos():
    by_plate = defaultdict(list)
    for label in sorted(DATA.glob("*/*.txt")):
        name, *_, plate = label.read_text().split()
        by_plate[plate].append(label.parent / name)
    return by_plate


def auc(same, different):
    wins = sum((s > d) + 0.5 * (s == d) for s in same for d in different)
    return wins / (len(same) * len(different))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=20, help="different-vehicle photos per photo")
    args = parser.parse_args()
    by_plate = photos()
    everyone = [p for ps in by_plate.values() for p in ps]
    repeated = [ps for ps in by_plate.values() if len(ps) > 1]
    same = [(a, b) for ps in repeated for i, a in enumerate(ps) for b in ps[i + 1:]]
    rng = random.Random(16)
    plate_of = {p: plate for plate, ps in by_plate.items() for p in ps}
    different = [(a, b) for ps in repeated for a in ps
                 for b in rng.sample([x for x in everyone if plate_of[x] != plate_of[a]], args.others)]
    cache = {}

    def image(path):
        if path not in cache:
            cache[path] = decode(path.read_bytes())
        return cache[path]

    scorers = {"histogram (seed 001)": lambda a, b: histogram_score(a, b),
               "histogram + ORB/RANSAC": lambda a, b: 0.5 * histogram_score(a, b) + 0.5 * structure_score(a, b)}
    print(f"alpr-dev: {len(same)} same-vehicle pairs, {len(different)} different-vehicle pairs")
    for name, score in scorers.items():
        started = time.perf_counter()
        s = [score(image(a), image(b)) for a, b in same]
        d = [score(image(a), image(b)) for a, b in different]
        per_pair = (time.perf_counter() - started) / (len(s) + len(d)) * 1000
        print(f"{name:24} same: mean {statistics.mean(s):.3f} min {min(s):.3f} | different: mean "
              f"{statistics.mean(d):.3f} max {max(d):.3f} p95 {sorted(d)[int(len(d) * 0.95)]:.3f} | "
              f"AUC {auc(s, d):.3f} | {per_pair:.1f} ms/pair")


if __name__ == "__main__":
    main()
