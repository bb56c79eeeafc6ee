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
"""

import importlib.metadata
from pathlib import Path

import cv2
import numpy as np
import openvino as ov
import rapidocr_onnxruntime

from . import PRECISIONS

DETECTOR = Path(rapidocr_onnxruntime.__file__).parent / "models" / "ch_PP-OCRv4_det_infer.onnx"
DETECTOR_PRECISION = "bf16"
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


class OpenVinoSession:
    """Called like RapidOCR's ``OrtInferSession``: one input array in, the list of outputs out."""

    def __init__(self, core, model_path, threads, precision="f32"):
        model = core.compile_model(str(model_path), "CPU", {
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
    ocr.text_rec.session = OpenVinoSession(core, recogniser, threads, precision=precision)
    _normalise_in_one_pass(ocr.text_det)
    return ocr


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
