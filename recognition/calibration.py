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

LOOK_ALIKES = [set("0ODQU"), set("1IJLT"), set("8B"), set("5S"), set("2Z"), set("6G"), set("4A"), set("7T")]


@dataclass(frozen=True)
class Evidence:
    least: float            # the least sure character's probability (plate reader)
    mean: float             # the characters' mean probability
    margin: float           # the smallest gap between a character and its runner-up
    look_alikes: int        # characters whose runner-up is their look-alike, a tenth as likely or more
    recut_agrees: bool      # a second, wider cut of the plate reads the same
    scene_agrees: bool      # the scene's reading (another engine, another scale) fits to the same
    scene: float            # the scene reading's score
    fixes: float            # what the region rules' fixes cost
    regions: int            # how many regions' formats the text fits
    generic: bool           # it fits only North America's any-mix formats
    height: float           # the plate's text height in pixels of the full-size image
    rival: float            # the best other candidate's reader score (0: none)
    length: int

    def vector(self):
        logit = _logit
        return np.array([
            logit(self.least), logit(self.mean), self.margin, min(self.look_alikes, 3), float(self.recut_agrees),
            float(self.scene_agrees), logit(self.scene), self.fixes * 10, min(self.regions, 4) - 1,
            float(self.generic), math.log2(max(self.height, 4.0) / 24), logit(self.rival) if self.rival else -5.0,
            self.length - 7, 1.0], dtype=np.float64)


FEATURES = ("least", "mean", "margin", "look_alikes", "recut_agrees", "scene_agrees", "scene", "fixes", "regions",
            "generic", "height", "rival", "length", "bias")


def _logit(p):
    p = min(max(float(p), 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def look_alike(a, b):
    return any(a in group and b in group for group in LOOK_ALIKES)


@dataclass(frozen=True)
class Calibration:
    weights: tuple
    fitted_on: str = ""

    def probability(self, evidence):
        z = float(np.dot(self.weights, evidence.vector()))
        return 1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0)))

    @classmethod
    def load(cls, path):
        raw = json.loads(Path(path).read_text())
        if tuple(raw["features"]) != FEATURES:
            raise ValueError(f"{path}: fitted on other features ({raw['features']})")
        return cls(tuple(raw["weights"]), raw.get("fitted_on", ""))

    def save(self, path, **extra):
        Path(path).write_text(json.dumps({"features": FEATURES, "weights": list(self.weights),
                                          "fitted_on": self.fitted_on, **extra}, indent=1) + "\n")


def fit(evidence, correct, l2=1.0, fitted_on=""):
    """A :class:`Calibration` by L2-regularised logistic regression (Newton's method)."""
    x = np.stack([e.vector() for e in evidence])
    y = np.asarray(correct, dtype=np.float64)
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0   # the bias is not shrunk
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Calibration(tuple(float(v) for v in w), fitted_on)


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

