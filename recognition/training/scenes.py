"""Camera-like scenes around a plate, to fit and judge the confidence of the whole pipeline
(scene reading, re-reads, region rules) where only crops of plates exist.

A scene is a frame of 640x480 to 1280x720: a background of streets and cars (gradients,
blocks, noise), a car's body around the plate, other text (a dealer's frame, a sign, a phone
number), the plate at 22-70 pixels high seen slightly from the side, and the camera's blur,
noise and JPEG.
"""

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .render import LABEL_FONTS, PLATE_FONTS, fonts

SIZES = ((1280, 720), (1280, 960), (960, 540), (800, 600), (640, 480))
WORDS = ("TOYOTA", "HONDA", "FORD", "Dealer", "AUTO SALES", "www.autohaus.de", "555-0199", "PARKING", "EXIT",
         "STOP", "HYBRID", "4x4", "SPORT", "Service 24h", "ONE WAY", "CAUTION")


def scene(rng, plate, box=None):
    """(BGR frame, (x, y, w, h) of the plate in it) for a plate image (BGR)."""
    width, height = SIZES[rng.integers(len(SIZES))]
    frame = _background(rng, width, height)
    ph, pw = plate.shape[:2]
    target_h = rng.uniform(22, 70) * height / 720
    scale = target_h / ph
    w, h = max(12, int(pw * scale)), max(8, int(ph * scale))
    x = int(rng.uniform(0.1, 0.9) * (width - w))
    y = int(rng.uniform(0.3, 0.9) * (height - h))
    body = tuple(int(v) for v in rng.integers(10, 240, 3))
    bx0, by0 = max(0, x - int(w * rng.uniform(1, 3))), max(0, y - int(h * rng.uniform(2, 5)))
    bx1, by1 = min(width, x + w + int(w * rng.uniform(1, 3))), min(height, y + h + int(h * rng.uniform(1, 2)))
    cv2.rectangle(frame, (bx0, by0), (bx1, by1), body, -1)
    _text(rng, frame, (bx0, by0, bx1, by1), (x, y, w, h))
    small = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-0.06, 0.06, (4, 2)).astype(np.float32) * np.float32([w, h])
    angle = np.deg2rad(rng.uniform(-5, 5))
    turn = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = (dst - [w / 2, h / 2]) @ turn.T + [x + w / 2, y + h / 2]
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(small, matrix, (width, height))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (width, height))
    frame[mask > 128] = warped[mask > 128]
    frame = _camera(rng, frame)
    xs, ys = dst[:, 0], dst[:, 1]
    return frame, (int(xs.min()), int(ys.min()), int(xs.max() - xs.min()), int(ys.max() - ys.min()))


def _background(rng, width, height):
    top, bottom = rng.integers(30, 220, 3), rng.integers(30, 220, 3)
    t = np.linspace(0, 1, height)[:, None, None]
    frame = (top * (1 - t) + bottom * t).repeat(width, axis=1).astype(np.float32)
    for _ in range(int(rng.integers(3, 12))):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        cv2.rectangle(frame, (x, y), (x + int(rng.integers(20, width // 2)), y + int(rng.integers(10, height // 3))),
                      tuple(float(v) for v in rng.integers(0, 255, 3)), -1)
    frame += rng.normal(0, 6, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def _text(rng, frame, body, plate):
    """Other text: words on the car or around it, never over the plate."""
    paths = fonts(LABEL_FONTS + PLATE_FONTS)
    image = Image.fromarray(frame)
    pen = ImageDraw.Draw(image)
    px, py, pw, ph = plate
    for _ in range(int(rng.integers(0, 4))):
        size = int(ph * rng.uniform(0.3, 1.0))
        face = ImageFont.truetype(paths[rng.integers(len(paths))], max(size, 8))
        word = WORDS[rng.integers(len(WORDS))]
        x, y = int(rng.uniform(body[0], max(body[0] + 1, body[2] - size * 4))), int(rng.uniform(body[1], body[3]))
        left, top, right, bottom = pen.textbbox((x, y), word, font=face)
        if right < px or left > px + pw or bottom < py or top > py + ph:
            pen.text((x, y), word, font=face, fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    frame[:] = np.asarray(image)


def _camera(rng, frame):
    if rng.random() < 0.6:
        frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.3, 1.2))
    frame = np.clip(frame + rng.normal(0, rng.uniform(1, 6), frame.shape), 0, 255).astype(np.uint8)
    data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 92))])[1]
    return cv2.imdecode(data, cv2.IMREAD_COLOR)
