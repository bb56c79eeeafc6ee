"""Fitting the confidence on the calibration split and judging it on the test split (no torch).

Both splits are scenes made around plates of their split (:mod:`scenes`): the real crops of
that split and renders whose texts fall in it. The whole pipeline reads each scene (the scene
reading, the plate recogniser's two re-reads, the region rules); the chosen reading's
evidence and whether it was right are what the logistic model is fitted on. The test split is
read once with the fitted calibration: exact reads, precision and coverage at thresholds and
the reliability per confidence bin, by source. None of it comes near alpr-dev.
"""

import json
import time
from pathlib import Path

import numpy as np

from .. import calibration
from . import data
from .augment import light
from .render import Renderer
from .scenes import scene

RENDERS = {"US": 500, "EU": 400, "BR": 100, "UK": 50}
THRESHOLDS = (0.5, 0.7, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99)
PRECISION = 0.99   # the precision the recommended threshold must give on the calibration split


def scenes_of(root, split, seed, renders=RENDERS, per_source=150):
    """(frame, plate, source), made one at a time: every split's real crop (at most
    ``per_source`` of each folder) and ``renders`` in a scene each."""
    rng = np.random.default_rng([seed, 3, list(data.SPLITS).index(split)])
    count = {}
    for crop in data.crops(root, split):
        count[crop.source] = count.get(crop.source, 0) + 1
        if count[crop.source] <= per_source:
            yield scene(rng, light(rng, crop.image()))[0], crop.plate, crop.source
    renderer = Renderer(rng, split)
    for region, n in renders.items():
        for _ in range(n):
            plate = renderer.render(region)
            yield scene(rng, plate.image, plate.box)[0], plate.plate, f"render-{region}"


def read_all(recognizer, scenes, log, every=200):
    """[(Reading, truth, source)]."""
    rows, started = [], time.monotonic()
    for n, (frame, plate, source) in enumerate(scenes, 1):
        rows.append((recognizer.recognize(frame), plate, source))
        if n % every == 0:
            log(f"  read {n} scenes ({(time.monotonic() - started) / n * 1000:.0f} ms each)")
    return rows


def recognizer_for(model, weights=None):
    """The pipeline with ``model`` re-reading, calibrated by ``weights`` (neutral: evidence only)."""
    from ..pipeline import PlateRecognizer, PPOCRReader
    cal = weights or calibration.Calibration((0.0,) * len(calibration.FEATURES))
    return PlateRecognizer(PPOCRReader(recogniser="plate", model=model), calibration=cal)


def calibration_path(model):
    return Path(model).with_suffix(".calibration.json")


def calibrate(root, model, work, seed=1, log=print):
    """Fit the calibration of ``model``'s readings; saved beside it; returns the summary."""
    started = time.monotonic()
    log("calibration split: reading scenes")
    rows = read_all(recognizer_for(model), scenes_of(root, "calibration", seed), log)
    taken = [(r.evidence, r.plate == truth) for r, truth, _ in rows if r.evidence is not None]
    fitted = calibration.fit([e for e, _ in taken], [c for _, c in taken],
                             fitted_on=f"calibration split of plate-crops and renders (seed {seed}): "
                                       f"{len(taken)} readings")
    confidences = [fitted.probability(e) for e, _ in taken]
    threshold = recommended_threshold(confidences, [c for _, c in taken], len(rows))
    summary = {"scenes": len(rows), "readings": len(taken), "exact": _share(r.plate == t for r, t, _ in rows),
               "weights": dict(zip(calibration.FEATURES, fitted.weights)), "recommended_threshold": threshold,
               "seconds": round(time.monotonic() - started, 1)}
    fitted.save(calibration_path(model), recommended_threshold=threshold)
    log(f"fitted on {len(taken)} readings (exact {summary['exact']:.1%}); threshold for {PRECISION:.0%} "
        f"precision: {threshold}")
    return summary


def recommended_threshold(confidences, correct, total, grid=THRESHOLDS):
    """The lowest of ``grid`` at which precision reaches :data:`PRECISION` (None if none does)."""
    for t in grid:
        taken = [c for p, c in zip(confidences, correct) if p >= t]
        if taken and np.mean(taken) >= PRECISION:
            return t
    return None


def judge(root, model, work, seed=1, log=print):
    """Exact reads, precision and coverage, reliability: the test split, read with the calibration."""
    started = time.monotonic()
    fitted = calibration.Calibration.load(calibration_path(model))
    log("test split: reading scenes")
    rows = read_all(recognizer_for(model, fitted), scenes_of(root, "test", seed), log)
    result = {"all": summarise(rows)}
    for source in sorted({s for _, _, s in rows}):
        result[source] = summarise([row for row in rows if row[2] == source])
    result["seconds"] = round(time.monotonic() - started, 1)
    for name, figures in result.items():
        if isinstance(figures, dict):
            log(f"{name}: {json.dumps(figures)}")
    return result


def summarise(rows):
    confidences = [r.confidence if r.plate else 0.0 for r, _, _ in rows]
    correct = [r.plate == truth for r, truth, _ in rows]
    out = {"n": len(rows), "exact": round(_share(correct), 4), "at": {}}
    for t in THRESHOLDS:
        taken = [c for p, c in zip(confidences, correct) if p >= t]
        out["at"][str(t)] = {"precision": round(float(np.mean(taken)), 4) if taken else None,
                             "coverage": round(len(taken) / max(len(rows), 1), 4)}
    out["reliability"] = [[low, high, n, None if p is None else round(p, 4)]
                          for low, high, n, p, _ in calibration.reliability(confidences, correct)]
    return out


def _share(flags):
    flags = list(flags)
    return sum(flags) / max(len(flags), 1)
