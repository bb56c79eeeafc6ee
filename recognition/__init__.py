"""Plate recognition: find the plate in a camera image, read it, say how sure we are.

- ``images``: decoding and checks of the bytes a camera or platform sends;
- ``pipeline``: localisation and reading (PP-OCR models shipped in RapidOCR's wheels) and the
  choice among candidates;
- ``localise``: plates found by their shape (OpenCV), where the text detector found none;
- ``inference``: where those networks run (OpenVINO, f32 or bf16);
- ``colour``: the body's colour around the plate, as a hint;
- ``fetch``, ``pool``, ``voting``: images from URLs without request forgery, the process pool,
  frames of one vehicle combined;
- ``regions``: plate formats per region, confusable characters, jurisdiction;
- ``bench``: accuracy, calibration and speed on a folder in the dataset format.
"""

#: How the networks compute (``[recognition] precision``): ``f32`` gives the readings the models
#: were made for; ``bf16``, on CPUs with bf16 units (AVX512-BF16, AMX), takes ~40% less time and
#: reads a few plates in a hundred differently (bench-alpr, see the README). Elsewhere
#: OpenVINO computes in f32 either way.
PRECISIONS = ("f32", "bf16")
