"""Learning from the site: resolved reviews (the plate a person confirmed) as labelled crops in
the plate-crops format, so that an operator can fine-tune the reader on their own cameras.

``parkgate training export --out DIR [--since DATE]`` gives this module the reviews from the
gateway's store; it needs nothing of the gateway. Each review is the picture's bytes, the
confirmed plate, the plate's box when the reading found one, and the facility's region. A crop
is the box with a margin (as the recogniser's clip is cut); without a box, the plate is looked
for with ``locate`` (the pipeline: the box of a candidate whose text is the confirmed plate),
else the review is skipped. ``DIR/labels.tsv`` gets ``FILE<TAB>REGION<TAB>PLATE`` lines (the
layout of the ``us/`` folder); the file name is a hash of the crop, so exporting twice adds
nothing twice.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..images import ImageRejected, decode
from ..regions import normalise

LABELS = "labels.tsv"


@dataclass(frozen=True)
class Review:
    image: bytes
    plate: str
    box: tuple | None = None      # (x, y, w, h) in the picture
    region: str | None = None     # US, EU, UK, BR


@dataclass
class Exported:
    written: list = field(default_factory=list)    # file names
    skipped: list = field(default_factory=list)    # (index, why)


def crop_of(image, box, pad=(0.1, 0.25)):
    x, y, w, h = box
    px, py = int(w * pad[0]), int(h * pad[1])
    return image[max(y - py, 0):y + h + py, max(x - px, 0):x + w + px]


def export_reviews(reviews, out, locate=None):
    """Write the crops of ``reviews`` (iterable of :class:`Review`) under ``out``; ``locate``:
    image -> [(text, box)] to find a plate whose box is not known."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labels = out / LABELS
    known = {line.split("\t")[0] for line in labels.read_text().splitlines()} if labels.is_file() else set()
    result = Exported()
    with open(labels, "a") as f:
        for index, review in enumerate(reviews):
            plate = normalise(review.plate)
            if not 2 <= len(plate) <= 10:
                result.skipped.append((index, "no plate confirmed"))
                continue
            try:
                image = decode(review.image)
            except ImageRejected as e:
                result.skipped.append((index, str(e)))
                continue
            box = review.box
            if box is None and locate is not None:
                box = next((b for text, b in locate(image) if normalise(text) == plate and b), None)
            if box is None:
                result.skipped.append((index, "plate not found in the picture"))
                continue
            crop = crop_of(image, box)
            if crop.size == 0 or min(crop.shape[:2]) < 8:
                result.skipped.append((index, "box outside the picture"))
                continue
            data = cv2.imencode(".png", crop)[1].tobytes()
            name = f"site-{hashlib.sha1(data).hexdigest()[:16]}.png"
            if name not in known:
                (out / name).write_bytes(data)
                f.write(f"{name}\t{review.region or ''}\t{plate}\n")
                known.add(name)
                result.written.append(name)
    return result


def locate_with(recognizer):
    """``locate`` from a PlateRecognizer: its candidates' texts with the chosen reading's box."""
    def locate(image):
        reading = recognizer.recognize(np.ascontiguousarray(image))
        return [(text, reading.box) for text, _ in reading.candidates[:1]]
    return locate
