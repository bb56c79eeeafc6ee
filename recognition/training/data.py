"""Labelled plate crops (the ``plate-crops`` format) and the split by plate.

A plate's split comes from a hash of its text, never from its file: two crops of one plate
(or a crop and a render of the same text) always land on the same side. The split is fixed
by the text alone, so it is the same on every machine and for every seed.
"""

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2

from ..regions import normalise

#: Buckets of the plate hash: training, early stopping, fitting the confidence, judging it.
SPLITS = {"train": range(75), "validation": range(75, 80), "calibration": range(80, 90), "test": range(90, 100)}
#: folder -> (region, column of the plate in labels.tsv)
FOLDERS = {"us": ("US", 2), "br": ("BR", 1), "br-synthetic": ("BR", 1)}
LENGTHS = range(5, 9)   # what a plate's number can be; shorter or longer labels are not plates here


@dataclass(frozen=True)
class Crop:
    path: Path
    plate: str
    region: str
    source: str          # the folder: us, br, br-synthetic; site; pseudo

    def image(self):
        return cv2.imread(str(self.path), cv2.IMREAD_COLOR)


def split_of(plate):
    """The split (:data:`SPLITS`) of a plate's text (by its hash)."""
    bucket = int(hashlib.sha1(normalise(plate).encode()).hexdigest()[:8], 16) % 100
    return next(name for name, buckets in SPLITS.items() if bucket in buckets)


def crops(root, split=None, folders=FOLDERS, sites=(), pseudo=()):
    """The labelled crops under ``root`` (the plate-crops folder), of one split or all, and those
    exported from sites (``sites``: folders of ``parkgate training export``, ``FILE<TAB>REGION<TAB>
    PLATE``; their source is ``site``) or pseudo-labelled in the same layout (``pseudo``:
    :mod:`recognition.training.pseudo`; their source is ``pseudo``)."""
    found = []
    places = [(Path(root) / folder, region, column, folder) for folder, (region, column) in folders.items()]
    places += [(Path(site), None, 2, "site") for site in sites]
    places += [(Path(folder), None, 2, "pseudo") for folder in pseudo]
    for folder, region, column, source in places:
        labels = folder / "labels.tsv"
        if not labels.is_file():
            continue
        with open(labels, newline="") as f:
            for row in csv.reader(f, delimiter="\t"):
                if len(row) <= column:
                    continue
                plate = normalise(row[column])
                if len(plate) not in LENGTHS or (split and split_of(plate) != split):
                    continue
                path = labels.parent / row[0]
                if path.is_file():
                    found.append(Crop(path, plate, region or row[1] or "", source))
    return found
