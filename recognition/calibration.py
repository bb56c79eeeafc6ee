"""Confidence as a calibrated probability that the plate read is the plate.

The pipeline gathers the evidence of a reading (:class:`Evidence`): how sure the plate reader
was of its least and of its average character, how close each character's runner-up came and
whether that runner-up is its look-alike (0/O/D/Q, 1/I/L/T, 8/B, 5/S, 2/Z, 6/G), whether a
second cut of the plate and the scene reading say the same, what the region rules had to fix,
how many regions' formats the text fits, the plate's height in pixels and the best rival
reading. A logistic model of those (:class:`Calibration`) gives the probability; it is fitted
on readings of the calibration split (``python -m recognition.training``), never on a photo
it is judged on, and stored as JSON beside the model.
"""

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .platemodel import LOOK_ALIKES


@dataclass(frozen=True)
class Evidence:
    least: float            # the least sure character's probability (plate reader)
    mean: float             # the characters' mean probability
    margin: float           # the smallest gap between a character and its runner-up
    look_alikes: int        # characters whose runner-up is their look-alike, a tenth as likely or more
    recut_agrees: bool      # every other cut of the plate (wider; longer to the left) reads the same
    scene_agrees: bool      # the scene's reading (another engine, another scale) fits to the same
    scene: float            # the scene reading's score
    fixes: float            # what the region rules' fixes cost
    regions: int            # how many regions' formats the text fits
    generic: bool           # it fits only North America's any-mix formats
    height: float           # the plate's text height in pixels of the full-size image
    rival: float            # the best other candidate's reader score (0: none)
    length: int
    guesses: int = 0        # characters where a look-alike would make another plate the region rules admit
    guess_mass: float = 0.0  # the probability the reader gave those look-alikes, summed
    alike_mass: float = 0.0  # the most probability a look-alike got at any character (rules settle it or not)
    longer: bool = False    # another cut reads a plate one character longer around this one (one dropped?)

    def values(self):
        """{feature: value} as the logistic model takes them (:data:`FEATURES`)."""
        logit = _logit
        return {
            "least": logit(self.least), "mean": logit(self.mean), "margin": self.margin,
            "look_alikes": min(self.look_alikes, 3), "recut_agrees": float(self.recut_agrees),
            "scene_agrees": float(self.scene_agrees), "scene": logit(self.scene), "fixes": self.fixes * 10,
            "regions": min(self.regions, 4) - 1, "generic": float(self.generic),
            "height": math.log2(max(self.height, 4.0) / 24), "rival": logit(self.rival) if self.rival else -5.0,
            "length": self.length - 7, "bias": 1.0, "guesses": min(self.guesses, 3),
            "guess_mass": _log_mass(self.guess_mass), "alike_mass": _log_mass(self.alike_mass),
            "longer": float(self.longer)}

    def vector(self, features=None):
        values = self.values()
        return np.array([values[name] for name in features or FEATURES], dtype=np.float64)


FEATURES = ("least", "mean", "margin", "look_alikes", "recut_agrees", "scene_agrees", "scene", "fixes", "regions",
            "generic", "height", "rival", "length", "bias", "guesses", "guess_mass", "alike_mass", "longer")


def _logit(p):
    p = min(max(float(p), 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _log_mass(p):
    """A probability mass on a log scale from 0 (1e-4 or less) to 4 (all of it)."""
    return math.log10(max(float(p), 1e-4)) + 4


def look_alike(a, b):
    return any(a in group and b in group for group in LOOK_ALIKES)


#: The plate recogniser's cuts of a candidate a file that names none was fitted with (round 1:
#: as found and wider; see ``recognition.pipeline.CUTS``).
TWO_CUTS = ((0.08, 0.08, 0.0), (0.3, 0.15, 0.0))


@dataclass(frozen=True)
class Calibration:
    """Weights by feature name (``features``: a subset of :data:`FEATURES`, the file's own, so a
    calibration fitted on fewer features still loads and means what it meant). ``cuts``: how
    the readings it was fitted on were cut (None: as the pipeline cuts now)."""
    weights: tuple
    fitted_on: str = ""
    features: tuple = FEATURES
    cuts: tuple | None = None

    def probability(self, evidence):
        z = float(np.dot(self.weights, evidence.vector(self.features)))
        return 1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0)))

    @classmethod
    def load(cls, path):
        raw = json.loads(Path(path).read_text())
        unknown = set(raw["features"]) - set(FEATURES)
        if unknown or len(raw["features"]) != len(raw["weights"]):
            raise ValueError(f"{path}: fitted on other features ({raw['features']})")
        cuts = tuple(tuple(float(v) for v in cut) for cut in raw.get("cuts", TWO_CUTS))
        return cls(tuple(raw["weights"]), raw.get("fitted_on", ""), tuple(raw["features"]), cuts)

    def save(self, path, **extra):
        cuts = {"cuts": [list(c) for c in self.cuts]} if self.cuts else {}
        Path(path).write_text(json.dumps({"features": self.features, "weights": list(self.weights),
                                          "fitted_on": self.fitted_on, **cuts, **extra}, indent=1) + "\n")


#: The reader's own sureness: the surer it is, the likelier the reading, never the less likely.
#: ``least`` and ``mean`` are nearly collinear, and a free fit can trade one against the other
#: (round 5: ``mean`` -0.53 against ``least`` 0.74), which makes a reading at 0.99 come out less
#: likely than one at 0.5; :func:`fit` keeps these weights at 0 or above.
SURENESS = ("least", "mean", "margin", "scene")


def fit(evidence, correct, l2=1.0, fitted_on="", weights=None, features=FEATURES, cuts=None, monotone=SURENESS):
    """A :class:`Calibration` by L2-regularised logistic regression (Newton's method).
    ``weights``: each reading's weight (e.g. camera crops weighed as much as all renders);
    they are scaled to sum to the number of readings, so ``l2`` means the same either way.
    ``monotone``: features whose weight may not be negative; the most negative of them is held
    at 0 and the rest refitted, until none is negative (a feature held at 0 stays there)."""
    x = np.stack([e.vector(features) for e in evidence])
    y = np.asarray(correct, dtype=np.float64)
    s = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    s = s * len(y) / s.sum()
    free = np.ones(x.shape[1], bool)
    while True:
        w = np.zeros(x.shape[1])
        w[free] = _newton(x[:, free], y, s, l2, [f for f, k in zip(features, free) if k])
        negative = [i for i, f in enumerate(features) if f in monotone and free[i] and w[i] < 0]
        if not negative:
            return Calibration(tuple(float(v) for v in w), fitted_on, tuple(features), cuts)
        free[min(negative, key=lambda i: w[i])] = False


def _newton(x, y, s, l2, features):
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[list(features).index("bias")] = 0.0   # the bias is not shrunk
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (s * (p - y)) + penalty * w
        hessian = (x * (s * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


BINS = (0.0, 0.5, 0.7, 0.85, 0.9, 0.95, 0.97, 0.99, 1.0001)


def reliability(confidences, correct, bins=BINS):
    """[(low, high, count, precision, mean confidence)] per confidence bin: a calibrated
    confidence has precision close to its mean in every bin."""
    confidences, correct = np.asarray(confidences, float), np.asarray(correct, bool)
    rows = []
    for low, high in itertools.pairwise(bins):
        inside = (confidences >= low) & (confidences < high)
        n = int(inside.sum())
        rows.append((low, min(high, 1.0), n, float(correct[inside].mean()) if n else None,
                     float(confidences[inside].mean()) if n else None))
    return rows


def weighted_precision(confidences, correct, weights, threshold):
    """(precision, coverage) of the readings at ``threshold`` or above, each counted by its weight."""
    c, y, w = (np.asarray(v, float) for v in (confidences, correct, weights))
    taken = c >= threshold
    if not taken.any():
        return None, 0.0
    return float((y * w)[taken].sum() / w[taken].sum()), float(w[taken].sum() / w.sum())

