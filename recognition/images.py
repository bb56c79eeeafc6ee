"""Image bytes in, pixels out, or a clear reason why not."""

import cv2
import numpy as np

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 32


class ImageRejected(ValueError):
    """Not an image we read: wrong type, broken, too small or too large."""


def sniff(data):
    """'jpeg' or 'png' from the first bytes, whatever the sender claims."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return None


def decode(data):
    if not data:
        raise ImageRejected("empty image")
    if len(data) > MAX_BYTES:
        raise ImageRejected(f"image larger than {MAX_BYTES // (1024 * 1024)} MiB")
    kind = sniff(data)
    if kind is None:
        raise ImageRejected("not a JPEG or PNG image")
    header = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if header is not None and header.shape[0] * header.shape[1] * 64 > MAX_PIXELS:
        raise ImageRejected("image has too many pixels")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageRejected(f"broken {kind} image")
    if min(image.shape[:2]) < MIN_SIDE:
        raise ImageRejected("image too small to hold a readable plate")
    return image
