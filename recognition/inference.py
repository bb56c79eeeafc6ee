"""Where the PP-OCR networks run: OpenVINO, on one thread per reader.

The models are ONNX files shipped inside wheels, never downloaded at run time:
- the text detector (PP-OCRv4) from ``rapidocr-onnxruntime``, whose pre- and post-processing
  (RapidOCR's) the reader uses;
- the text recogniser (PP-OCRv6 small, multilingual) from ``rapidocr`` 3.10, RapidOCR's next
  major version. On the alpr-dev photos it reads 78% of North American plates exactly where
  the PP-OCRv4 recogniser of ``rapidocr-onnxruntime`` reads 70% (European: 90% and 88%).
  ``make install`` installs that wheel without its dependencies: only the model file is read
  (no ``import rapidocr``), and its dependency ``opencv-python-headless`` would overwrite the
  ``cv2`` of ``opencv-python``.

RapidOCR runs its models with onnxruntime. OpenVINO runs the same files, with the same results
in f32, in about 60% of the time. The sessions replace RapidOCR's own.

The detector runs in bf16 (:data:`DETECTOR_PRECISION`) whatever the recognisers' precision: it
is two thirds of a reading's time, bf16 units (AVX512-BF16, AMX) take ~30% off a reading, and
it only places boxes, which the re-reads cut with a margin; the text and its probabilities, which
the calibration was fitted on, stay the recognisers' (f32 unless told). A CPU without bf16
units runs it in f32.

The generic recogniser's 18,710-class head is cut to the classes a line near a plate is read as
(:func:`line_class`: CTC's blank and printable ASCII, 96): the head is ~12% of its time, and
the plate decoding folds and renormalises over those classes anyway, so its probabilities are
the same; a line's text differs only where another script's character was likeliest.
"""

import importlib.metadata
from pathlib import Path

import cv2
import numpy as np
import openvino as ov
import openvino.opset13 as opset
import rapidocr_onnxruntime

from . import PRECISIONS

DETECTOR = Path(rapidocr_onnxruntime.__file__).parent / "models" / "ch_PP-OCRv4_det_infer.onnx"
DETECTOR_PRECISION = "bf16"
#: What a scene's lines depend on besides the files: the reads cache (recognition.training.cache) is named by it.
SCENE_READING = f"detector {DETECTOR_PRECISION}; recogniser's head cut to printable ASCII"
RECOGNISER_WHEEL = ("rapidocr", "3.10.0", "rapidocr/models/PP-OCRv6_rec_small.onnx")


class MissingModel(RuntimeError):
    """A model file the reader needs is not installed."""


def recogniser_path():
    """The PP-OCRv6 recogniser inside the installed ``rapidocr`` wheel (found without importing it)."""
    name, version, member = RECOGNISER_WHEEL
    try:
        path = Path(importlib.metadata.distribution(name).locate_file(member))
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise MissingModel(f"the plate recogniser's model comes with the {name} {version} wheel: "
                           f"pip install --no-deps {name}=={version} (make install does this)")
    return path


def line_class(character):
    """Whether a class of the generic recogniser is kept: printable ASCII (the plate's characters,
    the separators the timestamp check needs, the lower case of state names)."""
    return len(character) == 1 and " " <= character <= "~"


class OpenVinoSession:
    """Called like RapidOCR's ``OrtInferSession``: one input array in, the list of outputs out.
    ``model``: a file, or an ``openvino.Model``."""

    def __init__(self, core, model, threads, precision="f32"):
        model = core.compile_model(model if isinstance(model, ov.Model) else str(model), "CPU", {
            "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": precision})
        self._request = model.create_infer_request()

    def __call__(self, input_content):
        self._request.infer({0: np.ascontiguousarray(input_content, dtype=np.float32)})
        return [self._request.get_output_tensor(0).data.copy()]


def rapidocr(threads=1, precision="f32"):
    """RapidOCR (no angle classifier: plates are upright) with its detector and recogniser on
    OpenVINO; ``precision`` is the recogniser's (the detector's: :data:`DETECTOR_PRECISION`)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
    from rapidocr_onnxruntime import RapidOCR
    recogniser = recogniser_path()
    ocr = RapidOCR(use_cls=False, det_model_path=str(DETECTOR), rec_model_path=str(recogniser),
                   intra_op_num_threads=threads, inter_op_num_threads=1)
    core = ov.Core()
    ocr.text_det.infer = OpenVinoSession(core, DETECTOR, threads, precision=DETECTOR_PRECISION)
    decoder = ocr.text_rec.postprocess_op
    kept = [0] + [i for i, c in enumerate(decoder.character) if line_class(c)]
    ocr.text_rec.session = OpenVinoSession(core, _cut_head(core.read_model(str(recogniser)), kept), threads,
                                           precision=precision)
    ocr.text_rec.classes = kept   # the full head's class of each output
    decoder.character = [decoder.character[i] for i in kept]
    decoder.dict = {c: i for i, c in enumerate(decoder.character)}
    _normalise_in_one_pass(ocr.text_det)
    return ocr


def _cut_head(model, kept):
    """The recogniser with its last linear layer (features x classes, then the bias and a softmax)
    cut to the classes ``kept``: the softmax over them is the full one's, renormalised."""
    softmax = next(op for op in reversed(model.get_ordered_ops()) if op.get_type_name() == "Softmax")
    add = softmax.input_value(0).get_node()
    while add.get_type_name() == "Identity":
        add = add.input_value(0).get_node()
    matmul, bias = add.input_value(0).get_node(), add.input_value(1).get_node()
    weights = matmul.input_value(1).get_node()
    if (matmul.get_type_name(), bias.get_type_name(), weights.get_type_name()) != ("MatMul", "Constant", "Constant"):
        raise ValueError("the recogniser's head is not a linear layer and a softmax: another model than expected")
    features = matmul.input_value(0)
    w = np.ascontiguousarray(weights.get_data()[:, kept])
    b = np.ascontiguousarray(bias.get_data()[kept])
    head = opset.softmax(opset.add(opset.matmul(features, opset.constant(w), False, False), opset.constant(b)), -1)
    return ov.Model([head], model.get_parameters(), "recogniser, cut head")


def _normalise_in_one_pass(detector):
    """The detector's input scaled and centred by OpenCV in one pass, in f32: RapidOCR's own
    NumPy steps go through float64 and take ~27 ms of a 1280x704 scene, this ~3 ms. Same
    values (to float rounding), so only for the mean and spread it was configured with."""
    if list(detector.mean) != [0.5] * 3 or list(detector.std) != [0.5] * 3:
        return
    configured = detector.get_preprocess

    def get_preprocess(max_wh):
        resize = configured(max_wh).resize

        def preprocess(image):
            resized = resize(image)
            return None if resized is None else cv2.dnn.blobFromImage(resized, 1 / 127.5, mean=(127.5,) * 3)
        return preprocess
    detector.get_preprocess = get_preprocess
