"""Snapfind itself: modules imported by name (media kinds, encoders) and the icon."""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

hiddenimports = collect_submodules("desktop_app")
datas = collect_data_files("desktop_app")
