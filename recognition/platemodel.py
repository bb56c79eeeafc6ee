"""The plate recogniser trained here (``recognition/training``): PP-OCRv6 small with its head cut
to the 37 classes a plate needs, fine-tuned on plate crops and rendered plates.

What training and inference share lives here, once: the alphabet, how a crop becomes the
network's input, and how its output becomes text with per-character evidence. The network
runs on OpenVINO like the other models; the ONNX file and its model card are in
``recognition/models/``.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"   # class i + 1; class 0 is CTC's blank
HEIGHT, WIDTH = 48, 160                              # the network's input; 20 output steps
MODELS = Path(__file__).parent / "models"
MODEL = MODELS / "plate-rec.onnx"
CALIBRATION = MODELS / "plate-rec.calibration.json"   # its confidence (recognition.calibration)


def prepare(crop):
    """A BGR crop as the network's input (3, HEIGHT, WIDTH), float32 in [-1, 1]: scaled to the
    height with its aspect kept (squeezed where wider than WIDTH), padded on the right with 0."""
    h, w = crop.shape[:2]
    width = int(min(WIDTH, max(8, np.ceil(HEIGHT * w / max(h, 1)))))
    resized = cv2.resize(crop, (width, HEIGHT), interpolation=cv2.INTER_AREA if h > HEIGHT else cv2.INTER_LINEAR)
    out = np.zeros((3, HEIGHT, WIDTH), np.float32)
    out[:, :, :width] = resized.transpose(2, 0, 1) / 127.5 - 1.0
    return out


#: Characters a plate's glyphs make look alike (one group each): where the reader puts
#: probability on a look-alike, the reading may depend on a guess between them.
LOOK_ALIKES = ("0ODQU", "1IJLT", "8B", "5S", "2Z", "6G", "4A", "7T")
ALIKE_FLOOR = 0.01       # look-alikes less likely than this are not kept as alternatives


@dataclass(frozen=True)
class Decoded:
    """Greedy CTC decoding with what the calibration needs: each character's probability, the
    probability of the likeliest other character at the same step (its runner-up), and the
    look-alikes the reader also gave some probability there."""
    text: str
    probs: tuple = ()        # per character
    runners: tuple = ()      # per character: (runner-up character or '', its probability)
    alikes: tuple = ()       # per character: ((look-alike, its probability), ...), likeliest first

    @property
    def score(self):
        return min(self.probs, default=0.0)


def decode(probs, symbols=ALPHABET):
    """(steps, 1 + len(symbols)) softmax output -> Decoded (greedy CTC; class 0 is the blank).
    Symbols that are not letters or digits (separators) are kept in the text but have no
    probability of their own and are never a runner-up."""
    best = probs.argmax(axis=1)
    characters = np.array([0.0] + [1.0 if c.isalnum() else 0.0 for c in symbols])
    where = {c: i + 1 for i, c in enumerate(symbols)}
    text, confidences, runners, alikes, previous = [], [], [], [], 0
    for step, index in enumerate(best):
        if index != 0 and index != previous:
            char = symbols[index - 1]
            text.append(char)
            if characters[index]:
                row = probs[step] * characters
                confidences.append(float(row[index]))
                row[index] = -1.0
                other = int(row.argmax())
                runners.append((symbols[other - 1], float(probs[step, other])))
                near = {c for group in LOOK_ALIKES if char in group for c in group if c != char and c in where}
                found = sorted(((c, float(probs[step, where[c]])) for c in near), key=lambda a: -a[1])
                alikes.append(tuple(a for a in found if a[1] >= ALIKE_FLOOR))
        previous = index
    return Decoded("".join(text), tuple(confidences), tuple(runners), tuple(alikes))


class PlateModel:
    """The trained plate recogniser on OpenVINO: crops in, :class:`Decoded` out."""

    def __init__(self, path=MODEL, threads=1, precision="f32"):
        import openvino as ov
        if not Path(path).is_file():
            raise FileNotFoundError(f"no plate recogniser at {path}: train one (recognition/training, README)")
        model = ov.Core().compile_model(str(path), "CPU", {
            "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": precision})
        self._request = model.create_infer_request()
        card = Path(path).with_suffix(".json")
        self.card = json.loads(card.read_text()) if card.is_file() else {}

    def probabilities(self, crops):
        """(n, steps, 37) softmax output for a list of BGR crops."""
        batch = np.stack([prepare(c) for c in crops])
        self._request.infer({0: batch})
        return self._request.get_output_tensor(0).data.copy()

    def read(self, crops):
        return [decode(p) for p in self.probabilities(crops)] if crops else []
