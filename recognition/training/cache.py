"""The networks' outputs for the calibration and test splits' scenes, kept on disk.

Reading a scene costs about a second on a shared 2-core machine, nearly all of it the text
detector and the generic recogniser (``read_lines``); the rest of the pipeline (candidates,
cuts, region rules, evidence) takes milliseconds. :class:`CachedReader` keeps what the
networks gave for each image and each crop, keyed by a hash of its pixels, so the evidence and
the calibration can be changed and refitted without reading the scenes again. The scenes are
made from a seed (:mod:`scenes`), so the same run finds the same images; a crop the pipeline
now cuts differently is read by the plate recogniser alone (milliseconds).
"""

import hashlib
import json
from pathlib import Path

import numpy as np
from zope.interface import implementer

from ..pipeline import IPlateReader
from ..platemodel import decode


def _key(image):
    return hashlib.sha1(np.ascontiguousarray(image).tobytes() + str(image.shape).encode()).hexdigest()


@implementer(IPlateReader)
class CachedReader:
    """A :class:`recognition.pipeline.PPOCRReader` with the plate recogniser, its outputs kept
    in ``folder`` (``lines.json``: the scene readings; ``probs.npz``: the plate recogniser's
    per-step probabilities of each crop). :meth:`save` writes what is new."""

    def __init__(self, reader, folder):
        if reader.plate_model is None:
            raise ValueError("the cache keeps the plate recogniser's outputs: use recogniser='plate'")
        self.reader = reader
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        lines = self.folder / "lines.json"
        self._lines = json.loads(lines.read_text()) if lines.is_file() else {}
        probs = self.folder / "probs.npz"
        self._probs = dict(np.load(probs)) if probs.is_file() else {}
        self.hits = self.misses = 0
        self._new = False

    def read_lines(self, image):
        key = _key(image)
        if key not in self._lines:
            self.misses += 1
            self._lines[key] = [([[float(v) for v in p] for p in quad], text, float(score))
                                for quad, text, score in self.reader.read_lines(image)]
            self._new = True
        else:
            self.hits += 1
        return [(quad, text, score) for quad, text, score in self._lines[key]]

    def read_crops(self, crops):
        keys = [_key(c) for c in crops]
        missing = [i for i, k in enumerate(keys) if k not in self._probs]
        if missing:
            for i, p in zip(missing, self.reader.plate_model.probabilities([crops[i] for i in missing])):
                self._probs[keys[i]] = p.astype(np.float32)
            self._new = True
        return [decode(self._probs[k]) for k in keys]

    def save(self):
        if not self._new:
            return
        (self.folder / "lines.json").write_text(json.dumps(self._lines))
        np.savez(self.folder / "probs.npz", **self._probs)
        self._new = False
