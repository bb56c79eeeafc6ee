"""Plate recognition: find the plate in a camera image, read it, say how sure we are.

- ``images``: decoding and checks of the bytes a camera or platform sends;
- ``pipeline``: localisation and reading (PP-OCR models shipped in RapidOCR's wheels) and the
  choice among candidates;
- ``localise``: plates found by their shape (OpenCV), where the text detector found none;
- ``inference``: where those networks run (OpenVINO, f32 or bf16);
- ``colour``: the body's colour around the plate, as a hint;
- ``fetch``, ``pool``, ``voting``: images from URLs without request forgery (``sources``: from where), the process pool,
  frames of one vehicle combined;
- ``platemodel``: the plate recogniser trained here (``training``: how), its input and decoding;
- ``calibration``: the confidence as a calibrated probability of a reading's evidence;
- ``regions``: plate formats per region, confusable characters, jurisdiction;
- ``bench``: accuracy, calibration and speed on a folder in the dataset format.
"""

#: How the recognisers compute (``[recognition] precision``; the text detector runs in bf16 either
#: way, :data:`recognition.inference.DETECTOR_PRECISION`): ``f32`` gives the readings the models
#: were made for; ``bf16``, on CPUs with bf16 units (AVX512-BF16, AMX), takes less time and
#: reads a few plates in a hundred differently (bench-alpr, see the README). Elsewhere
#: OpenVINO computes in f32 either way.
PRECISIONS = ("f32", "bf16")

#: The readers a facility or a benchmark can choose (``pipeline.recognizer``): ``plate`` (the
#: plate recogniser trained here, with the calibrated confidence), ``ppocr`` (the generic
#: PP-OCRv6 recogniser with the confidence as it was before it), ``tesseract`` (for comparison).
READERS = ("plate", "ppocr", "tesseract")
