"""Synthetic plates for the regions the crops lack: European (EU band, DIN-like type), UK,
Brazilian Mercosul, and North American plates in many states' manners (a state name above,
a slogan below, coloured type, stickers, an emblem between the groups).

A render is clean: :mod:`recognition.training.augment` makes it look like a camera's crop.
Fonts come from Debian packages (``fonts-dejavu-core`` at least; ``fonts-opendin`` and
``fonts-liberation2`` add the DIN type of European plates and narrow sans faces); what is
missing is skipped.
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .data import split_of

FONT_DIRS = ("/usr/share/fonts/truetype",)
PLATE_FONTS = ("opendin/OSP-DIN.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf", "dejavu/DejaVuSansCondensed.ttf",
               "liberation2/LiberationSans-Bold.ttf", "liberation2/LiberationMono-Bold.ttf",
               "dejavu/DejaVuSansMono-Bold.ttf", "dejavu/DejaVuSans-Bold.ttf")
LABEL_FONTS = ("dejavu/DejaVuSerif-Bold.ttf", "dejavu/DejaVuSans-Bold.ttf",
               "dejavu/DejaVuSerifCondensed-BoldItalic.ttf",
               "liberation2/LiberationSerif-BoldItalic.ttf", "liberation2/LiberationSans-Regular.ttf",
               "dejavu/DejaVuSans-Oblique.ttf")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SERIAL_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"   # most North American serials issue no I, O or Q
DIGITS = "0123456789"

# Formats with their groups (a space between groups is where a gap, dash or emblem goes).
EU_FORMATS = {
    "DE": ["L LL NNNN", "LL L NNN", "LLL LL NN", "L L NNNN", "LL LL NNNN", "LLL L NNN"],
    "FR": ["LL NNN LL"], "IT": ["LL NNN LL"], "ES": ["NNNN LLL"],
    "NL": ["LL NNN L", "N LLL NN", "NN LLL N", "LL NN LL"],
    "PL": ["LL NNNNN", "LLL NNNN", "LL NNNLL"], "CZ": ["NLN NNNN", "NLL NNNN"], "AT": ["L NNNNN", "LL NNN LL"],
    "BE": ["N LLL NNN"], "PT": ["LL NN LL", "NN LL NN"], "SK": ["LL NNN LL"], "SI": ["LL LL NNN"],
    "HU": ["LLL NNN", "LL LL NNN"], "RO": ["LL NN LLL", "L NNN LLL"], "HR": ["LL NNN LL", "LL NNNN LL"],
    "LT": ["LLL NNN"], "SE": ["LLL NNL", "LLL NNN"], "FI": ["LLL NNN"], "DK": ["LL NN NNN"], "BG": ["LL NNNN LL"],
    "EST": ["NNN LLL"], "LV": ["LL NNNN"], "IRL": ["NN L NNNN", "NNN L NNNN"], "GR": ["LLL NNNN"],
}
UK_FORMATS = ["LLNN LLL"]
BR_FORMATS = ["LLLNLNN", "LLL NNNN"]
US_FORMATS = ["NLLLNNN", "LLL NNNN", "LLL NNN", "NNN LLL", "LLNNNNN", "NLL NNNN", "LL NNNNN", "NNN NNNN",
              "LLL NNL", "NNNN LL", "NNNNNN", "LNN LLL", "LL NNNN", "NNN LLLL", "LLLL NN", "NLLNNN", "NN LLLL",
              "LLN NNNN", "LLLL NNN", "NNLLNNN", "NNNNNNN", "LNNNNNN", "LLNNL", "NNLL NN"]
US_STATES = ("ALABAMA", "ALASKA", "ARIZONA", "CALIFORNIA", "COLORADO", "CONNECTICUT", "DELAWARE", "FLORIDA",
             "GEORGIA", "IDAHO", "ILLINOIS", "INDIANA", "IOWA", "KANSAS", "KENTUCKY", "MAINE", "MARYLAND",
             "MICHIGAN", "MISSOURI", "NEVADA", "NEW JERSEY", "New York", "OHIO", "OREGON", "Pennsylvania",
             "TEXAS", "UTAH", "VIRGINIA", "WASHINGTON", "Wisconsin", "ONTARIO", "QUEBEC", "California",
             "Texas", "Florida", "Arizona")
SLOGANS = ("SUNSHINE STATE", "THE LONE STAR STATE", "Land of Lincoln", "visitPA.com", "dmv.ca.gov",
           "GRAND CANYON STATE", "Yours to discover", "EMPIRE STATE", "Great Lakes", "FAMOUS POTATOES",
           "SHOW-ME STATE", "Je me souviens", "VIRGINIA IS FOR LOVERS", "Wild, Wonderful")
INK = ((20, 20, 20), (110, 30, 20), (30, 30, 140), (20, 90, 30), (40, 40, 40), (130, 20, 20), (10, 40, 100))


@dataclass
class Rendered:
    image: np.ndarray      # BGR
    plate: str
    region: str
    box: tuple             # (x, y, w, h) of the characters in ``image``


def fonts(names):
    found = []
    for name in names:
        for root in FONT_DIRS:
            path = Path(root) / name
            if path.is_file():
                found.append(str(path))
                break
    return found


class Renderer:
    """Plates of ``regions`` (``EU``, ``UK``, ``BR``, ``US``) whose text falls in ``split`` (the
    split by plate of :mod:`recognition.training.data`), drawn from ``rng``."""

    def __init__(self, rng, split="train"):
        self.rng = rng
        self.split = split
        self.plate_fonts = fonts(PLATE_FONTS)
        self.label_fonts = fonts(LABEL_FONTS) or self.plate_fonts
        if not self.plate_fonts:
            raise FileNotFoundError("no plate fonts: apt-get install fonts-dejavu-core (fonts-opendin, "
                                    "fonts-liberation2 add more)")
        self._cache = {}

    def render(self, region):
        draw = {"EU": self._eu, "UK": self._uk, "BR": self._mercosul, "US": self._us}[region]
        return draw()

    # ---- texts

    def text(self, formats, letters=LETTERS):
        """A text in one of ``formats`` whose plate falls in this renderer's split; groups keep
        their spaces (the renderer draws them as gaps, dashes or emblems)."""
        rng = self.rng
        while True:
            fmt = formats[rng.integers(len(formats))]
            text = "".join(letters[rng.integers(len(letters))] if c == "L" else
                           DIGITS[rng.integers(10)] if c == "N" else c for c in fmt)
            if split_of(text.replace(" ", "")) == self.split:
                return text

    # ---- drawing helpers

    def _font(self, path, size):
        key = (path, size)
        if key not in self._cache:
            self._cache[key] = ImageFont.truetype(path, size)
        return self._cache[key]

    def _pick(self, items):
        return items[self.rng.integers(len(items))]

    def _characters(self, canvas, text, box, ink, font, separators):
        """Draw ``text`` (groups split by spaces) to fill ``box`` (x, y, w, h) of ``canvas`` (PIL);
        returns the box the characters cover."""
        rng = self.rng
        x0, y0, bw, bh = box
        groups = text.split(" ")
        size = int(bh * 1.25)
        face = self._font(font, size)
        glyphs = "".join(groups)
        top, bottom = min(face.getbbox(c)[1] for c in glyphs), max(face.getbbox(c)[3] for c in glyphs)
        spacing = size * rng.uniform(0.02, 0.12)
        gap = size * rng.uniform(0.25, 0.6) if len(groups) > 1 else 0
        widths = [face.getlength(c) for c in glyphs]
        total = sum(widths) + spacing * (len(glyphs) - 1) + gap * (len(groups) - 1)
        layer = Image.new("L", (int(total + 4), int(bottom - top + 4)), 0)
        pen = ImageDraw.Draw(layer)
        x, index, gaps = 2.0, 0, []
        for g, group in enumerate(groups):
            for c in group:
                pen.text((x, 2 - top), c, font=face, fill=255)
                x += widths[index] + spacing
                index += 1
            if g < len(groups) - 1:
                gaps.append(x - spacing + gap / 2)
                x += gap
        # Narrow type (most plates): squeeze the line to the box, never stretch it beyond.
        target_w = min(bw, int(layer.width * bh / layer.height * rng.uniform(0.7, 1.0)))
        layer = layer.resize((max(target_w, 8), bh), Image.LANCZOS)
        ox = x0 + (bw - layer.width) // 2
        canvas.paste(Image.new("RGB", layer.size, ink), (ox, y0), layer)
        scale = layer.width / (total + 4)
        mark = ImageDraw.Draw(canvas)
        kind = self._pick(separators)
        for gx in gaps:
            cx, cy, r = ox + gx * scale, y0 + bh / 2, bh * rng.uniform(0.12, 0.22)
            if kind == "dash":
                mark.rectangle((cx - r, cy - bh * 0.05, cx + r, cy + bh * 0.05), fill=ink)
            elif kind == "dot":
                mark.ellipse((cx - bh * 0.06, cy - bh * 0.06, cx + bh * 0.06, cy + bh * 0.06), fill=ink)
            elif kind == "emblem":   # a state's emblem or the inspection sticker between the groups
                colour = tuple(int(v) for v in rng.integers(0, 256, 3))
                mark.ellipse((cx - r, cy - r * 1.3, cx + r, cy + r * 1.3), fill=colour)
        return (ox, y0, layer.width, bh)

    def _background(self, size, colours):
        rng = self.rng
        w, h = size
        a, b = (np.array(self._pick(colours), np.float32) for _ in range(2))
        t = np.linspace(0, 1, h if rng.random() < 0.7 else w, dtype=np.float32)[:, None]
        ramp = a + (b - a) * t * rng.uniform(0, 1)
        image = np.repeat(ramp[:, None, :], w, axis=1) if len(t) == h else np.repeat(ramp[None, :, :], h, axis=0)
        return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")

    def _finish(self, canvas, text, region, box):
        return Rendered(cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR), text.replace(" ", ""), region, box)

    # ---- regions

    def _eu(self):
        rng = self.rng
        country = self._pick(sorted(EU_FORMATS))
        text = self.text(EU_FORMATS[country])
        h = int(rng.integers(90, 130))
        w = int(h * rng.uniform(4.2, 4.8))
        yellow = country == "NL" or rng.random() < 0.08
        paper = [(245, 200, 20), (235, 190, 30)] if yellow else [(245, 245, 245), (225, 228, 230), (250, 250, 250)]
        canvas = self._background((w, h), paper)
        pen = ImageDraw.Draw(canvas)
        pen.rectangle((1, 1, w - 2, h - 2), outline=(20, 20, 20), width=max(2, h // 30))
        band = int(h * 0.4)
        pen.rectangle((3, 3, band, h - 4), fill=(10, 50, 160))
        for k in range(12):  # the ring of stars
            angle = 2 * np.pi * k / 12
            cx, cy = band / 2 + np.cos(angle) * band * 0.25, h * 0.3 + np.sin(angle) * band * 0.25
            pen.ellipse((cx - 1.5, cy - 1.5, cx + 1.5, cy + 1.5), fill=(250, 210, 0))
        pen.text((band * 0.15, h * 0.6), country, font=self._font(self.plate_fonts[0], int(h * 0.28)),
                 fill=(255, 255, 255))
        font = self.plate_fonts[0] if rng.random() < 0.7 else self._pick(self.plate_fonts)
        ink = (20, 20, 20) if rng.random() < 0.9 else (150, 20, 20)
        box = self._characters(canvas, text,
                               (band + int(h * 0.1), int(h * 0.14), w - band - int(h * 0.2), int(h * 0.72)),
                               ink, font, ("gap", "gap", "dash", "emblem"))
        return self._finish(canvas, text, "EU", box)

    def _uk(self):
        rng = self.rng
        text = self.text(UK_FORMATS)
        h = int(rng.integers(90, 130))
        w = int(h * 4.7)
        canvas = self._background((w, h), [(245, 200, 20)] if rng.random() < 0.5 else [(245, 245, 245)])
        font = self._pick(self.plate_fonts)
        box = self._characters(canvas, text, (int(h * 0.3), int(h * 0.15), w - int(h * 0.6), int(h * 0.7)),
                               (15, 15, 15), font, ("gap",))
        return self._finish(canvas, text, "UK", box)

    def _mercosul(self):
        rng = self.rng
        text = self.text(BR_FORMATS[:1])
        h = int(rng.integers(100, 140))
        w = int(h * 3.1)
        canvas = self._background((w, h), [(245, 245, 245), (235, 235, 235)])
        pen = ImageDraw.Draw(canvas)
        pen.rectangle((0, 0, w - 1, int(h * 0.24)), fill=(20, 60, 160))
        pen.text((w * 0.4, h * 0.02), "BRASIL", font=self._font(self.label_fonts[0], int(h * 0.16)),
                 fill=(255, 255, 255))
        pen.rectangle((1, 1, w - 2, h - 2), outline=(20, 20, 20), width=max(2, h // 40))
        ink = (20, 20, 20) if rng.random() < 0.85 else self._pick([(160, 20, 20), (20, 90, 30), (20, 40, 140)])
        box = self._characters(canvas, text, (int(h * 0.12), int(h * 0.34), w - int(h * 0.24), int(h * 0.56)),
                               ink, self.plate_fonts[0] if rng.random() < 0.7 else self._pick(self.plate_fonts),
                               ("gap",))
        return self._finish(canvas, text, "BR", box)

    def _us(self):
        rng = self.rng
        text = self.text(US_FORMATS, SERIAL_LETTERS if rng.random() < 0.85 else LETTERS)
        h = int(rng.integers(100, 160))
        w = int(h * rng.uniform(1.9, 2.1))
        paper = [(250, 250, 250), (230, 235, 245), (215, 230, 250), (250, 245, 215), (250, 240, 200),
                 (240, 250, 240), (200, 220, 250), (250, 220, 200), (40, 50, 110), (250, 250, 235)]
        canvas = self._background((w, h), paper)
        dark = np.mean(np.asarray(canvas)[h // 2, w // 2]) < 110
        pen = ImageDraw.Draw(canvas)
        for _ in range(int(rng.integers(0, 4))):  # scenery printed on the plate
            x, y = int(rng.integers(0, w)), int(rng.integers(h // 3, h))
            r = int(rng.integers(h // 8, h // 2))
            colour = tuple(int(v) for v in np.clip(rng.normal(200, 40, 3), 0, 255))
            pen.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
        ink = (235, 235, 235) if dark else self._pick(INK)
        label_ink = self._pick(INK) if not dark else (240, 200, 40)
        state = self._pick(US_STATES)
        face = self._font(self._pick(self.label_fonts), int(h * rng.uniform(0.14, 0.2)))
        pen.text((w / 2, h * 0.12), state, font=face, fill=label_ink, anchor="mm")
        if rng.random() < 0.7:
            pen.text((w / 2, h * 0.9), self._pick(SLOGANS), font=self._font(self._pick(self.label_fonts), int(h * 0.1)),
                     fill=label_ink, anchor="mm")
        for corner in range(int(rng.integers(0, 3))):  # registration stickers
            sw, sh = int(h * 0.3), int(h * 0.16)
            x = 4 if corner == 0 else w - sw - 4
            pen.rectangle((x, 4, x + sw, 4 + sh), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
            pen.text((x + 2, 5), f"{rng.integers(1, 13):02d}", font=self._font(self.label_fonts[0], sh - 3),
                     fill=(0, 0, 0))
        box = self._characters(canvas, text, (int(w * 0.05), int(h * rng.uniform(0.25, 0.32)), int(w * 0.9),
                                              int(h * rng.uniform(0.42, 0.52))),
                               ink, self._pick(self.plate_fonts), ("gap", "gap", "dash", "dot", "emblem"))
        if rng.random() < 0.8:
            pen.rounded_rectangle((1, 1, w - 2, h - 2), radius=h // 12, outline=(60, 60, 60), width=max(2, h // 40))
        return self._finish(canvas, text, "US", box)
