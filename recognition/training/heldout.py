"""Single crops of a split, read by one or more plate recognisers side by side (no torch).

The validation split decides the best epoch (:mod:`train`); the test split judges the weights
before anything else does: its crops as they are and degraded once from the seed, per source,
with the errors sorted into what they are (a look-alike read for its character, a character
dropped at the start, ...), which is what the next round of training is picked from. The
scenes of :mod:`calibrate` judge the whole pipeline; this judges the reader alone, in about a minute.
"""

import difflib
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from . import data
from .augment import degrade
from .render import Renderer

#: Renders of each region in a split's fixed samples (beside all its real crops).
RENDERS = {"US": 300, "EU": 300, "BR": 100}
#: The purpose of a split's generator (``default_rng([seed, purpose])``): validation's is 1, as
#: it was when it lived in :mod:`train`, so the validation samples stay the same; calibration's
#: samples pick the pseudo-labels' thresholds (:mod:`pseudo`).
PURPOSE = {"validation": 1, "test": 4, "calibration": 5}


def samples(root, split, seed, renders=RENDERS, sites=(), clean=0.2, pseudo=()):
    """{group: [(image, text)]}: every real crop of the split degraded once, and ``renders`` per
    region degraded the same way, drawn from the seed (the same for the same seed)."""
    rng = np.random.default_rng([seed, PURPOSE[split]])
    groups = {}
    for crop in data.crops(root, split, sites=sites):
        groups.setdefault(crop.source, []).append((degrade(rng, crop.image(), clean=clean), crop.plate))
    # Pseudo-labelled crops draw from a generator of their own: the other samples stay those of
    # earlier rounds, so validation and test figures compare with theirs.
    own = np.random.default_rng([seed, PURPOSE[split], 1])
    for crop in data.crops(root, split, folders={}, pseudo=pseudo):
        groups.setdefault(crop.source, []).append((degrade(own, crop.image(), clean=clean), crop.plate))
    renderer = Renderer(rng, split)
    for region, n in renders.items():
        for _ in range(n):
            plate = renderer.render(region)
            groups.setdefault(f"render-{region}", []).append((degrade(rng, plate.image, plate.box), plate.plate))
    return groups


def as_they_are(root, split, sites=(), pseudo=()):
    """{source: [(image, text)]}: the split's real crops, not degraded."""
    groups = {}
    for crop in data.crops(root, split, sites=sites, pseudo=pseudo):
        groups.setdefault(f"{crop.source} as is", []).append((crop.image(), crop.plate))
    return groups


def error_kind(truth, read):
    """What a wrong reading got wrong, in words a training mix can be picked from."""
    if not read:
        return "nothing read"
    if len(read) == len(truth) - 1 and truth[1:] == read:
        return "first character dropped"
    if len(read) == len(truth) - 1 and truth[:-1] == read:
        return "last character dropped"
    codes = difflib.SequenceMatcher(None, truth, read, autojunk=False).get_opcodes()
    changes = [c for c in codes if c[0] != "equal"]
    if len(changes) == 1 and changes[0][0] == "replace" and changes[0][2] - changes[0][1] == 1 \
            and changes[0][4] - changes[0][3] == 1:
        return f"{truth[changes[0][1]]}->{read[changes[0][3]]}"
    if len(read) < len(truth):
        return "shorter (other)"
    if len(read) > len(truth):
        return "longer"
    return "two or more characters"


def read_groups(model, groups, batch=32):
    """{group: [(truth, read)]} by ``model`` (a :class:`recognition.platemodel.PlateModel`)."""
    out = {}
    for name, items in groups.items():
        reads = []
        for i in range(0, len(items), batch):
            chunk = items[i:i + batch]
            reads += [(text, d.text) for (_, text), d in zip(chunk, model.read([image for image, _ in chunk]))]
        out[name] = reads
    return out


def summary(reads, top=8):
    """{group: {n, exact, errors: {kind: count}}} with the commonest kinds of error."""
    out = {}
    for name, pairs in reads.items():
        kinds = Counter(error_kind(t, r) for t, r in pairs if t != r)
        out[name] = {"n": len(pairs), "exact": round(sum(t == r for t, r in pairs) / max(len(pairs), 1), 4),
                     "errors": dict(kinds.most_common(top))}
    return out


def judge_crops(root, models, split="test", seed=1, log=print, pseudo=()):
    """{model name: summary} of each ONNX file in ``models`` ({name: path}) on the same samples;
    ``pseudo``: folders of pseudo-labelled crops, a group of their own (``pseudo``), outside
    ``camera degraded`` so that figure stays comparable with earlier rounds."""
    from ..platemodel import PlateModel
    started = time.monotonic()
    groups = {**as_they_are(root, split, pseudo=pseudo), **samples(root, split, seed, pseudo=pseudo)}
    result = {}
    for name, path in models.items():
        figures = summary(read_groups(PlateModel(Path(path)), groups))
        camera = [g for g in figures if g.split()[0] in ("us", "br", "site") and "as is" not in g]
        figures["mean"] = round(float(np.mean([f["exact"] for f in figures.values()])), 4)
        figures["camera degraded"] = round(sum(figures[g]["exact"] * figures[g]["n"] for g in camera)
                                           / max(sum(figures[g]["n"] for g in camera), 1), 4)
        result[name] = figures
        for group, numbers in figures.items():
            log(f"{name} {group}: {json.dumps(numbers)}")
    result["seconds"] = round(time.monotonic() - started, 1)
    return result
