"""The entry/exit picture score on real pixels: the same scene shot again scores high, another scene
of the same colours low, and what is not a picture is refused."""

import cv2
import numpy as np
import pytest

from recognition.vehicle_match import decode, histogram_score, match_score, structure_score


def scene(seed, hue=20):
    """A textured "vehicle" on a plain background (JPEG bytes)."""
    rng = np.random.default_rng(seed)
    image = np.full((480, 640, 3), (90, 90, 90), np.uint8)
    for _ in range(60):
        x, y = rng.integers(60, 560), rng.integers(60, 400)
        colour = tuple(int(c) for c in cv2.cvtColor(np.uint8([[[hue, rng.integers(80, 255), rng.integers(60, 255)]]]),
                                                    cv2.COLOR_HSV2BGR)[0, 0])
        cv2.rectangle(image, (int(x), int(y)), (int(x + rng.integers(10, 60)), int(y + rng.integers(10, 60))),
                      colour, -1)
    return image


def jpeg(image):
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def test_the_same_vehicle_again_scores_higher_than_another_of_its_colours():
    entry = scene(1)
    shifted = cv2.warpAffine(entry, np.float32([[1, 0, 12], [0, 1, -8]]), (640, 480), borderValue=(90, 90, 90))
    again = cv2.convertScaleAbs(shifted, alpha=1.1, beta=10)      # moved a little, lit differently
    other = scene(2)                                                # same hues, another vehicle
    same_score, other_score = match_score(jpeg(entry), jpeg(again)), match_score(jpeg(entry), jpeg(other))
    assert 0 <= other_score < same_score <= 1
    same_structure = structure_score(decode(jpeg(entry)), decode(jpeg(again)))
    assert same_structure > 0.5
    assert structure_score(decode(jpeg(entry)), decode(jpeg(other))) < same_structure / 2  # chance matches only
    assert histogram_score(decode(jpeg(entry)), decode(jpeg(other))) > 0.5   # why a histogram alone is fooled


def test_not_a_picture_is_refused():
    with pytest.raises(ValueError):
        match_score(b"not a jpeg", jpeg(scene(1)))
