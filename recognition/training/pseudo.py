"""Pseudo-labels for real crops without text (``plate-crops/eu-unlabelled``), so that training
sees real European plates and not only renders (no torch).

Two readers that err differently read each crop: the plate recogniser trained here and the
generic PP-OCR recogniser (what ``reader = "ppocr"`` re-reads with). A crop is kept only when
both read the same text, the text fits a European format of the region rules as it is (no
look-alike fixed, nothing trimmed), and each reader's least sure character is at least its
threshold. The thresholds are picked on the calibration split's labelled crops and renders
(never alpr-dev): the pair that keeps the most readings right at :data:`PRECISION` there.
The kept crops are written in the layout of ``parkgate training export`` (``labels.tsv``:
FILE<TAB>REGION<TAB>PLATE), which training reads as one more source (``--pseudo DIR``), split
by plate like every other.
"""

import csv
import json
import shutil
import time
from pathlib import Path

import cv2

from ..regions import fit, normalise
from . import data, heldout

GRID = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99)   # each reader's least sure character
PRECISION = 0.99     # what the kept readings must reach on the calibration split
MIN_KEPT = 50        # fewer kept readings than this prove no precision
#: The calibration split's samples the thresholds are picked on: its crops as they are, degraded
#: once, and renders (EU above all: the region pseudo-labelled).
RENDERS = {"EU": 400, "US": 100, "BR": 50}
FOLDER = "eu-unlabelled"


def agreed(first, second, thresholds, regions=("EU",)):
    """The text both readings (:class:`recognition.platemodel.Decoded`) give when they agree,
    each is sure enough (``thresholds``: per reading, its least sure character) and it fits a
    format of ``regions`` as read; else None."""
    text = normalise(first.text)
    if not text or text != normalise(second.text) or len(text) not in data.LENGTHS:
        return None
    if first.score < thresholds[0] or second.score < thresholds[1]:
        return None
    fitted = fit(text, list(regions))
    if fitted is None or fitted.cost or fitted.text != text or fitted.word:
        return None
    return text


def choose(rows, grid=GRID, precision=PRECISION, min_kept=MIN_KEPT):
    """The thresholds (first, second) that keep the most of ``rows`` ([(first, second, truth,
    region)]) with the kept ones right at ``precision``; ties go to the stricter pair.
    Returns (thresholds, {precision, coverage, kept, n}) or (None, {...}) when no pair does."""
    best, best_figures = None, {"n": len(rows), "kept": 0, "precision": None, "coverage": 0.0}
    for a in grid:
        for b in grid:
            kept = [(text, truth) for first, second, truth, region in rows
                    if (text := agreed(first, second, (a, b), (region,))) is not None]
            if len(kept) < min_kept:
                continue
            right = sum(text == truth for text, truth in kept) / len(kept)
            if right >= precision and len(kept) >= best_figures["kept"]:
                best = (a, b)
                best_figures = {"n": len(rows), "kept": len(kept), "precision": round(right, 4),
                                "coverage": round(len(kept) / max(len(rows), 1), 4)}
    return best, best_figures


def read_pairs(readers, images, batch=32):
    """[(first, second)]: each image read by both readers (callables: crops -> [Decoded])."""
    out = []
    for i in range(0, len(images), batch):
        chunk = images[i:i + batch]
        out += list(zip(readers[0](chunk), readers[1](chunk)))
    return out


def calibration_rows(root, readers, seed):
    """[(first, second, truth, region)] on the calibration split: its crops as they are and
    degraded, and :data:`RENDERS`."""
    groups = {**heldout.as_they_are(root, "calibration"), **heldout.samples(root, "calibration", seed, RENDERS)}
    rows = []
    for name, items in groups.items():
        source = name.split()[0]
        region = source.split("-")[1] if source.startswith("render-") else data.FOLDERS[source][0]
        pairs = read_pairs(readers, [image for image, _ in items])
        rows += [(first, second, text, region) for (first, second), (_, text) in zip(pairs, items)]
    return rows


def label(paths, readers, thresholds):
    """[(path, text)] of the crops both readers agree on (:func:`agreed`)."""
    paths = list(paths)
    images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths]
    found = [(p, im) for p, im in zip(paths, images) if im is not None]
    pairs = read_pairs(readers, [im for _, im in found])
    return [(p, text) for (p, _), (first, second) in zip(found, pairs)
            if (text := agreed(first, second, thresholds)) is not None]


def write(out, kept, region="EU"):
    """The kept crops copied to ``out`` with their ``labels.tsv`` (``parkgate training export``'s
    layout), replacing what was there."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with open(out / "labels.tsv", "w", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        for path, text in kept:
            shutil.copyfile(path, out / Path(path).name)
            writer.writerow([Path(path).name, region, text])
    return out


def readers_of(model, threads=2):
    """(the plate recogniser ``model``, the generic PP-OCR recogniser), as callables."""
    from ..pipeline import PPOCRReader
    from ..platemodel import PlateModel
    plate, generic = PlateModel(Path(model), threads=threads), PPOCRReader(threads)
    return plate.read, generic.read_crops


def pseudo_label(root, out, model, seed=1, readers=None, log=print):
    """Pick the thresholds, label ``root``/eu-unlabelled, write the kept crops to ``out``;
    returns the record (also written as ``out/pseudo.json``)."""
    started = time.monotonic()
    readers = readers or readers_of(model)
    thresholds, figures = choose(calibration_rows(root, readers, seed))
    log(f"thresholds {thresholds} on the calibration split: {json.dumps(figures)}")
    if thresholds is None:
        raise RuntimeError("no thresholds reach the precision on the calibration split")
    paths = sorted((Path(root) / FOLDER).glob("*.png"), key=lambda p: (len(p.name), p.name))
    kept = label(paths, readers, thresholds)
    write(out, kept)
    splits = {name: sum(data.split_of(text) == name for _, text in kept) for name in data.SPLITS}
    record = {"model": str(model), "thresholds": thresholds, "calibration": figures, "crops": len(paths),
              "kept": len(kept), "plates": len({text for _, text in kept}), "splits": splits,
              "seconds": round(time.monotonic() - started, 1)}
    (Path(out) / "pseudo.json").write_text(json.dumps(record, indent=1) + "\n")
    log(f"kept {len(kept)} of {len(paths)} crops: {json.dumps(splits)}")
    return record
