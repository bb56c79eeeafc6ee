"""Plate localisation with OpenCV morphology: the fallback when the text detector finds no plate.

PP-OCR's text detector misses some small plates in large scenes (characters 10-15 pixels high
in a 1280x720 frame) and plates whose characters it splits. A plate is still easy to see as a
band of strong vertical edges: characters side by side, each about as tall as the band. This
finds such bands at a few character sizes, on both polarities (dark characters on a light plate
and the other way round), and returns the boxes with the strongest edges, for the recogniser
to read.
"""

import cv2
import numpy as np

CHARACTER_HEIGHTS = (14, 24, 40)   # pixels; the kernels are sized for characters about this tall
ASPECT = (2.0, 7.0)                # a plate's band: width over height
MAX_OVERLAP = 0.3                  # boxes overlapping more than this (IoU) are one candidate


def plate_regions(image, limit=8):
    """Up to ``limit`` boxes (x, y, w, h) of ``image`` (BGR) that look like plates, likeliest first."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    found = []
    for height in CHARACTER_HEIGHTS:
        width = max(3, height * 2 // 3) | 1
        hat_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (width * 2 + 1, height + 1))
        join_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (height, max(3, height // 4)))
        for polarity in (cv2.MORPH_BLACKHAT, cv2.MORPH_TOPHAT):
            edges = _vertical_edges(cv2.morphologyEx(gray, polarity, hat_kernel))
            joined = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, join_kernel)
            _, mask = cv2.threshold(joined, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            mask = cv2.dilate(cv2.erode(mask, None), None)
            for contour in cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]:
                x, y, w, h = cv2.boundingRect(contour)
                if 0.6 * height <= h <= 2.2 * height and ASPECT[0] <= w / h <= ASPECT[1]:
                    found.append((float(edges[y:y + h, x:x + w].mean()), (x, y, w, h)))
    picked = []
    for _, box in sorted(found, reverse=True):
        if all(_overlap(box, other) <= MAX_OVERLAP for other in picked):
            picked.append(box)
            if len(picked) == limit:
                break
    return picked


def _vertical_edges(image):
    edges = np.absolute(cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3))
    edges = cv2.normalize(edges, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return cv2.GaussianBlur(edges, (5, 5), 0)


def _overlap(a, b):
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)
