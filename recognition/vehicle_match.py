"""How alike the vehicle in two pictures is (entry vs exit of one stay), as a score from 0 to 1.

Seed 001 compares colour histograms; a histogram alone says two silver cars are one car. So the
score also counts local features (ORB) of one picture found again in the other in a consistent
geometry (a RANSAC homography's inliers): the same car, shot again by a lane camera, shares many;
another car of the same colour hardly any. ``bench/image_match.py`` measures both side by side.
"""

import cv2
import numpy as np

WIDTH = 640            # pictures are compared at this width (cost, and like for like)
ENOUGH_INLIERS = 40    # this many consistent feature matches count as a full structural match


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not a picture")
    h, w = image.shape[:2]
    return cv2.resize(image, (WIDTH, max(1, round(h * WIDTH / w)))) if w != WIDTH else image


def histogram_score(a: np.ndarray, b: np.ndarray) -> float:
    """Seed 001's comparison: hue-saturation histograms, correlated (negative: 0)."""
    hists = []
    for image in (a, b):
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
        hist = cv2.calcHist([hsv], [0, 1], None, [50, 60], [0, 180, 0, 256])
        hists.append(cv2.normalize(hist, hist).flatten())
    return float(max(0.0, cv2.compareHist(hists[0], hists[1], cv2.HISTCMP_CORREL)))


def structure_score(a: np.ndarray, b: np.ndarray) -> float:
    """ORB features of ``a`` found in ``b`` (ratio test), kept when a homography agrees (RANSAC)."""
    orb = cv2.ORB_create(nfeatures=1500)
    ka, da = orb.detectAndCompute(cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), None)
    kb, db = orb.detectAndCompute(cv2.cvtColor(b, cv2.COLOR_BGR2GRAY), None)
    if da is None or db is None or len(ka) < 8 or len(kb) < 8:
        return 0.0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(da, db, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < 8:
        return 0.0
    src = np.float32([ka[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([kb[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    _, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    inliers = int(mask.sum()) if mask is not None else 0
    return min(1.0, inliers / ENOUGH_INLIERS)


def match_score(entry: bytes, exit_: bytes) -> float:
    """0 (other vehicles) .. 1 (the same picture): the histogram and the structure, half each."""
    a, b = decode(entry), decode(exit_)
    return round(0.5 * histogram_score(a, b) + 0.5 * structure_score(a, b), 4)
