"""The plate recogniser's pipeline without torch: the split by plate, the renderer, the camera
degradations, the calibration, the exported model as the product runs it, the export of
resolved reviews as crops, and the bench's side-by-side report. A training smoke test runs
only where torch is installed (the training virtualenv)."""

import importlib.util
import io
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition import calibration, regions
from recognition.pipeline import PlateRecognizer
from recognition.platemodel import ALPHABET, CALIBRATION, HEIGHT, MODEL, WIDTH, Decoded, PlateModel, decode, prepare
from recognition.training import augment, data, heldout, pseudo
from recognition.training import calibrate as train_calibrate
from recognition.training.augment import FAR, degrade
from recognition.training.export import Review, export_reviews
from recognition.training.render import Renderer


def test_the_split_is_by_plate_and_stable():
    plates = [f"ABC{n:04d}" for n in range(2000)]
    splits = [data.split_of(p) for p in plates]
    assert data.split_of("ABC-0001") == data.split_of("abc0001") == splits[1]   # the text, normalised
    shares = {name: splits.count(name) / len(splits) for name in data.SPLITS}
    assert 0.70 < shares["train"] < 0.80 and 0.07 < shares["calibration"] < 0.13 and 0.07 < shares["test"] < 0.13


def write_crops(folder, plates, columns=2):
    folder.mkdir(parents=True)
    rows = []
    for n, plate in enumerate(plates):
        name = f"c{n}.png"
        cv2.imwrite(str(folder / name), np.full((40, 120, 3), 200, np.uint8))
        rows.append(f"{name}\tXX\t{plate}" if columns == 3 else f"{name}\t{plate}")
    (folder / "labels.tsv").write_text("\n".join(rows) + "\n")


def test_crops_of_a_split_never_share_a_plate_with_another(tmp_path):
    plates = [f"AB{n:05d}" for n in range(300)] + ["AB00001", "1", "TOOLONGPLATE"]
    write_crops(tmp_path / "br", plates)
    write_crops(tmp_path / "site", ["XY12345"], columns=3)
    by_split = {name: {c.plate for c in data.crops(tmp_path, name)} for name in data.SPLITS}
    assert sum(len(p) for p in by_split.values()) == 300   # the 1- and 12-character labels are not plates
    for a in data.SPLITS:
        for b in data.SPLITS:
            assert a == b or not by_split[a] & by_split[b]
    site = [c for c in data.crops(tmp_path, sites=[tmp_path / "site"]) if c.source == "site"]
    assert [(c.plate, c.region) for c in site] == [("XY12345", "XX")]


@pytest.mark.parametrize("region", ["US", "EU", "UK", "BR"])
def test_renders_are_plates_of_their_region_and_split(region):
    renderer = Renderer(np.random.default_rng(3), "test")
    for _ in range(20):
        plate = renderer.render(region)
        h, w = plate.image.shape[:2]
        x, y, bw, bh = plate.box
        assert plate.image.dtype == np.uint8 and plate.image.shape[2] == 3
        assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw > bh   # the characters' box
        assert data.split_of(plate.plate) == "test" and set(plate.plate) <= set(ALPHABET)
        fitted = regions.fit(plate.plate, [region] if region != "BR" else ["BR"])
        assert fitted is not None, plate.plate
        ink = plate.image[y:y + bh, x:x + bw].std()
        assert ink > 20   # something is drawn there


def test_renders_and_degradations_are_the_same_for_the_same_seed():
    def sample(seed):
        rng = np.random.default_rng(seed)
        plate = Renderer(rng).render("EU")
        return plate.plate, degrade(rng, plate.image, plate.box)
    (a, image_a), (b, image_b), (c, _) = sample(5), sample(5), sample(6)
    assert a == b and np.array_equal(image_a, image_b) and a != c


def test_degradations_make_camera_sized_crops():
    rng = np.random.default_rng(1)
    plate = Renderer(rng).render("US")
    heights = [degrade(rng, plate.image, plate.box, clean=0.0).shape[0] for _ in range(30)]
    assert max(heights) <= 40 and min(heights) >= 8


def test_a_far_camera_makes_smaller_blurrier_crops_and_only_when_asked():
    plate = Renderer(np.random.default_rng(1)).render("US")

    def crops(far):
        rng = np.random.default_rng(2)
        return [degrade(rng, plate.image, plate.box, clean=0.0, far=far) for _ in range(40)]

    def sharpness(crop):   # the edges' strength once scaled to the network's height
        grey = cv2.cvtColor(cv2.resize(crop, (crop.shape[1] * HEIGHT // crop.shape[0], HEIGHT)), cv2.COLOR_BGR2GRAY)
        return cv2.Laplacian(grey, cv2.CV_64F).var()

    near, far = crops(0.0), crops(1.0)
    assert max(c.shape[0] for c in far) <= FAR["max_height"] < max(c.shape[0] for c in near)
    assert np.median([sharpness(c) for c in far]) < np.median([sharpness(c) for c in near])
    # No share asked, nothing more drawn: the samples of a seed (validation, test) stay as they were.
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    sample = degrade(rng_a, plate.image, plate.box, clean=0.0)
    crop = augment.cut(rng_b, plate.image, plate.box)
    rng_b.random()   # degrade's draw for ``clean``
    made = augment.camera(rng_b, augment.light(rng_b, augment.perspective(rng_b, crop)))
    assert np.array_equal(sample, made) and rng_a.random() == rng_b.random()


def test_the_network_input_keeps_the_aspect_and_pads():
    wide = prepare(np.full((30, 400, 3), 255, np.uint8))
    narrow = prepare(np.full((48, 60, 3), 255, np.uint8))
    assert wide.shape == narrow.shape == (3, HEIGHT, WIDTH) and wide.dtype == np.float32
    assert np.allclose(wide, 1.0)                     # squeezed to the width
    assert np.allclose(narrow[:, :, :60], 1.0) and np.allclose(narrow[:, :, 60:], 0.0)


def test_decoding_gives_each_character_its_probability_and_runner_up():
    steps = np.full((6, 37), 0.001)
    for step, (cls, p) in enumerate([(1, 0.9), (0, 0.99), (1, 0.8), (ALPHABET.index("O") + 1, 0.6), (0, 0.9),
                                     (ALPHABET.index("A") + 1, 0.97)]):
        steps[step, cls] = p
    steps[3, 1] = 0.35   # the runner-up of that O is a 0
    read = decode(steps)
    assert read.text == "00OA" and read.probs == (0.9, 0.8, 0.6, 0.97) and read.score == 0.6
    assert read.runners[2] == ("0", 0.35)
    assert read.alikes[2] == (("0", 0.35),)           # the O's look-alikes the reader also saw
    assert read.alikes[3] == ()                       # the A's look-alike 4 is below the floor


def evidence(least, **changes):
    values = {"least": least, "mean": min(1.0, least + 0.05), "margin": least - 0.1, "look_alikes": 0,
              "recut_agrees": True, "scene_agrees": True, "scene": 0.9, "fixes": 0.0, "regions": 1, "generic": False,
              "height": 30.0, "rival": 0.0, "length": 7}
    values.update(changes)
    return calibration.Evidence(**values)


def test_the_calibration_is_fitted_to_the_evidence_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    sure = rng.uniform(0.3, 1.0, 600)
    recut = rng.random(600) < 0.7
    items = [evidence(p, recut_agrees=bool(r)) for p, r in zip(sure, recut)]
    correct = rng.random(600) < sure ** 3 * np.where(recut, 1.0, 0.5)   # surer and agreeing: likelier right
    fitted = calibration.fit(items, correct)
    assert fitted.probability(evidence(0.99)) > fitted.probability(evidence(0.6)) > fitted.probability(evidence(0.35))
    assert fitted.probability(evidence(0.9, recut_agrees=False)) < fitted.probability(evidence(0.9))
    path = tmp_path / "c.json"
    fitted.save(path, recommended_threshold=0.97)
    loaded = calibration.Calibration.load(path)
    assert loaded.probability(evidence(0.8)) == pytest.approx(fitted.probability(evidence(0.8)))
    bins = calibration.reliability([fitted.probability(e) for e in items], correct)
    assert sum(n for _, _, n, _, _ in bins) == 600
    for _low, _high, n, precision, mean in bins:
        if n >= 60:
            assert abs(precision - mean) < 0.12   # calibrated where there is enough to tell


def test_the_fit_stays_monotone_in_the_readers_sureness():
    """Where the least and the mean character's probability are nearly collinear, a free fit can
    weigh one against the other (round 5: a reading sure at 0.99 came out less likely than one at
    0.5); the fit holds the reader's sureness at weights of 0 or above."""
    rng = np.random.default_rng(3)
    least = rng.uniform(0.4, 0.995, 800)
    mean = np.clip(least + rng.uniform(0.0, 0.05, 800), 0, 0.9999)
    items = [evidence(a, mean=float(b)) for a, b in zip(least, mean)]
    z = 1.5 * np.log(least / (1 - least)) - 1.0 * np.log(mean / (1 - mean)) + 1.0
    correct = rng.random(800) < 1 / (1 + np.exp(-z))
    free = calibration.fit(items, correct, monotone=())
    assert dict(zip(free.features, free.weights))["mean"] < 0    # the trade the data invite
    fitted = calibration.fit(items, correct)
    weights = dict(zip(fitted.features, fitted.weights))
    assert all(weights[f] >= 0 for f in calibration.SURENESS)
    sure = [fitted.probability(evidence(p, mean=min(p + 0.01, 0.9999))) for p in (0.5, 0.8, 0.95, 0.99, 0.999)]
    assert sure == sorted(sure) and sure[-1] > sure[0]


def test_a_calibration_of_other_features_is_refused(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"features": ["least", "sharpness", "bias"], "weights": [1, 2, 0]}')
    with pytest.raises(ValueError, match="other features"):
        calibration.Calibration.load(path)


def test_a_calibration_of_fewer_features_loads_and_means_what_it_meant(tmp_path):
    """Round 1's file (fitted before the look-alike features) still gives its probabilities."""
    path = tmp_path / "c.json"
    path.write_text('{"features": ["least", "recut_agrees", "bias"], "weights": [1.5, 2.0, -1.0]}')
    old = calibration.Calibration.load(path)
    reading = evidence(0.9, recut_agrees=False, guesses=2, guess_mass=0.4)
    assert old.features == ("least", "recut_agrees", "bias")
    assert old.probability(reading) == pytest.approx(1 / (1 + math.exp(-(1.5 * math.log(9) - 1.0))))


def test_camera_crops_weigh_as_much_as_renders_in_the_fit():
    """Renders read right whatever their evidence, camera crops right only when sure: weighed by
    count, the renders decide; weighed half and half, the camera crops' lesson carries."""
    rng = np.random.default_rng(1)
    sure = rng.uniform(0.3, 1.0, 900)
    camera = np.arange(900) < 100
    correct = np.where(camera, rng.random(900) < sure ** 4, rng.random(900) < 0.97)
    items = [evidence(p) for p in sure]
    plain = calibration.fit(items, correct)
    weighted = calibration.fit(items, correct, weights=train_calibrate.source_weights(
        ["us" if c else "render-US" for c in camera]))
    unsure = evidence(0.45)
    assert weighted.probability(unsure) < plain.probability(unsure) - 0.15
    precision, coverage = calibration.weighted_precision([0.9, 0.95, 0.2], [True, False, True], [1, 3, 1], 0.9)
    assert precision == pytest.approx(0.25) and coverage == pytest.approx(0.8)


def test_source_weights_and_the_recommended_threshold():
    weights = train_calibrate.source_weights(["us", "br", "render-EU", "render-US", "render-BR", "br-synthetic"])
    assert sum(weights[:2]) == pytest.approx(sum(weights[2:])) == pytest.approx(0.5)
    assert train_calibrate.source_weights(["render-EU"] * 3) == [1.0] * 3
    confidences = [0.99, 0.98, 0.97, 0.96, 0.8, 0.6]
    right = [True, True, True, False, True, False]
    assert train_calibrate.recommended_threshold(confidences, right, [1] * 6) == 0.97
    assert train_calibrate.recommended_threshold([0.9], [False], [1]) is None


def test_the_regularisation_is_chosen_out_of_fold():
    """Each reading's held-out confidence comes from a fit that never saw its plate; the grid's
    regularisation with the least held-out log loss wins, and its confidences are calibrated."""
    rng = np.random.default_rng(2)
    sure = rng.uniform(0.3, 1.0, 500)
    items = [evidence(p) for p in sure]
    correct = rng.random(500) < sure ** 3
    plates = [f"P{n:05d}" for n in range(500)]
    l2, held_out = train_calibrate.regularised(items, correct, [1.0] * 500, plates)
    assert l2 in train_calibrate.L2_GRID and len(held_out) == 500
    assert train_calibrate.log_loss(held_out, correct, [1.0] * 500) < train_calibrate.log_loss(
        [0.5] * 500, correct, [1.0] * 500)
    assert abs(float(np.mean(held_out)) - float(np.mean(correct))) < 0.05


def test_look_alikes():
    assert calibration.look_alike("0", "O") and calibration.look_alike("I", "1") and calibration.look_alike("B", "8")
    assert not calibration.look_alike("A", "B")


def test_us_serials_have_no_q_and_an_i_among_digits_is_a_one():
    assert regions.fit("7Q8123", ["US"]).text == "708123"
    assert regions.fit("8I5ABC", ["US"]).text == "815ABC"
    assert regions.fit("627WWI", ["US"]).text == "627WWI"    # an I among letters is kept
    assert regions.fit("7Q8123", ["US"]).cost > regions.fit("708123", ["US"]).cost   # a guess costs


requires_model = pytest.mark.skipif(not MODEL.is_file(), reason="no trained plate recogniser in recognition/models")


@requires_model
def test_the_trained_recogniser_reads_rendered_camera_crops():
    """The shipped weights on renders of the test split (texts it was never trained on)."""
    rng = np.random.default_rng(11)
    model = PlateModel()
    for region in ("EU", "US", "BR"):
        renderer = Renderer(rng, "test")
        plates = [renderer.render(region) for _ in range(20)]
        reads = model.read([degrade(rng, p.image, p.box, clean=1.0) for p in plates])
        right = sum(r.text == p.plate for r, p in zip(reads, plates))
        assert right >= 16, (region, [(r.text, p.plate) for r, p in zip(reads, plates)])
        assert all(len(r.probs) == len(r.text) == len(r.runners) for r in reads)


@requires_model
def test_openvino_runs_the_exported_model_as_onnxruntime_does():
    import onnxruntime
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, HEIGHT, WIDTH)).astype(np.float32)
    reference = onnxruntime.InferenceSession(str(MODEL)).run(None, {"x": x})[0]
    model = PlateModel()
    model._request.infer({0: x})
    ours = model._request.get_output_tensor(0).data
    assert ours.shape == reference.shape == (2, WIDTH // 8, 37) and np.abs(ours - reference).max() < 1e-3


@requires_model
def test_the_shipped_calibration_matches_the_evidence_it_is_given():
    shipped = calibration.Calibration.load(CALIBRATION)
    assert shipped.probability(evidence(0.99)) > shipped.probability(evidence(0.5))


def jpeg(image):
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_resolved_reviews_become_labelled_crops_once(tmp_path):
    picture = np.full((300, 500, 3), 90, np.uint8)
    cv2.rectangle(picture, (200, 120), (320, 160), (240, 240, 240), -1)
    reviews = [Review(jpeg(picture), "ab-123 cd", (200, 120, 120, 40), "EU"),
               Review(b"not an image", "XY123"),
               Review(jpeg(picture), "XY123"),                              # no box and none to look for
               Review(jpeg(picture), "KX52ZTW", None, "UK"),
               Review(jpeg(picture), "")]
    located = export_reviews(reviews, tmp_path, locate=lambda image: [("KX52-ZTW", (190, 110, 140, 60))])
    assert len(located.written) == 2 and [i for i, _ in located.skipped] == [1, 2, 4]
    lines = (tmp_path / "labels.tsv").read_text().splitlines()
    assert [line.split("\t")[1:] for line in lines] == [["EU", "AB123CD"], ["UK", "KX52ZTW"]]
    crop = cv2.imread(str(tmp_path / lines[0].split("\t")[0]))
    assert crop.shape[:2] == (60, 144)               # the box with the clip's margins
    again = export_reviews(reviews[:1], tmp_path)
    assert again.written == [] and len((tmp_path / "labels.tsv").read_text().splitlines()) == 2
    assert [c.plate for c in data.crops(tmp_path / "none", sites=[tmp_path])] == ["AB123CD", "KX52ZTW"]


def test_the_bench_reports_readers_side_by_side_with_their_reliability():
    from recognition.bench import Sample, report
    from recognition.pipeline import Reading
    samples = [Sample(None, "ABC123", (0, 0, 10, 10)), Sample(None, "XYZ789", (0, 0, 10, 10))]
    rows = {"new": [(samples[0], Reading("ABC123", 0.995, [("ABC123", 0.995)], (0, 0, 20, 20), timings={"total": 90})),
                    (samples[1], Reading("XYZ789", 0.6, [("XYZ789", 0.6)], (0, 0, 20, 20), timings={"total": 110}))],
            "old": [(samples[0], Reading("ABC128", 0.9, [("ABC128", 0.9)], (0, 0, 20, 20), timings={"total": 200})),
                    (samples[1], None)]}
    out = io.StringIO()
    report("us", rows, out)
    text = out.getvalue()
    header, exact = text.splitlines()[1], text.splitlines()[2]
    assert header.split() == ["new", "old"] and exact.split()[1:] == ["100.0%", "0.0%"]
    assert "reliability" in text and "100% of 1" in text


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch: the training virtualenv only")
def test_training_smoke(tmp_path):
    """One short epoch on a few renders: the checkpoint, the export and the product's loader."""
    from recognition.inference import recogniser_path
    from recognition.training.train import train
    rng = np.random.default_rng(0)
    folder = tmp_path / "crops" / "us"
    folder.mkdir(parents=True)
    renderer = Renderer(rng, "train")
    rows = []
    for n in range(8):
        plate = renderer.render("US")
        cv2.imwrite(str(folder / f"{n}.png"), plate.image)
        rows.append(f"{n}.png\tXX\t{plate.plate}")
    (folder / "labels.tsv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "model.onnx"
    record = train(tmp_path / "crops", recogniser_path(), out, tmp_path / "work", epochs=1, epoch_size=16, batch=8,
                   validation_renders={"EU": 4}, log=lambda _: None)
    assert record["best"] == 0 and (tmp_path / "work" / "checkpoint.pt").is_file()
    assert len(PlateModel(out).read([np.full((30, 100, 3), 255, np.uint8)])) == 1


def sure(text, least=0.99):
    return Decoded(text, tuple([0.999] * (len(text) - 1) + [least]))


def test_a_pseudo_label_needs_both_readers_to_agree_sure_on_a_european_format():
    thresholds = (0.5, 0.8)
    assert pseudo.agreed(sure("AB1234"), sure("AB-1234"), thresholds) == "AB1234"   # separators dropped
    assert pseudo.agreed(sure("AB1234"), sure("AB1284"), thresholds) is None       # they disagree
    assert pseudo.agreed(sure("AB1234", 0.4), sure("AB1234"), thresholds) is None  # the first is unsure
    assert pseudo.agreed(sure("AB1234"), sure("AB1234", 0.7), thresholds) is None  # the second is unsure
    assert pseudo.agreed(sure("ABCDEFG"), sure("ABCDEFG"), thresholds) is None     # no European format
    assert pseudo.agreed(sure("ABC12O4"), sure("ABC12O4"), thresholds) is None     # fits only with a fix
    assert pseudo.agreed(sure("ABC1234"), sure("ABC1234"), thresholds, ("BR",)) == "ABC1234"


def test_the_pseudo_labels_thresholds_are_the_loosest_that_stay_precise():
    right = [(sure("AB1234", 0.8), sure("AB1234", 0.9), "AB1234", "EU")] * 99
    wrong_but_unsure = [(sure("AB1234", 0.6), sure("AB1234", 0.9), "AB1284", "EU")] * 5
    thresholds, figures = pseudo.choose(right + wrong_but_unsure, grid=(0.0, 0.5, 0.7, 0.9), min_kept=10)
    assert thresholds == (0.7, 0.9) and figures == {"n": 104, "kept": 99, "precision": 1.0, "coverage": 0.9519}
    assert pseudo.choose(wrong_but_unsure, grid=(0.0, 0.5), min_kept=1)[0] is None   # nothing is precise


def test_pseudo_labelled_crops_are_a_source_of_their_own_split_by_plate(tmp_path):
    folder = tmp_path / "eu-unlabelled"
    folder.mkdir()
    texts = {"eu-0.png": "AB1234", "eu-1.png": "XYZ", "eu-2.png": "CD5678"}
    for name in texts:
        cv2.imwrite(str(folder / name), np.full((40, 200, 3), 230, np.uint8))
    (folder / "eu-3.png").write_bytes(b"not a picture")
    names = sorted(texts)

    def plate(crops):
        return [sure(texts[n]) for n in names[:len(crops)]]

    def generic(crops):
        return [sure(texts[n]) if n != "eu-2.png" else sure("CD5670") for n in names[:len(crops)]]

    kept = pseudo.label(sorted(folder.glob("eu-[0-2].png")), (plate, generic), (0.5, 0.8))
    assert [(p.name, t) for p, t in kept] == [("eu-0.png", "AB1234")]
    out = pseudo.write(tmp_path / "pseudo", kept)
    found = data.crops(tmp_path / "no-shared-crops", pseudo=[out])
    assert [(c.plate, c.region, c.source, c.path.name) for c in found] == [("AB1234", "EU", "pseudo", "eu-0.png")]
    assert [c.plate for c in data.crops(tmp_path, data.split_of("AB1234"), pseudo=[out])] == ["AB1234"]
    assert cv2.imread(str(found[0].path)).shape == (40, 200, 3)


def test_pseudo_labelled_crops_leave_the_other_held_out_samples_as_they_were(tmp_path):
    renderer = Renderer(np.random.default_rng(0), "test")
    plates = [renderer.render("EU") for _ in range(3)]
    write_crops(tmp_path / "us", [p.plate for p in plates[:2]], columns=3)
    cv2.imwrite(str(tmp_path / "p.png"), plates[2].image)
    out = pseudo.write(tmp_path / "pseudo", [(tmp_path / "p.png", plates[2].plate)])
    before = heldout.samples(tmp_path, "test", 1, renders={"EU": 2})
    after = heldout.samples(tmp_path, "test", 1, renders={"EU": 2}, pseudo=[out])
    assert sorted(after) == ["pseudo", "render-EU", "us"] and len(after["pseudo"]) == 1
    assert all(np.array_equal(a, b) and s == t for g in before for (a, s), (b, t) in zip(before[g], after[g]))


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch: the training virtualenv only")
def test_pseudo_labelled_crops_take_their_share_from_the_eu_renders(tmp_path):
    from recognition.training.train import MIX, PSEUDO_SHARE, Samples
    out = tmp_path / "pseudo"
    cv2.imwrite(str(tmp_path / "a.png"), np.full((40, 200, 3), 230, np.uint8))
    plates = [f"AB{n:04d}" for n in range(40)]
    pseudo.write(out, [(tmp_path / "a.png", p) for p in plates])
    samples = Samples(tmp_path, 1, renders={"EU": 1}, pseudo=[out])
    assert samples.mix["pseudo"] == PSEUDO_SHARE
    assert samples.mix["render-EU"] == pytest.approx(MIX["render-EU"] - PSEUDO_SHARE)
    without = Samples(tmp_path, 1, renders={"EU": 1}).mix
    assert "pseudo" not in without and without["render-EU"] == MIX["render-EU"]


def test_held_out_errors_are_named_by_what_went_wrong():
    kind = heldout.error_kind
    assert kind("7ABC123", "ABC123") == "first character dropped"
    assert kind("7ABC123", "7ABC12") == "last character dropped"
    assert kind("7ABC123", "7ABCI23") == "1->I" and kind("ABC0123", "ABCO123") == "0->O"
    assert kind("7ABC123", "") == "nothing read" and kind("7ABC123", "7A8C12") == "shorter (other)"
    assert kind("7ABC123", "7ABCC123") == "longer" and kind("7ABC123", "1ABC128") == "two or more characters"
    figures = heldout.summary({"us": [("7ABC123", "7ABC123"), ("7ABC123", "ABC123")]})
    assert figures == {"us": {"n": 2, "exact": 0.5, "errors": {"first character dropped": 1}}}


def test_the_held_out_crops_are_the_same_for_the_same_seed(tmp_path):
    folder = tmp_path / "us"
    folder.mkdir()
    renderer = Renderer(np.random.default_rng(0), "test")
    rows = []
    for n in range(3):
        plate = renderer.render("US")
        cv2.imwrite(str(folder / f"{n}.png"), plate.image)
        rows.append(f"{n}.png\tXX\t{plate.plate}")
    (folder / "labels.tsv").write_text("\n".join(rows) + "\n")
    one, two = (heldout.samples(tmp_path, "test", 1, renders={"EU": 2}) for _ in range(2))
    assert sorted(one) == ["render-EU", "us"] and len(one["us"]) == 3 and len(one["render-EU"]) == 2
    assert all(np.array_equal(a, b) and s == t for g in one for (a, s), (b, t) in zip(one[g], two[g]))
    assert all(data.split_of(text) == "test" for g in one for _, text in one[g])


def test_the_training_export_command_writes_the_crops_of_resolved_reviews(tmp_path, capsys, request):
    """`parkgate training export`: from the gateway's review queue, only what a person resolved and kept
    the picture of, once however often it runs."""
    from datetime import datetime, timezone
    from decimal import Decimal

    from conftest import migrated_with_users
    from gateway.cli import main
    from gateway.store import audit, reviews
    from gateway.store.engine import Store
    from test_recognition import encoded, scene

    url = f"sqlite:///{tmp_path / 'gw.db'}"
    migrated_with_users(url, request)
    store = Store(url)
    at = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    with store.connection() as conn:
        for n, (image, resolved) in enumerate([(encoded(scene("7ABC123")), True), (b"not a picture", True),
                                               (encoded(scene("8XYZ789")), False)]):
            reviews.insert(conn, event_id=f"E{n}", facility_id="LOT-DOWNTOWN-A", camera_id="CAM-ENTRY-01",
                           direction="ENTRY", occurred_at=at, reason="LOW_CONFIDENCE", plate=None,
                           confidence=Decimal("0.4"), image=image, image_url=None, created_at=at)
            if resolved:
                review_id = reviews.open_of_event(conn, f"E{n}")
                reviews.resolve(conn, review_id, at, "officer", "7ABC123", "OPEN")
    store.dispose()
    out = tmp_path / "crops"
    args = ["--database-url", url, "training", "export", "--out", str(out)]
    assert main(args) == 0
    assert "1 crop(s) written" in capsys.readouterr().out
    (name, region, plate), = [line.split("\t") for line in (out / "labels.tsv").read_text().splitlines()]
    assert (region, plate) == ("US", "7ABC123") and (out / name).is_file()
    assert main(args + ["--since", "2026-12-01"]) == 0
    assert "0 crop(s) written" in capsys.readouterr().out
    assert main(args) == 0
    assert "0 crop(s) written" in capsys.readouterr().out and len((out / "labels.tsv").read_text().splitlines()) == 1
    # Each export is a query about the plates it took: "who looked at 7ABC123" finds the two that took it.
    store = Store(url)
    with store.connection() as conn:
        found = audit.find(conn, audit.AuditFilter(plate="7ABC123"))
    store.dispose()
    assert [(e.action, e.kind, e.username.startswith("cli:")) for e in found] == [
        ("ExportTrainingCrops", "QUERY", True)] * 2


@requires_model
def test_the_splits_reads_are_kept_and_read_again_without_the_networks(tmp_path):
    """The calibration's cache: a second pass over the same scenes gives the same readings, its
    evidence included, without running a network (the reader behind it refuses to)."""
    from recognition.training.cache import CachedReader
    from recognition.training.scenes import scene

    rng = np.random.default_rng(5)
    renderer = Renderer(rng, "test")
    frames = []
    for region in ("US", "EU"):
        plate = renderer.render(region)
        frames.append((scene(rng, plate.image, plate.box)[0], plate.plate, f"render-{region}"))
    shipped = calibration.Calibration.load(CALIBRATION)
    first = train_calibrate.read_all(train_calibrate.recognizer_for(MODEL, shipped, tmp_path / "reads"), frames,
                                     log=lambda _: None)
    assert (tmp_path / "reads" / "lines.json").is_file() and (tmp_path / "reads" / "probs.npz").is_file()

    class NoNetworks:
        plate_model = object()      # any read not in the cache fails loudly

        def read_lines(self, image):
            raise AssertionError("read a scene again")

    cached = CachedReader(NoNetworks(), tmp_path / "reads")
    again = train_calibrate.read_all(PlateRecognizer(cached, calibration=shipped), frames, log=lambda _: None)
    assert [(r.plate, r.confidence, r.evidence) for r, _, _ in again] == \
        [(r.plate, r.confidence, r.evidence) for r, _, _ in first]
    assert cached.hits == len(frames) and cached.misses == 0
    with pytest.raises(ValueError, match="plate recogniser"):
        CachedReader(type("Generic", (), {"plate_model": None})(), tmp_path / "other")


@requires_model
def test_bench_alpr_puts_another_calibration_beside_the_shipped_one(tmp_path, capsys):
    """`parkgate bench-alpr --calibration FILE`: the same reader with an older calibration (fitted on
    two cuts, fewer features), side by side in one run, on a folder in the dataset format; with
    ``--baseline DIR`` another checkout's reader beside them."""
    from gateway.cli import main
    from test_recognition import encoded, scene

    folder = tmp_path / "us"
    folder.mkdir()
    for n, plate in enumerate(("7ABC123", "8XYZ789")):
        (folder / f"car{n}.jpg").write_bytes(encoded(scene(plate)))
        (folder / f"car{n}.txt").write_text(f"car{n}.jpg 240 250 240 80 {plate}\n")
    older = tmp_path / "round1.json"
    older.write_text('{"features": ["least", "recut_agrees", "bias"], "weights": [1.0, 1.0, 0.0]}')
    checkout = Path(__file__).resolve().parents[1]   # another checkout's code: here, this one's own
    assert main(["bench-alpr", str(folder), "--reader", "plate", "--calibration", str(older),
                 "--baseline", str(checkout)]) == 0
    text = capsys.readouterr().out
    assert "readers plate (f32), plate round1, plate baseline" in text
    lines = text.splitlines()
    header = next(line for line in lines if "plate round1" in line and "readers" not in line)
    exact = next(line for line in lines if line.strip().startswith("exact"))
    assert header.split() == ["plate", "(f32)", "plate", "round1", "plate", "baseline"]
    assert exact.split()[1:] == ["100.0%"] * 3
    assert sys.modules["baseline_recognition.pipeline"].__file__.startswith(str(checkout))
