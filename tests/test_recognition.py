"""Plate recognition on pixels the tests make themselves: region rules, image checks, and the
PP-OCR pipeline reading a rendered plate in a noisy, slightly rotated scene."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from zope.interface import implementer

from recognition import regions
from recognition.images import ImageRejected, decode
from recognition.pipeline import IPlateReader, PlateRecognizer


@pytest.mark.parametrize("text, allowed, plate, region", [
    ("RK-896A0", ["EU"], "RK896AO", "EU"),     # a letter position read as a digit
    ("ABC 1234", ["BR"], "ABC1234", "BR"),     # Brazil, old
    ("ABC1D23", ["BR"], "ABC1D23", "BR"),      # Brazil, Mercosul
    ("A8C1D23", ["BR"], "ABC1D23", "BR"),
    ("AB12 CDE", ["UK"], "AB12CDE", "UK"),
    ("7ABC123", ["US"], "7ABC123", "US"),
])
def test_region_formats_fix_confusable_characters(text, allowed, plate, region):
    fitted = regions.fit(text, allowed)
    assert (fitted.text, fitted.region) == (plate, region)


@pytest.mark.parametrize("text", ["12345", "2014-06-16", "AB", "ABCDEFGHIJK", "A-B"])
def test_strings_that_cannot_be_plates(text):
    assert regions.fit(text, ["US"]) is None


def test_specific_formats_beat_generic_ones_and_words_cost_confidence():
    assert regions.fit("LM-298A1").text == "LM298AI"          # LLNNNLL rather than "any mix"
    assert regions.fit("ABC1D234", ["BR"]).text == "ABC1D23"   # a stray character from the frame
    vanity = regions.fit("FZRULZ", ["US"])
    assert vanity.text == "FZRULZ" and vanity.factor < 0.9


@pytest.mark.parametrize("text, allowed, plate, region", [
    ("1B8:0338", None, "1B80338", "EU"),     # Czech NL?NNNN, not LNNNNNN with 1 read as I
    ("2T480211", None, "2T40211", "EU"),     # the inspection sticker between the groups, read as 8
    ("HLO KTY1", None, "HL0KTY1", "US"),     # North American plates are issued with 0, not O
    ("1049338", ["US"], "1049338", "US"),    # digits only
    ("B-MW 1234", ["EU"], "BMW1234", "EU"),  # German: district, letters, digits
])
def test_national_formats(text, allowed, plate, region):
    fitted = regions.fit(text, allowed)
    assert (fitted.text, fitted.region) == (plate, region)


def test_words_keep_their_letters_and_are_marked_as_words():
    word = regions.fit("LOTOS", ["US"])
    assert word.word and word.text == "LOTOS"  # no O->0 in a word
    assert regions.fit("0140616", ["US"]).text == "0140616"
    assert regions.fit("2014-06-16", ["US"]) is None  # digits only after dropping one: a date
    sign = regions.fit("STOR-IT")  # a storage company's sign; LLLLNN only with both digits made up
    assert sign.word and sign.ceiling < 0.85


def test_jurisdiction_from_surrounding_text():
    assert regions.jurisdiction([("California", 0.9)]) == ("CA", "USA", 0.9)
    assert regions.jurisdiction([("ONTARIO", 0.95)])[:2] == ("ON", "CAN")
    assert regions.jurisdiction([("D", 0.9)])[:2] == (None, "DE")
    assert regions.jurisdiction([("dealer", 0.9)]) == (None, None, 0.0)
    assert regions.jurisdiction([("BRASIL", 0.97)]) == (None, "BRA", 0.97)
    assert regions.jurisdiction([("SAO PAULO - SP", 0.93)]) == ("SP", "BRA", 0.93)  # old Brazilian plates
    assert regions.jurisdiction([("ZONE - XY", 0.9)]) == (None, None, 0.0)
    assert regions.place_name("Texas") and regions.place_name("BRASIL") and not regions.place_name("ABC1D23")


def scene(plate="7ABC123", angle=4.0, seed=7, body=(60, 60, 70)):
    """A car-ish scene (its body BGR ``body``) with a white plate, black characters, a slight tilt
    and noise."""
    rng = np.random.default_rng(seed)
    img = np.full((480, 720, 3), 90, np.uint8)
    cv2.rectangle(img, (120, 120), (600, 420), body, -1)                    # the car
    cv2.rectangle(img, (240, 250), (480, 330), (235, 235, 235), -1)         # the plate
    cv2.rectangle(img, (240, 250), (480, 330), (20, 20, 20), 3)
    cv2.putText(img, plate, (256, 310), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (15, 15, 15), 4, cv2.LINE_AA)
    turn = cv2.getRotationMatrix2D((360, 290), angle, 1.0)
    img = cv2.warpAffine(img, turn, (720, 480), borderValue=(90, 90, 90))
    img = cv2.GaussianBlur(img, (3, 3), 0)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def encoded(image, ext=".jpg"):
    return cv2.imencode(ext, image)[1].tobytes()


@pytest.fixture(scope="module")
def recognizer():
    return PlateRecognizer()


@pytest.mark.parametrize("plate", ["7ABC123", "KX52ZTW"])
def test_reads_a_rendered_plate(recognizer, plate):
    reading = recognizer.recognize(decode(encoded(scene(plate))))
    assert reading.plate == plate
    assert 0 < reading.confidence <= 1
    x, y, w, h = reading.box
    assert x < 360 < x + w and y < 290 < y + h  # the box is on the plate
    assert set(reading.timings) >= {"read", "total"}


def test_the_body_colour_is_a_hint_in_the_reading(recognizer):
    reading = recognizer.recognize(decode(encoded(scene(body=(35, 35, 190)))))
    assert reading.plate == "7ABC123" and reading.colour == "RED" and 0.5 <= reading.colour_confidence <= 1


@pytest.mark.parametrize("body, colour", [
    ((35, 35, 190), "RED"), ((170, 80, 20), "BLUE"), ((245, 245, 245), "WHITE"), ((25, 25, 25), "BLACK"),
    ((165, 165, 165), "SILVER"), ((40, 150, 40), "GREEN"), ((30, 200, 230), "YELLOW"), ((30, 70, 110), "BROWN"),
])
def test_body_colours(body, colour):
    from recognition.colour import body_colour
    img = np.full((480, 720, 3), 90, np.uint8)
    cv2.rectangle(img, (120, 120), (600, 420), body, -1)
    cv2.rectangle(img, (300, 280), (420, 320), (235, 235, 235), -1)  # the plate
    assert body_colour(img, (300, 280, 120, 40))[0] == colour


def test_no_colour_is_claimed_when_the_body_does_not_agree():
    from recognition.colour import body_colour
    stripes = np.zeros((480, 720, 3), np.uint8)
    for i in range(0, 720, 30):  # a patchwork of four colours, none of them most of it
        stripes[:, i:i + 30] = [(35, 35, 190), (170, 80, 20), (40, 150, 40), (30, 200, 230)][i // 30 % 4]
    assert body_colour(stripes, (300, 280, 120, 40)) == (None, 0.0)
    assert body_colour(stripes, (0, 0, 4, 2)) == (None, 0.0)  # too few pixels to say


def test_no_plate_in_the_picture(recognizer):
    reading = recognizer.recognize(decode(encoded(np.full((200, 300, 3), 128, np.uint8), ".png")))
    assert reading.plate is None and reading.confidence == 0.0


class DetectorMissesIt:
    """The scene's text detector finds nothing (as on small plates in large frames); crops are
    still read by the real recogniser."""

    def __init__(self, reader):
        self.read_crops = reader.read_crops

    def read_lines(self, image):
        return []


def test_a_plate_the_text_detector_misses_is_found_by_its_shape_and_left_to_a_person(recognizer):
    reading = PlateRecognizer(DetectorMissesIt(recognizer.reader)).recognize(decode(encoded(scene("7ABC123"))))
    assert reading.plate == "7ABC123"
    assert reading.confidence <= 0.8 and "localise" in reading.timings  # read once: a person confirms
    x, y, w, h = reading.box
    assert 220 <= x <= 280 and 230 <= y <= 300 and 150 <= w <= 260  # the plate (240..480, 250..330)


def test_the_plate_finder_finds_a_plate_band_and_nothing_in_an_empty_picture():
    from recognition.localise import plate_regions
    boxes = plate_regions(scene("KX52ZTW"))
    assert boxes and any(x < 300 and x + w > 420 and 240 <= y + h / 2 <= 340 for x, y, w, h in boxes)
    assert plate_regions(np.full((480, 720, 3), 128, np.uint8)) == []


@pytest.mark.parametrize("data, why", [
    (b"", "empty"),
    (b"GIF89a....", "not a JPEG or PNG"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "broken"),
    (None, "too small"),
])
def test_bad_images_are_rejected_with_a_reason(data, why):
    if data is None:
        data = encoded(np.zeros((10, 10, 3), np.uint8), ".png")
    with pytest.raises(ImageRejected, match=why):
        decode(data)


def test_recognize_command_prints_json(tmp_path):
    path = tmp_path / "car.jpg"
    path.write_bytes(encoded(scene("7ABC123")))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff garbage")
    run = subprocess.run([sys.executable, "-m", "gateway", "recognize", "--json", "--clips", str(tmp_path / "clips"),
                          str(path), str(broken)], capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 1  # one image could not be read
    assert lines[0]["image"] == str(path) and lines[0]["plate"] == "7ABC123"
    assert lines[0]["region"] == "US"  # the configured facilities' plate formats (parkgate.toml: US)
    assert {"confidence", "candidates", "box"} <= set(lines[0])
    assert "broken" in lines[1]["error"]
    clip = decode((tmp_path / "clips" / "car.plate.jpg").read_bytes())
    assert clip.shape[1] < 400 and clip.shape[0] < 200  # the plate, not the scene


def test_recognize_command_prints_the_license_plate_element(tmp_path):
    from lxml import etree
    path = tmp_path / "car.jpg"
    path.write_bytes(encoded(scene("7ABC123")))
    run = subprocess.run([sys.executable, "-m", "gateway", "recognize", "--xml", str(path)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    plate = etree.fromstring(run.stdout.encode())
    ns = "{urn:parkgate:v1}"
    assert plate.tag == f"{ns}LicensePlate"
    assert [child.tag for child in plate][0] == f"{ns}Number" and plate.findtext(f"{ns}Number") == "7ABC123"
    assert [child.tag for child in plate][-1] == f"{ns}Confidence"
    assert 0 < float(plate.findtext(f"{ns}Confidence")) <= 1


def test_tesseract_reader_behind_the_same_interface():
    from zope.interface.verify import verifyObject

    from recognition.pipeline import IPlateReader, TesseractReader
    reader = TesseractReader()
    assert verifyObject(IPlateReader, reader)
    plate = np.full((80, 300, 3), 255, np.uint8)
    cv2.putText(plate, "7ABC123", (12, 58), cv2.FONT_HERSHEY_SIMPLEX, 1.7, (0, 0, 0), 4, cv2.LINE_AA)
    (text, score), = reader.read_crops([plate])
    assert regions.normalise(text) == "7ABC123" and 0 < score <= 1


def test_character_vote():
    from recognition.voting import vote
    text, conf = vote([("7ABC123", 0.9), ("7A8C123", 0.6), ("7ABC123", 0.8)])
    assert text == "7ABC123" and 0 < conf < 0.9   # the 8 in one reading lowers the certainty
    assert vote([("7ABC123", 0.9), ("7ABC1234", 0.3)])[0] == "7ABC123"
    assert vote([]) == (None, 0.0)


def mercosul_scene(plate="BRA2E19"):
    """A Mercosul plate: white, a blue band on top with BRASIL in it."""
    img = np.full((480, 720, 3), 80, np.uint8)
    cv2.rectangle(img, (200, 220), (520, 340), (240, 240, 240), -1)
    cv2.rectangle(img, (200, 220), (520, 252), (160, 60, 20), -1)          # the blue band (BGR)
    cv2.putText(img, "BRASIL", (315, 245), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA)
    cv2.putText(img, plate, (222, 320), cv2.FONT_HERSHEY_SIMPLEX, 1.8, (10, 10, 10), 4, cv2.LINE_AA)
    return img


def test_reads_an_old_brazilian_plate_and_its_state(recognizer):
    img = np.full((480, 720, 3), 80, np.uint8)
    cv2.rectangle(img, (200, 220), (520, 340), (190, 190, 190), -1)  # grey, the city above the number
    cv2.putText(img, "SAO PAULO - SP", (250, 245), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (20, 20, 20), 2, cv2.LINE_AA)
    cv2.putText(img, "BFK-4820", (215, 320), cv2.FONT_HERSHEY_SIMPLEX, 1.8, (10, 10, 10), 4, cv2.LINE_AA)
    reading = recognizer.recognize(decode(encoded(img)))
    assert (reading.plate, reading.region, reading.jurisdiction, reading.country) == ("BFK4820", "BR", "SP", "BRA")


def test_reads_a_mercosul_plate_and_its_country(recognizer):
    reading = PlateRecognizer(recognizer.reader, regions_allowed=["BR"]).recognize(decode(encoded(mercosul_scene())))
    assert (reading.plate, reading.region, reading.country) == ("BRA2E19", "BR", "BRA")


@implementer(IPlateReader)
class LinesReader:
    """A reader double at the IPlateReader seam: the scene's lines are given, and a re-read of a
    crop says what the scene said about the line it was cut from (tells the crops apart by width)."""

    def __init__(self, lines):
        self.lines = [([[x, 10], [x + w, 10], [x + w, 40], [x, 40]], text, score) for x, w, text, score in lines]

    def read_lines(self, image):
        return self.lines

    def read_crops(self, crops):
        widths = {round(64 * (q[1][0] - q[0][0]) * 1.08 / 30 / 1.08): (t, s) for q, t, s in self.lines}
        return [min(widths.items(), key=lambda item: abs(item[0] - crop.shape[1]))[1] for crop in crops]


def recognize_lines(*lines):
    return PlateRecognizer(LinesReader(lines)).recognize(np.zeros((100, 900, 3), np.uint8))


def test_camera_timestamps_even_in_pieces_and_phone_numbers_are_not_plates():
    assert recognize_lines((0, 200, "2014-04", 0.95), (300, 150, "AU4-1257", 0.86)).plate == "AU41257"
    assert recognize_lines((0, 100, "06:11843", 0.9), (300, 150, "SGT5A", 0.8)).plate == "SGT5A"
    assert recognize_lines((0, 120, "647-0604", 0.98), (300, 150, "AYE132", 0.9)).plate == "AYE132"


def test_letters_only_is_the_last_resort_and_never_sure():
    assert recognize_lines((0, 200, "SUNTRUP", 0.98), (300, 120, "VG9-X2G", 0.8)).plate == "VG9X2G"
    vanity = recognize_lines((0, 150, "FZRULZ", 0.99))
    assert vanity.plate == "FZRULZ" and vanity.confidence <= 0.8  # a person decides


def test_a_rare_length_is_for_a_person_to_confirm():
    partial = recognize_lines((300, 150, "4X4-WP", 0.99))  # "VW 4X4 WP" with its first group missed
    assert partial.plate == "4X4WP" and partial.confidence <= 0.8
    assert recognize_lines((300, 150, "7ABC123", 0.99)).confidence > 0.9


def test_openvino_computes_what_onnxruntime_computes(recognizer):
    """The networks run on OpenVINO instead of onnxruntime, the engine their wheel ships with:
    the same recogniser output (f32; over the classes its cut head keeps), and the detector's map
    (bf16 where the CPU has bf16 units) within bf16's rounding (a few pixels at a text's edge
    flip), so the same boxes."""
    from rapidocr_onnxruntime.utils import OrtInferSession

    from recognition.inference import DETECTOR, recogniser_path
    ocr = recognizer.reader._ocr
    image = scene("KX52ZTW")
    det_input = ocr.text_det.get_preprocess(max(image.shape[:2]))(image)
    line = cv2.resize(image[240:340, 230:490], (320, 48)).astype(np.float32)[np.newaxis].transpose(0, 3, 1, 2)
    line = line / 127.5 - 1
    for path, session, x, differs in ((DETECTOR, ocr.text_det.infer, det_input, np.mean),
                                      (recogniser_path(), ocr.text_rec.session, line, np.max)):
        reference = OrtInferSession({"model_path": str(path), "intra_op_num_threads": 1})(x)[0]
        if path != DETECTOR:   # our recogniser's head keeps the classes of a plate's lines: the same, renormalised
            kept = reference[..., ocr.text_rec.classes]
            reference = kept / kept.sum(axis=-1, keepdims=True)
        ours = session(x)[0]
        assert ours.shape == reference.shape and differs(np.abs(ours - reference)) < 1e-3
    boxes, ours = ocr.text_det(image)[0], ocr.text_det.infer
    try:
        ocr.text_det.infer = OrtInferSession({"model_path": str(DETECTOR), "intra_op_num_threads": 1})
        reference_boxes = ocr.text_det(image)[0]
    finally:
        ocr.text_det.infer = ours
    assert len(boxes) == len(reference_boxes) and np.abs(np.array(boxes) - np.array(reference_boxes)).max() <= 2



def test_a_missing_recogniser_model_says_how_to_install_it(monkeypatch):
    from recognition import inference
    monkeypatch.setattr(inference, "RECOGNISER_WHEEL", ("no-such-model-wheel", "1.0", "models/rec.onnx"))
    with pytest.raises(inference.MissingModel, match=r"pip install --no-deps no-such-model-wheel==1.0"):
        inference.recogniser_path()


@implementer(IPlateReader)
class PlateReaderDouble:
    """The scene's lines are given; the re-reads of the candidates say what ``tight`` (cut as
    found), ``lead`` (the likeliest cut longer to the left; else ``tight``) and ``wide`` (cut
    wider) say, in the candidates' order: the first batch is the tight cuts and the lead, the
    second the wide ones. ``alikes``: the look-alikes of the first tight cut's characters;
    ``batches``: how many crops each batch had."""

    def __init__(self, lines, tight, wide, lead=None, alikes=None):
        self.lines = [([[x, 10], [x + w, 10], [x + w, 40], [x, 40]], text, score) for x, w, text, score in lines]
        self.tight, self.wide, self.lead, self.alikes = tight, wide, lead or tight, alikes
        self.batches = []

    def read_lines(self, image):
        return self.lines

    def read_crops(self, crops):
        from recognition.platemodel import Decoded
        n = len(crops)
        reads = self.wide[:n] if self.batches else self.tight[:n - 1] + self.lead[:1]
        out = [Decoded(text, tuple(p for _ in text), tuple(("", 0.01) for _ in text), tuple(() for _ in text))
               for text, p in reads]
        if self.alikes and not self.batches:
            out[0] = Decoded(out[0].text, out[0].probs, out[0].runners, tuple(self.alikes))
        self.batches.append(n)
        return out


def calibrated(lines, tight, wide, lead=None, alikes=None, regions_allowed=None, batches=None, **extra_weights):
    from recognition.calibration import FEATURES, Calibration
    weights = dict.fromkeys(FEATURES, 0.0) | {"least": 1.0, "recut_agrees": 1.0, "scene_agrees": 1.0} | extra_weights
    reader = PlateReaderDouble(lines, tight, wide, lead, alikes)
    recognizer = PlateRecognizer(reader, regions_allowed, calibration=Calibration(tuple(weights.values())))
    reading = recognizer.recognize(np.zeros((100, 900, 3), np.uint8))
    if batches is not None:
        assert reader.batches == batches
    return reading


def test_with_a_calibration_the_plate_reader_decides_and_its_evidence_is_the_confidence():
    sure = calibrated([(300, 150, "7ABC1Z3", 0.9)], [("7ABC123", 0.99)], [("7ABC123", 0.99)])
    assert sure.plate == "7ABC123" and sure.evidence.recut_agrees and not sure.evidence.scene_agrees
    unsure = calibrated([(300, 150, "7ABC123", 0.9)], [("7ABC123", 0.6)], [("7ABC128", 0.6)])
    assert unsure.plate == "7ABC123" and unsure.confidence < sure.confidence and not unsure.evidence.recut_agrees
    assert sure.as_dict()["evidence"]["least"] == 0.99


def test_the_wider_cut_finds_a_character_the_detector_left_out():
    reading = calibrated([(300, 150, "ABC123", 0.9)], [("BC123", 0.9)], [("ABC1234", 0.95)])
    assert reading.plate == "ABC1234" and not reading.evidence.recut_agrees


def test_the_cut_longer_to_the_left_finds_a_leading_character_the_detector_dropped():
    reading = calibrated([(300, 150, "BC1234", 0.9)], [("BC1234", 0.9)], [("BC1234", 0.9)], lead=[("7BC1234", 0.95)])
    assert reading.plate == "7BC1234" and not reading.evidence.recut_agrees and not reading.evidence.longer
    dropped = calibrated([(300, 150, "BC1234", 0.9)], [("BC1234", 0.95)], [("BC1234", 0.95)],
                         lead=[("7BC1234", 0.9)], longer=-3.0)
    sure = calibrated([(300, 150, "BC1234", 0.9)], [("BC1234", 0.95)], [("BC1234", 0.95)], longer=-3.0)
    assert dropped.plate == sure.plate == "BC1234"        # the surer read decides ...
    assert dropped.evidence.longer and not sure.evidence.longer
    assert dropped.confidence < sure.confidence            # ... but a character may be missing


def test_a_sure_first_reading_that_the_scene_and_the_longer_cut_agree_with_is_not_cut_again():
    """Each crop read costs as much as the scene's text: the wider cuts are read only when the
    first batch leaves the plate open."""
    lines = [(300, 150, "7ABC123", 0.9), (500, 160, "4XYZ567", 0.5)]   # cuts of other sizes: read apart
    settled = calibrated(lines, [("7ABC123", 0.97), ("4XYZ567", 0.6)], [("7ABC123", 0.97)], batches=[3])
    assert settled.plate == "7ABC123" and settled.evidence.recut_agrees and not settled.evidence.longer
    unsure = calibrated(lines, [("7ABC123", 0.8), ("4XYZ567", 0.6)], [("7ABC123", 0.97), ("4XYZ567", 0.6)],
                        batches=[3, 2])
    assert unsure.plate == "7ABC123"
    dropped = calibrated([(300, 150, "BC1234", 0.9)], [("BC1234", 0.97)], [("BC1234", 0.97)],
                         lead=[("7BC1234", 0.95)], batches=[2, 1])
    assert dropped.plate == "BC1234" and dropped.evidence.longer
    likelier = calibrated(lines, [("7ABC123", 0.95), ("4XYZ567", 0.99)], [("7ABC123", 0.95), ("4XYZ567", 0.99)],
                          batches=[3, 2])
    assert likelier.plate == "4XYZ567"


def test_a_reading_that_depends_on_a_confusable_guess_is_less_sure():
    """Mercosul's fifth position: a D the reader also half saw as 0 is another valid plate (the old
    format); on a US plate an O half seen as 0 is no guess: the rules read both as 0."""
    br_guess = calibrated([(300, 150, "ABC1D23", 0.9)], [("ABC1D23", 0.9)], [("ABC1D23", 0.9)],
                          alikes=[(), (), (), (), (("0", 0.3),), (), ()], regions_allowed=["BR"], guesses=-2.0)
    br_sure = calibrated([(300, 150, "ABC1D23", 0.9)], [("ABC1D23", 0.9)], [("ABC1D23", 0.9)],
                         regions_allowed=["BR"], guesses=-2.0)
    assert br_guess.plate == br_sure.plate == "ABC1D23"
    assert br_guess.evidence.guesses == 1 and br_guess.evidence.guess_mass == pytest.approx(0.3)
    assert br_guess.evidence.alike_mass == pytest.approx(0.3) and br_guess.confidence < br_sure.confidence
    settled = calibrated([(300, 150, "7ABO123", 0.9)], [("7ABO123", 0.9)], [("7ABO123", 0.9)],
                         alikes=[(), (), (), (("0", 0.3),), (), (), ()], regions_allowed=["US"])
    assert settled.plate == "7AB0123" and settled.evidence.guesses == 0 and settled.evidence.alike_mass > 0
    us_guess = calibrated([(300, 150, "7ABD123", 0.9)], [("7ABD123", 0.9)], [("7ABD123", 0.9)],
                          alikes=[(), (), (), (("0", 0.2), ("O", 0.1)), (), (), ()], regions_allowed=["US"])
    assert us_guess.plate == "7ABD123" and us_guess.evidence.guesses == 1   # a D or a 0: both are plates


def test_with_a_calibration_words_are_still_the_last_resort():
    reading = calibrated([(0, 200, "PARKING", 0.99), (300, 150, "AU4-1257", 0.86)],
                         [("AU41257", 0.8), ("PARKING", 0.99)], [("AU41257", 0.8), ("PARKING", 0.99)])
    assert reading.plate == "AU41257"
    word = calibrated([(0, 200, "SUNTRUP", 0.98)], [("SUNTRUP", 0.99)], [("SUNTRUP", 0.99)])
    assert word.plate == "SUNTRUP" and word.confidence <= 0.8


@pytest.fixture(scope="module")
def plate_recognizer():
    from recognition.pipeline import recognizer
    return recognizer("plate")


@pytest.mark.parametrize("plate", ["7ABC123", "KX52ZTW"])
def test_the_plate_reader_reads_a_rendered_plate_with_a_calibrated_confidence(plate_recognizer, plate):
    reading = plate_recognizer.recognize(decode(encoded(scene(plate))))
    assert reading.plate == plate and 0 < reading.confidence < 1
    assert reading.evidence is not None and reading.evidence.recut_agrees
    x, y, w, h = reading.box
    assert x < 360 < x + w and y < 290 < y + h


def test_the_plate_reader_reads_a_mercosul_plate(plate_recognizer):
    reading = PlateRecognizer(plate_recognizer.reader, ["BR"], plate_recognizer.calibration).recognize(
        decode(encoded(mercosul_scene())))
    assert (reading.plate, reading.region, reading.country) == ("BRA2E19", "BR", "BRA")


def test_the_pool_reads_with_the_plate_reader_and_keeps_its_calibration_per_facility():
    from recognition import pool
    pool._load(None, "f32")
    assert pool._recognizer.calibration is not None
    reading = pool.recognize_image(encoded(scene("7ABC123")), regions=["US"])
    assert reading["plate"] == "7ABC123" and "evidence" in reading


def test_the_plate_reader_reads_nothing_on_a_blank_plate(plate_recognizer):
    reading = plate_recognizer.recognize(decode(encoded(scene(""))))
    assert reading.plate is None and reading.confidence == 0.0
