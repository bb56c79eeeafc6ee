"""Plate recognition: find the plate in a camera image, read it, say how sure we are.

- ``images``: decoding and checks of the bytes a camera or platform sends;
- ``pipeline``: localisation and reading (PP-OCR models shipped in the rapidocr wheel, run
  offline by onnxruntime) and the choice among candidates;
- ``regions``: plate formats per region, confusable characters, jurisdiction;
- ``bench``: accuracy, calibration and speed on a folder in the dataset format.
"""
