"""From pixels to a plate reading, in stages: scale, locate text, read it, fit it to plate formats
(and, when no text can be a plate, locate plates by their shape: :mod:`recognition.localise`),
choose, and say how sure we are.

The reader behind :class:`IPlateReader` is PP-OCR (a detection and a recognition model shipped
inside RapidOCR's wheels, run offline by OpenVINO, see :mod:`recognition.inference`):
on real photos it reads plates far better than Tesseract's stock English model. Nothing is
downloaded at run time.
"""

import re
import time
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np
from zope.interface import Interface, implementer

from . import READERS, regions
from .calibration import Calibration, Evidence, look_alike
from .colour import body_colour
from .localise import plate_regions
from .platemodel import CALIBRATION, MODEL, Decoded, PlateModel, decode

#: The recognisers behind read_crops: ``generic`` (PP-OCRv6 small as shipped, decoded for
#: plates) and ``plate`` (the same network fine-tuned here for plates, recognition/models).
RECOGNISERS = ("generic", "plate")

MAX_SIDE = 1280          # text is found on a copy at most this large, then re-read at full size
DETECT_MIN_SIDE = 720    # ... and never scaled up again before detection
REREAD = 3               # how many of the best candidates are re-read from the full-size image
MARGIN_PENALTY = 0.5     # how much a close runner-up lowers the confidence
DISAGREEMENT = 0.6       # the two readings of a candidate differ: this much of the confidence is left
NOT_READ = 0.05          # a calibrated reading less likely than this is no reading (calibrated path)
LOOSE = 0.5              # a line no format admits as read: its scene score counts this much
#: How each candidate is cut for the plate recogniser's re-reads (calibrated path): (across, up,
#: lead): as the detector found it, wider and taller (a first or last character it left out),
#: and longer to the left alone (a leading character dropped, the commonest miss on US plates).
#: A cut with a lead is made of the likeliest candidate only: each crop read costs ~20 ms a core.
CUTS = ((0.08, 0.08, 0.0), (0.3, 0.15, 0.0), (0.08, 0.08, 0.3))
SURE = 0.9               # a first re-read this sure, that the scene and the longer cut agree with, settles it
GUESS = 0.02             # a look-alike this likely at a character is a guess the reading depends on
# Camera timestamps (2014-06-16 06:46:42) also cut in pieces (2014-05-, 014-05-12, 06:11),
# clocks, phone numbers (376-8750, 1-800-), web addresses.
_NOT_PLATE_TEXT = re.compile(r"(19|20)\d\d[-./]\d|\d{2,4}[-./]\d{1,2}[-./]|\d{2}:\d{2}|"
                             r"^\W*\d{3}-\d{4}\W*$|\d{3}-\d{3,4}-|\d-800|www|\.com", re.IGNORECASE)


@dataclass
class Reading:
    plate: str | None
    confidence: float
    candidates: list = field(default_factory=list)   # [(text, confidence)], best first
    box: tuple | None = None                          # (x, y, w, h) in the original image
    jurisdiction: str | None = None
    country: str | None = None
    jurisdiction_confidence: float = 0.0
    region: str | None = None                         # the format family the plate fits
    colour: str | None = None                         # the body's colour around the plate: a hint
    colour_confidence: float = 0.0
    timings: dict = field(default_factory=dict)       # stage -> milliseconds
    clip: bytes | None = field(default=None, repr=False)  # JPEG of the plate, when asked for
    evidence: Evidence | None = field(default=None, repr=False)  # what the calibrated confidence was made of

    def as_dict(self):
        return {"plate": self.plate, "confidence": round(self.confidence, 4),
                "candidates": [{"plate": t, "confidence": round(c, 4)} for t, c in self.candidates],
                "box": list(self.box) if self.box else None, "jurisdiction": self.jurisdiction,
                "country": self.country, "jurisdiction_confidence": self.jurisdiction_confidence,
                "region": self.region, "colour": self.colour, "colour_confidence": self.colour_confidence,
                "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
                **({"evidence": asdict(self.evidence)} if self.evidence is not None else {})}


class IPlateReader(Interface):
    def read_lines(image):
        """[(quad, text, score)]: every line of text found in a BGR image, with its 4-point box."""

    def read_crops(crops):
        """[(text, score)]: one line of text read from each (already cut out and upright) crop."""


@implementer(IPlateReader)
class PPOCRReader:
    """``threads``: inference threads per reading. One: the pool runs one reader per core.
    ``precision``: see :data:`recognition.PRECISIONS`. ``recogniser``: what reads the crops
    (:data:`RECOGNISERS`; ``model``: another ONNX file of the plate recogniser's kind)."""

    def __init__(self, threads=1, precision="f32", recogniser="generic", model=None):
        from .inference import rapidocr  # loads the models: once per process
        if recogniser not in RECOGNISERS:
            raise ValueError(f"recogniser must be one of {', '.join(RECOGNISERS)}")
        self._ocr = rapidocr(threads, precision)
        self.recogniser = recogniser
        self.plate_model = (PlateModel(model or MODEL, threads=threads, precision=precision)
                            if recogniser == "plate" else None)
        # The detector scales an image up until its short side reaches this: keep it from
        # undoing our own scaling down (MAX_SIDE), which is where the time goes.
        self._ocr.text_det.limit_side_len = DETECT_MIN_SIDE
        self._classes = self._plate_classes(self._ocr.text_rec.postprocess_op.character)

    def read_lines(self, image):
        result, _ = self._ocr(image, use_cls=False)
        return [(quad, text, float(score)) for quad, text, score in (result or [])]

    def read_crops(self, crops):
        """[Decoded] (text, per-character probabilities and runners-up; ``score`` is the least
        sure character's probability). With the plate recogniser: its reading. With the
        generic one, plate-specific decoding: its per-step probabilities with lower-case
        letters folded into capitals and everything that cannot be on a plate (other scripts,
        most punctuation) masked out; dashes, dots, colons and spaces are kept (a plate's
        normalised text drops them, the timestamp check needs them)."""
        if self.plate_model is not None:
            return self.plate_model.read(crops)
        rec = self._ocr.text_rec
        results = []
        for crop in crops:
            h, w = crop.shape[:2]
            _, img_h, img_w = rec.rec_image_shape[:3]
            norm = rec.resize_norm_img(crop, max(img_w / img_h, w / max(h, 1)))[np.newaxis, :].astype(np.float32)
            probs = rec.session(norm)[0][0]            # (steps, classes), softmax
            results.append(self._decode(probs))
        return results

    def _decode(self, probs):
        columns, symbols, lower = self._classes
        folded = probs[:, columns].copy()
        folded[:, 1:] += np.where(lower >= 0, probs[:, np.maximum(lower, 0)], 0.0)
        folded /= folded.sum(axis=1, keepdims=True)
        return decode(folded, symbols)

    @staticmethod
    def _plate_classes(characters):
        """Class indexes of the blank, of A-Z, 0-9 and the separators, and of a-z (folded into
        A-Z)."""
        where = {c: i for i, c in enumerate(characters)}
        symbols = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:· " if c in where)
        columns = np.array([0] + [where[c] for c in symbols])
        lower = np.array([where.get(c.lower(), -1) if c.isalpha() else -1 for c in symbols])
        return columns, symbols, lower


@implementer(IPlateReader)
class TesseractReader:
    """Tesseract 5 through pytesseract: a second engine to compare with (it is not a plate reader:
    ~10% exact on real photos, see bench-alpr), useful for the small text around a plate.
    pytesseract starts one tesseract process per call (tens of milliseconds each)."""

    WHITELIST = "-c tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"

    def read_lines(self, image):
        import pytesseract
        data = pytesseract.image_to_data(image, config="--psm 11", output_type=pytesseract.Output.DICT)
        lines = {}
        for i, text in enumerate(data["text"]):
            conf = float(data["conf"][i])
            if not text.strip() or conf < 0:
                continue
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            x, y, w, h = (data[k][i] for k in ("left", "top", "width", "height"))
            words, quads, confs = lines.setdefault(key, ([], [], []))
            words.append(text)
            quads.append((x, y, w, h))
            confs.append(conf / 100)
        result = []
        for words, boxes, confs in lines.values():
            x0 = min(b[0] for b in boxes)
            y0 = min(b[1] for b in boxes)
            x1 = max(b[0] + b[2] for b in boxes)
            y1 = max(b[1] + b[3] for b in boxes)
            result.append(([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], " ".join(words), min(confs)))
        return result

    def read_crops(self, crops):
        import pytesseract
        out = []
        for crop in crops:
            data = pytesseract.image_to_data(crop, config=f"--psm 7 {self.WHITELIST}",
                                             output_type=pytesseract.Output.DICT)
            words = [(t, float(c) / 100) for t, c in zip(data["text"], data["conf"]) if t.strip() and float(c) >= 0]
            out.append(("".join(t for t, _ in words), min((c for _, c in words), default=0.0)))
        return out


def recognizer(reader="plate", precision="f32", regions_allowed=None, threads=1, calibration=CALIBRATION):
    """A :class:`PlateRecognizer` with one of :data:`READERS` (``plate``: with the calibration
    file ``calibration``, the shipped one unless told)."""
    if reader == "plate":
        return PlateRecognizer(PPOCRReader(threads, precision, recogniser="plate"), regions_allowed,
                               Calibration.load(calibration))
    if reader == "ppocr":
        return PlateRecognizer(PPOCRReader(threads, precision), regions_allowed)
    if reader == "tesseract":
        return PlateRecognizer(TesseractReader(), regions_allowed)
    raise ValueError(f"reader must be one of {', '.join(READERS)}")


class PlateRecognizer:
    """One per process (the models are loaded once). ``regions`` limits the formats admitted.

    ``calibration`` (a :class:`recognition.calibration.Calibration`): the plate reader's
    re-reads (one per cut: ``cuts``, else the calibration's, else :data:`CUTS`) decide the text
    and the confidence is the calibrated probability of the reading's evidence. Without it, the
    scene reading decides and the full-size re-read vouches for it (the reader as it was before
    the plate recogniser, kept for comparison)."""

    def __init__(self, reader=None, regions_allowed=None, calibration=None, cuts=None):
        self.reader = reader or PPOCRReader()
        self.regions_allowed = regions_allowed
        self.calibration = calibration
        # Cut as the calibration's readings were cut: its evidence means what it meant.
        self.cuts = cuts or getattr(calibration, "cuts", None) or CUTS
        self._once = {}   # (shape, hash of pixels) -> Decoded: the crops read in this picture

    def recognize(self, image, clip=False):
        """A Reading of ``image`` (BGR); with ``clip``, also a JPEG of the plate to store."""
        reading = self._recognize(image)
        if clip and reading.box is not None:
            x, y, w, h = reading.box
            pad_x, pad_y = w // 10, h // 4
            crop = image[max(y - pad_y, 0):y + h + pad_y, max(x - pad_x, 0):x + w + pad_x]
            if crop.size:
                reading.clip = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
        return reading

    def _recognize(self, image):
        timings = {}
        self._once = {}
        started = time.perf_counter()
        h, w = image.shape[:2]
        scale = min(1.0, MAX_SIDE / max(h, w))
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
        timings["scale"] = _ms(started)

        t = time.perf_counter()
        lines = self.reader.read_lines(small)
        timings["read"] = _ms(t)

        t = time.perf_counter()
        candidates = self._candidates(lines)
        timings["choose"] = _ms(t)

        localised = set()
        if all(fitted.word for _, fitted, _ in candidates):
            # No text found that can be a plate: look for a plate's shape instead (OpenCV), and
            # read what is there. Read only so, a plate is for a person to confirm.
            t = time.perf_counter()
            quads = [_quad(box) for box in plate_regions(small)]
            reads = self._read([_cut(small, quad, 1.0) for quad in quads])
            found = self._candidates([(quad, r.text, r.score) for quad, r in zip(quads, reads)])
            localised = {fitted.text for _, fitted, _ in found}
            candidates += found
            timings["localise"] = _ms(t)
        if any(not fitted.word for _, fitted, _ in candidates):
            candidates = [c for c in candidates if not c[1].word]  # letters only: the last resort
        candidates.sort(key=lambda c: c[0], reverse=True)

        t = time.perf_counter()
        top = candidates[:REREAD]
        if self.calibration is None:
            ranked = self._vouched(image, scale, top, localised)
        else:
            ranked = self._calibrated(image, scale, top, localised)
        timings["reread"] = _ms(t)

        others = [(text, score) for _, text, score in lines if regions.normalise(text) not in dict(ranked)]
        jurisdiction, country, j_conf = regions.jurisdiction(others)
        timings["total"] = _ms(started)
        if not ranked:
            return Reading(None, 0.0, timings=timings, jurisdiction=jurisdiction, country=country,
                           jurisdiction_confidence=j_conf)
        best_text, (confidence, quad, fitted, evidence) = ranked[0]
        if evidence is not None and confidence < NOT_READ:
            # The plate recogniser writes characters into anything plate-shaped (a blank plate,
            # a grille): this unsure, it has read nothing. A person sees the candidates.
            return Reading(None, 0.0, [(text, c) for text, (c, _, _, _) in ranked[:5]], timings=timings,
                           jurisdiction=jurisdiction, country=country, jurisdiction_confidence=j_conf)
        box = _box(quad, scale)
        t = time.perf_counter()
        colour, colour_confidence = body_colour(image, box)
        timings["colour"] = _ms(t)
        timings["total"] = _ms(started)
        return Reading(best_text, confidence, [(text, c) for text, (c, _, _, _) in ranked[:5]],
                       box, jurisdiction, country, j_conf, fitted.region, colour, colour_confidence, timings,
                       evidence=evidence)

    def _vouched(self, image, scale, top, localised):
        """[(text, (confidence, quad, Fit, None))], best first: the scene reading decides; the
        full-size, plate-decoded re-read vouches for it, and when both agree its least sure
        character says how sure we are."""
        scored = {}
        rereads = self._read([_cut(image, quad, scale) for _, _, quad in top])
        for (first, fitted, quad), again_read in zip(top, rereads):
            again = regions.fit(again_read.text, self.regions_allowed)
            if again is not None and again.text == fitted.text:
                confidence = min(first, again_read.score * again.factor)
            else:
                confidence = first * DISAGREEMENT
            if fitted.text in localised:
                confidence = min(confidence, regions.UNSURE)
            if confidence > scored.get(fitted.text, (0,))[0]:
                scored[fitted.text] = (confidence, quad, fitted, None)
        ranked = sorted(scored.items(), key=lambda item: item[1][0], reverse=True)
        if ranked:
            best_text, (best, quad, fitted, _) = ranked[0]
            runner_up = ranked[1][1][0] if len(ranked) > 1 else 0.0
            confidence = best * (1 - MARGIN_PENALTY * runner_up)  # two plausible plates: less sure
            ranked[0] = (best_text, (min(confidence, fitted.ceiling), quad, fitted, None))
        return ranked

    def _calibrated(self, image, scale, top, localised):
        """[(text, (confidence, quad, Fit, Evidence))], best first: each candidate is re-read
        from the full-size image once per cut (:data:`CUTS`; longer to the left: the likeliest
        only); the best fitting reading decides, and the confidence is the calibrated
        probability of its evidence. The cuts are read in two batches: each candidate as found
        and the likeliest one longer to the left first, the other cuts only when those leave the
        plate open (:meth:`_settled`): each crop read costs about as much as the scene's text."""
        plan = [(i, cut) for cut in self.cuts for i in range(len(top)) if not (cut[2] and i)]
        early = [p for p in plan if p[1] == self.cuts[0] or p[1][2]]
        reads = dict(zip(early, self._reread(image, scale, top, early)))
        if not self._settled(top, reads):
            rest = [p for p in plan if p not in reads]
            reads.update(zip(rest, self._reread(image, scale, top, rest)))
        cuts = [p for p in plan if p in reads]
        reads = [reads[p] for p in cuts]
        found = {}
        for i, (first, scene_fit, quad) in enumerate(top):
            mine = [read for (owner, _), read in zip(cuts, reads) if owner == i]
            fits = [regions.fit(read.text, self.regions_allowed) for read in mine]
            options = [(read.score * fitted.factor, n) for n, (read, fitted) in enumerate(zip(mine, fits))
                       if fitted is not None and len(read.probs) == len(regions.normalise(read.text))]
            if not options:
                continue
            raw, n = max(options, key=lambda o: o[0])   # the first cut on a tie
            read, fitted = mine[n], fits[n]
            others = [f for m, f in enumerate(fits) if m != n]
            runner_ups = [(c, r, p) for c, (r, p) in zip(read.text, read.runners)]
            guesses = _guesses(read, fitted, self.regions_allowed)
            evidence = {
                "least": read.score, "mean": float(np.mean(read.probs)),
                "margin": min((p - q for p, (_, q) in zip(read.probs, read.runners)), default=0.0),
                "look_alikes": sum(1 for (c, r, q), p in zip(runner_ups, read.probs)
                                   if look_alike(c, r) and q > 0.1 * p),
                "recut_agrees": all(f is not None and f.text == fitted.text for f in others),
                "scene_agrees": scene_fit.text == fitted.text, "scene": first, "fixes": fitted.cost,
                "regions": sum(regions.fit(read.text, [r]) is not None
                               for r in (self.regions_allowed or regions.REGIONS)),
                "generic": fitted.region == "US", "height": _height(quad) / scale, "length": len(fitted.text),
                "guesses": len(guesses), "guess_mass": sum(guesses),
                "alike_mass": max((q for alikes in read.alikes for _, q in alikes[:1]), default=0.0),
                "longer": any(f is not None and len(f.text) == len(fitted.text) + 1 and fitted.text in f.text
                              for f in others)}
            if raw > found.get(fitted.text, (0.0,))[0]:
                found[fitted.text] = (raw, quad, fitted, evidence)
        # Letters only (a sign, a word on the car) is the last resort here too.
        ranked = sorted(found.items(), key=lambda item: (not item[1][2].word, item[1][0]), reverse=True)
        out = []
        for n, (text, (_raw, quad, fitted, evidence)) in enumerate(ranked):
            rival = max((r for m, (_, (r, _, _, _)) in enumerate(ranked) if m != n), default=0.0)
            evidence = Evidence(rival=rival, **evidence)
            confidence = min(self.calibration.probability(evidence), fitted.ceiling)
            if text in localised:
                confidence = min(confidence, regions.UNSURE)
            out.append((text, (confidence, quad, fitted, evidence)))
        return out

    def _reread(self, image, scale, top, plan):
        """[Decoded] of each (candidate, cut) of ``plan``, in one batch."""
        crops = [_cut(image, top[i][2], scale, margin=(across, up), lead=lead) for i, (across, up, lead) in plan]
        return self._read(crops)

    def _read(self, crops):
        """[Decoded] of each crop, each distinct crop read once per picture: a plate found by its
        shape in a picture read at full size is cut again exactly so for its re-read."""
        keys = [(c.shape, hash(c.tobytes())) for c in crops]
        new = list(dict.fromkeys(k for k in keys if k not in self._once))
        if new:
            first = {k: c for k, c in zip(keys, crops)}
            self._once.update(zip(new, (_decoded(r) for r in self.reader.read_crops([first[k] for k in new]))))
        return [self._once[k] for k in keys]

    def _settled(self, top, reads):
        """Whether the first batch already decides: the likeliest candidate as found reads, as
        sure as :data:`SURE`, a plate of a usual length without fixes that the scene's reading and
        the cut longer to the left both read too, and no other candidate reads likelier."""
        if not top:
            return True
        fits = {p: (read, regions.fit(read.text, self.regions_allowed)) for p, read in reads.items()}
        read, fitted = fits[(0, self.cuts[0])]
        if (fitted is None or fitted.word or fitted.rare or fitted.cost or read.score < SURE
                or fitted.text != top[0][1].text):
            return False
        if any(f is None or f.text != fitted.text for (i, cut), (_, f) in fits.items() if i == 0 and cut[2]):
            return False
        return all(f is None or r.score * f.factor <= read.score for (i, _), (r, f) in fits.items() if i)

    def _candidates(self, lines):
        """[(score, Fit, quad)] of the lines of text that can be plates. With a calibration (the
        plate reader re-reads the candidates), also lines of plate length no format admits as
        read, as words: the last resort, re-read like the others."""
        candidates = []
        for quad, text, score in lines:
            if _NOT_PLATE_TEXT.search(text) or (":" in text and not any(c.isalpha() for c in text)):
                continue  # camera timestamps and clocks (also half-read ones), phone numbers, web addresses
            if regions.place_name(text):
                continue  # "TEXAS", "BRASIL": printed on the plate, but not its number
            fitted = regions.fit(text, self.regions_allowed)
            if fitted is not None:
                candidates.append((score * fitted.factor, fitted, quad))
            elif self.calibration is not None and 4 <= len(regions.normalise(text)) <= 10:
                candidates.append((score * LOOSE, regions.Fit(regions.normalise(text), "", regions.MAX_COST,
                                                              word=True), quad))
        return candidates


def _cut(image, quad, scale, margin=0.08, height=64, lead=0.0):
    """The quadrilateral ``quad`` (found on the scaled copy) cut from the full-size image, upright;
    ``margin``: how much wider and taller than the quadrilateral (a number, or (across, up));
    ``lead``: this much of its width more on the left alone."""
    across, up = (margin, margin) if np.isscalar(margin) else margin
    points = np.array(quad, dtype=np.float32) / scale
    centre = points.mean(axis=0)
    u = points[1] - points[0]
    u /= max(float(np.linalg.norm(u)), 1e-6)
    v = np.array([-u[1], u[0]], dtype=np.float32)
    offsets = points - centre
    points = centre + np.outer(offsets @ u * (1 + across), u) + np.outer(offsets @ v * (1 + up), v)
    if lead:
        points[[0, 3]] -= (points[[1, 2]] - points[[0, 3]]) * lead
    top = np.linalg.norm(points[1] - points[0])
    side = np.linalg.norm(points[3] - points[0])
    width = max(int(height * top / max(side, 1.0)), 8)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(points, target), (width, height),
                               flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _guesses(read, fitted, regions_allowed):
    """The probability of each look-alike (:data:`GUESS` or likelier) that would make the reading
    another plate the region rules admit: where they settle it (a US serial has no O: 0), it is
    no guess; where both are plates (Mercosul's fifth position: D or 0), the reading is a guess."""
    out = []
    for i, alikes in enumerate(read.alikes):
        for char, q in alikes:
            if q < GUESS:
                break
            other = regions.fit(read.text[:i] + char + read.text[i + 1:], regions_allowed)
            if other is not None and other.text != fitted.text:
                out.append(q)
                break
    return out


def _height(quad):
    """The height of a quadrilateral (its left and right sides' mean length)."""
    q = np.array(quad, dtype=np.float32)
    return float((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2)


def _decoded(read):
    """A reader's result for a crop as :class:`Decoded` (readers may give (text, score))."""
    if isinstance(read, Decoded):
        return read
    text, score = read
    return Decoded(text, (score,) * len(regions.normalise(text)), (("", 0.0),) * len(regions.normalise(text)))


def _quad(box):
    x, y, w, h = box
    return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]


def _box(quad, scale):
    xs = [p[0] / scale for p in quad]
    ys = [p[1] / scale for p in quad]
    return (int(min(xs)), int(min(ys)), int(max(xs) - min(xs)), int(max(ys) - min(ys)))


def _ms(since):
    return (time.perf_counter() - since) * 1000
