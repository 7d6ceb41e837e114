"""rapidocr: its PP-OCR models (ONNX) and YAML configs are package data.

Without them it would try to download the models at first use, which an offline app must not.
Only its ONNX Runtime engine is used; the spec leaves out the others' modules.
"""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("rapidocr")
