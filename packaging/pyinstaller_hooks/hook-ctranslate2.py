"""ctranslate2 (faster-whisper's runtime): its shared library sits in a sibling .libs folder."""

from PyInstaller.utils.hooks import collect_dynamic_libs

binaries = collect_dynamic_libs("ctranslate2")
