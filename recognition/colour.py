"""The vehicle's colour, from the body around the plate.

The pixels sampled are the panel above the plate (boot lid or bonnet) and the bumper on either
side of it; each is put in a colour class by its hue, saturation and brightness, and the class
most pixels fall in wins. The confidence is the share of pixels that agree: a black plastic
bumper under a red boot, a grille, or reflections split the vote and lower it. Below
``MIN_SHARE`` no colour is claimed. No labelled real photos were at hand to measure this on;
the tests check it on rendered scenes. Checked by eye on 16 of the benchmark's photos, it named
11 (8 right; 3 wrong: dark red as grey or black, white in shade as silver) and left 5 unnamed.
So it is a hint with its confidence, in the reading only; it is not written into ParkingEvent
or Citation documents as if it were a fact.
"""

import cv2
import numpy as np

MIN_SHARE = 0.5      # fewer agreeing pixels than this: no colour is claimed
MIN_PIXELS = 200     # a sample smaller than this says nothing

# OpenCV hue runs 0-179. Upper bounds of each chromatic class, in order.
_HUES = ((8, "RED"), (20, "ORANGE"), (34, "YELLOW"), (85, "GREEN"), (130, "BLUE"), (165, "PURPLE"), (180, "RED"))
_CLASSES = ("BLACK", "GREY", "SILVER", "WHITE", "BROWN") + tuple(dict.fromkeys(name for _, name in _HUES))


def body_colour(image, box):
    """(colour name, share of agreeing pixels) of the body around the plate ``box`` (x, y, w, h),
    or (None, 0.0) when the sample is too small or the pixels do not agree."""
    pixels = _sample(image, box)
    if len(pixels) < MIN_PIXELS:
        return None, 0.0
    classes = _classify(cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_BGR2HSV).reshape(-1, 3))
    counts = np.bincount(classes, minlength=len(_CLASSES))
    best = int(counts.argmax())
    share = float(counts[best]) / len(classes)
    return (_CLASSES[best], round(share, 2)) if share >= MIN_SHARE else (None, 0.0)


def _sample(image, box):
    """The BGR pixels of the panel above the plate and of the bumper to its left and right."""
    x, y, w, h = box
    height, width = image.shape[:2]
    regions = ((x - w // 4, y - 2 * h, x + w + w // 4, y - h // 3),   # above
               (x - w // 2, y, x - w // 10, y + h),                    # left of the plate
               (x + w + w // 10, y, x + w + w // 2, y + h))            # right of the plate
    parts = []
    for x0, y0, x1, y1 in regions:
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 > x0 and y1 > y0:
            parts.append(cv2.blur(image[y0:y1, x0:x1], (5, 5)).reshape(-1, 3))  # noise, not colour
    return np.concatenate(parts) if parts else np.empty((0, 3), np.uint8)


def _classify(hsv):
    """The index in ``_CLASSES`` of each HSV pixel."""
    h, s, v = (hsv[:, i].astype(np.int32) for i in range(3))
    out = np.empty(len(hsv), np.int64)
    hue_class = np.searchsorted([bound for bound, _ in _HUES], h, side="right")
    chromatic_names = np.array([_CLASSES.index(name) for _, name in _HUES])
    out[:] = chromatic_names[np.minimum(hue_class, len(_HUES) - 1)]
    brownish = (out == _CLASSES.index("ORANGE")) & (v < 150)
    out[brownish] = _CLASSES.index("BROWN")
    grey = s < 60  # silver and white bodies mirror the sky: a faint tint is not a colour
    out[grey & (v >= 200)] = _CLASSES.index("WHITE")
    out[grey & (v >= 130) & (v < 200)] = _CLASSES.index("SILVER")
    out[grey & (v < 130)] = _CLASSES.index("GREY")
    out[v < 55] = _CLASSES.index("BLACK")
    return out
