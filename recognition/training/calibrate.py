"""Fitting the confidence on the calibration split and judging it on the test split (no torch).

Both splits are scenes made around plates of their split (:mod:`scenes`): the real crops of
that split (each camera crop in two scenes) and renders whose texts fall in it. The whole
pipeline reads each scene (the scene reading, the plate recogniser's re-reads, the region
rules); the chosen reading's evidence and whether it was right are what the logistic model is
fitted on. The test split is read with the fitted calibration: exact reads, precision and
coverage at thresholds and the reliability per confidence bin, for camera crops, renders and
each source. The networks' outputs are kept (:mod:`cache`): refitting reads nothing again.
None of it comes near alpr-dev.
"""

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from .. import calibration
from ..inference import SCENE_READING
from ..pipeline import CUTS
from . import data
from .augment import light
from .render import Renderer
from .scenes import scene

RENDERS = {"US": 200, "EU": 150, "BR": 50, "UK": 25}
#: Crops from real cameras (the folders' and sites'): the photos the confidence must hold on.
CAMERA = ("us", "br", "site")
CAMERA_SCENES = 2        # scenes made around each camera crop (another place, size, blur each)
THRESHOLDS = (0.5, 0.7, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99)
L2_GRID = (0.3, 1.0, 3.0, 10.0)   # the regularisations tried (out of fold, on the calibration split)
GRID = tuple(round(0.5 + 0.01 * n, 2) for n in range(50))   # where the recommended threshold is looked for
PRECISION = 0.99   # the precision the recommended threshold must give on the calibration split


def scenes_of(root, split, seed, renders=RENDERS, per_source=100):
    """(frame, plate, source), made one at a time: every camera crop of the split in
    :data:`CAMERA_SCENES` scenes, at most ``per_source`` of the other folders' crops, and
    ``renders`` in a scene each."""
    rng = np.random.default_rng([seed, 3, list(data.SPLITS).index(split)])
    count = {}
    for crop in data.crops(root, split):
        count[crop.source] = count.get(crop.source, 0) + 1
        camera = crop.source in CAMERA
        if camera or count[crop.source] <= per_source:
            for _ in range(CAMERA_SCENES if camera else 1):
                yield scene(rng, light(rng, crop.image()))[0], crop.plate, crop.source
    renderer = Renderer(rng, split)
    for region, n in renders.items():
        for _ in range(n):
            plate = renderer.render(region)
            yield scene(rng, plate.image, plate.box)[0], plate.plate, f"render-{region}"


def read_all(recognizer, scenes, log, every=100):
    """[(Reading, truth, source)]; the reader's cache (if it keeps one) is saved as it goes."""
    rows, started = [], time.monotonic()
    save = getattr(recognizer.reader, "save", lambda: None)
    for n, (frame, plate, source) in enumerate(scenes, 1):
        rows.append((recognizer.recognize(frame), plate, source))
        if n % every == 0:
            save()
            log(f"  read {n} scenes ({(time.monotonic() - started) / n * 1000:.0f} ms each)")
    save()
    return rows


def recognizer_for(model, weights=None, cache=None):
    """The pipeline with ``model`` re-reading, calibrated by ``weights`` (neutral: evidence only,
    cut as the pipeline cuts now); with ``cache`` (a folder), the networks' outputs are kept
    there (:mod:`cache`)."""
    from ..pipeline import PlateRecognizer, PPOCRReader
    from .cache import CachedReader
    cal = weights or calibration.Calibration((0.0,) * len(calibration.FEATURES), cuts=CUTS)
    reader = PPOCRReader(recogniser="plate", model=model)
    return PlateRecognizer(CachedReader(reader, cache) if cache else reader, calibration=cal)


def cache_of(work, model, split, seed):
    """Where a split's reads by ``model`` are kept: the hash of the model and of how the scene's lines
    are read names it (new weights or a new scene reading, new reads)."""
    digest = hashlib.sha1(Path(model).read_bytes() + SCENE_READING.encode()).hexdigest()[:12]
    return Path(work) / "reads" / f"{split}-seed{seed}-{digest}"


def calibration_path(model):
    return Path(model).with_suffix(".calibration.json")


def calibrate(root, model, work, seed=1, log=print):
    """Fit the calibration of ``model``'s readings; saved beside it; returns the summary.

    Camera crops weigh as much as all renders together, in the fit and in the threshold's
    precision: the confidence must hold on photos, and renders are most of the split. The
    regularisation and the threshold come from out-of-fold confidences (folds by plate), not
    from the readings each fit saw."""
    started = time.monotonic()
    log("calibration split: reading scenes")
    rows = read_all(recognizer_for(model, cache=cache_of(work, model, "calibration", seed)),
                    scenes_of(root, "calibration", seed), log)
    weights = source_weights([source for _, _, source in rows])
    taken = [(r.evidence, r.plate == truth, w, truth) for (r, truth, _), w in zip(rows, weights)
             if r.evidence is not None]
    evidence, correct, w, plates = (list(v) for v in zip(*taken))
    l2, held_out = regularised(evidence, correct, w, plates)
    fitted = calibration.fit(evidence, correct, weights=w, cuts=CUTS, l2=l2,
                             fitted_on=f"calibration split of plate-crops and renders (seed {seed}): "
                                       f"{len(taken)} readings, camera crops weighed as much as renders, l2 {l2}")
    # Rows without a reading count against coverage: their confidence is 0.
    everything = np.zeros(len(rows))
    everything[[n for n, (r, _, _) in enumerate(rows) if r.evidence is not None]] = held_out
    right = [r.plate == t for r, t, _ in rows]
    threshold = recommended_threshold(everything, right, weights)
    precision, coverage = calibration.weighted_precision(everything, right, weights, threshold or 1.0)
    summary = {"scenes": len(rows), "readings": len(taken), "exact": _share(right),
               "weights": dict(zip(fitted.features, fitted.weights)), "l2": l2,
               "out_of_fold_log_loss": round(log_loss(held_out, correct, w), 4), "recommended_threshold": threshold,
               "out_of_fold_at_threshold": {"precision": precision, "coverage": coverage},
               "seconds": round(time.monotonic() - started, 1)}
    fitted.save(calibration_path(model), recommended_threshold=threshold)
    log(f"fitted on {len(taken)} readings (exact {summary['exact']:.1%}); threshold for {PRECISION:.0%} "
        f"precision (out of fold, weighted): {threshold} (coverage {coverage:.1%})")
    return summary


def source_weights(sources):
    """Each reading's weight: camera crops (:data:`CAMERA`) together weigh as much as the rest."""
    camera = [s in CAMERA for s in sources]
    n_camera = sum(camera)
    n_rest = len(camera) - n_camera
    if not n_camera or not n_rest:
        return [1.0] * len(camera)
    return [0.5 / n_camera if c else 0.5 / n_rest for c in camera]


def out_of_fold(evidence, correct, weights, plates, folds=5, **fit_options):
    """Each reading's confidence from a fit on the other folds (by plate: one plate, one fold)."""
    fold = np.array([int(hashlib.sha1(p.encode()).hexdigest()[8:16], 16) % folds for p in plates])
    out = np.zeros(len(evidence))
    for k in range(folds):
        inside = fold != k
        fitted = calibration.fit([e for e, i in zip(evidence, inside) if i],
                                 [c for c, i in zip(correct, inside) if i],
                                 weights=[w for w, i in zip(weights, inside) if i], **fit_options)
        out[~inside] = [fitted.probability(e) for e, i in zip(evidence, inside) if not i]
    return out


def log_loss(confidences, correct, weights):
    """The weighted mean log loss: how well probabilities fit what happened (lower is better)."""
    p = np.clip(np.asarray(confidences, float), 1e-6, 1 - 1e-6)
    y, w = np.asarray(correct, float), np.asarray(weights, float)
    return float(-(w * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum() / w.sum())


def regularised(evidence, correct, weights, plates, grid=L2_GRID):
    """(l2, out-of-fold confidences): the regularisation whose out-of-fold log loss is least."""
    folds = {l2: out_of_fold(evidence, correct, weights, plates, l2=l2) for l2 in grid}
    best = min(grid, key=lambda l2: log_loss(folds[l2], correct, weights))
    return best, folds[best]


def recommended_threshold(confidences, correct, weights, grid=GRID):
    """The lowest of ``grid`` at which the weighted precision reaches :data:`PRECISION` (None if
    none does)."""
    for t in grid:
        precision, _ = calibration.weighted_precision(confidences, correct, weights, t)
        if precision is not None and precision >= PRECISION:
            return float(t)
    return None


def judge(root, model, work, seed=1, log=print, others=None):
    """Exact reads, precision and coverage, reliability: the test split, read with the calibration
    (and with ``others``, {name: Calibration file}, on the same reads, for comparison)."""
    started = time.monotonic()
    files = {"shipped": calibration_path(model), **(others or {})}
    result = {}
    for name, path in files.items():
        fitted = calibration.Calibration.load(path)
        log(f"test split: reading scenes ({name} calibration)")
        rows = read_all(recognizer_for(model, fitted, cache_of(work, model, "test", seed)),
                        scenes_of(root, "test", seed), log)
        figures = {"all": summarise(rows), "camera": summarise([r for r in rows if r[2] in CAMERA]),
                   "renders": summarise([r for r in rows if r[2] not in CAMERA])}
        for source in sorted({s for _, _, s in rows}):
            figures[source] = summarise([row for row in rows if row[2] == source])
        result[name] = figures
        for group, numbers in figures.items():
            log(f"{name} {group}: {json.dumps(numbers)}")
    result["seconds"] = round(time.monotonic() - started, 1)
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
