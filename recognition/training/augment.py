"""What a parking camera does to a plate: a cut like the text detector's (tight around the
characters, or the whole plate), perspective and tilt, a plate 14-40 pixels high, blur, glare,
shade, dirt, noise and JPEG.

A far camera (:data:`FAR`) is the hard end of the same: the plate 14-26 pixels high, always
blurred, always a coarse JPEG. Round 1's errors on degraded test crops were mostly such plates,
so training can weigh them more (``degrade(..., far=SHARE)``, ``--far``); the validation and
test samples are drawn without it, as before.

Every function takes the random generator it draws from: a seed makes the same samples.
"""

import cv2
import numpy as np


def cut(rng, image, box=None):
    """A crop like the ones the pipeline reads: the characters' box (when known) with a margin,
    or for a whole-plate crop (characters somewhere below its top fifth: a state's or city's
    name above them) the plate less a little of its edges, or all of it."""
    h, w = image.shape[:2]
    if box is not None and rng.random() < 0.8:
        x, y, bw, bh = box
        mx, my = bw * rng.uniform(0.02, 0.12), bh * rng.uniform(0.05, 0.3)
        x0, x1 = x - mx * rng.uniform(0.3, 1.5), x + bw + mx * rng.uniform(0.3, 1.5)
        y0, y1 = y - my * rng.uniform(0.3, 1.5), y + bh + my * rng.uniform(0.3, 1.5)
    elif rng.random() < 0.5:
        x0, x1 = w * rng.uniform(0, 0.06), w * rng.uniform(0.94, 1.0)
        y0, y1 = h * rng.uniform(0.0, 0.2), h * rng.uniform(0.9, 1.0)
    else:
        x0, y0, x1, y1 = 0, 0, w, h
    x0, y0 = int(max(0, x0)), int(max(0, y0))
    x1, y1 = int(min(w, max(x1, x0 + 8))), int(min(h, max(y1, y0 + 8)))
    return image[y0:y1, x0:x1]


def perspective(rng, image, amount=0.06):
    """The plate seen a little from the side or from above, and tilted."""
    h, w = image.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-amount, amount, (4, 2)) * np.float32([w, h])
    angle = np.deg2rad(rng.uniform(-4, 4))
    centre = np.float32([w / 2, h / 2])
    turn = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = (src - centre) @ turn.T + centre + jitter
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


def light(rng, image):
    """Exposure, contrast, colour cast, glare (a bright blob), shade (a dark half) and dirt."""
    out = image.astype(np.float32)
    h, w = out.shape[:2]
    out = (out - 128) * rng.uniform(0.5, 1.2) + 128 + rng.uniform(-50, 40)
    out *= rng.uniform(0.85, 1.15, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.25:
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.2, 0.6) * w
        out += rng.uniform(60, 180) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
    if rng.random() < 0.2:
        a, b = rng.normal(size=2)
        side = (a * (xx - w / 2) + b * (yy - h / 2)) > 0
        out[side] *= rng.uniform(0.4, 0.8)
    if rng.random() < 0.2:
        for _ in range(int(rng.integers(3, 15))):
            cx, cy, r = int(rng.uniform(0, w)), int(rng.uniform(0, h)), int(rng.uniform(1, max(2, h / 8)))
            cv2.circle(out, (cx, cy), r, (float(rng.uniform(40, 110)),) * 3, -1)
    return np.clip(out, 0, 255).astype(np.uint8)


#: A camera as :func:`camera` draws it by default, and a far one (small, blurred, coarse JPEG).
NEAR = {"min_height": 14, "max_height": 40, "blur": 0.5, "sigma": (0.3, 1.2), "jpeg": 0.8, "quality": (20, 90)}
FAR = {"min_height": 14, "max_height": 26, "blur": 1.0, "sigma": (0.5, 1.4), "jpeg": 1.0, "quality": (15, 60)}


def camera(rng, image, min_height=14, max_height=40, blur=0.5, sigma=(0.3, 1.2), jpeg=0.8, quality=(20, 90)):
    """Down to a camera's resolution (the crop ``min_height``-``max_height`` pixels high), blur
    (focus, with a chance ``blur`` and a ``sigma`` range, or motion), noise and JPEG (a chance
    ``jpeg``, a ``quality`` range); the result stays that small (the reader scales it)."""
    h, w = image.shape[:2]
    target = rng.uniform(min_height, max_height)
    if h > target:
        scale = target / h
        image = cv2.resize(image, (max(8, int(w * scale)), max(8, int(h * scale))), interpolation=cv2.INTER_AREA)
    if rng.random() < blur:
        k = rng.uniform(*sigma)
        image = cv2.GaussianBlur(image, (0, 0), k)
    elif rng.random() < 0.3:
        n = int(rng.integers(2, 5))
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1.0 / n
        image = cv2.filter2D(image, -1, kernel)
    if rng.random() < 0.6:
        image = np.clip(image + rng.normal(0, rng.uniform(2, 10), image.shape), 0, 255).astype(np.uint8)
    if rng.random() < jpeg:
        data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*quality))])[1]
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image


def degrade(rng, image, box=None, clean=0.1, far=0.0):
    """A training sample from a plate image (a crop or a render with its characters' box); a
    share ``clean`` of the samples is only cut, as sharp photos are, and a share ``far`` of the
    others is seen by a far camera (:data:`FAR`). With ``far`` 0 nothing more is drawn from
    ``rng``, so the samples of a seed are those drawn before the option existed."""
    crop = cut(rng, image, box)
    if rng.random() < clean:
        return crop
    crop = perspective(rng, crop)
    crop = light(rng, crop)
    return camera(rng, crop, **(FAR if far and rng.random() < far else NEAR))
