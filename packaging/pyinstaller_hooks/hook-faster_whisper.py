"""faster-whisper: the Silero voice-activity model (ONNX) lives in its assets folder."""

from PyInstaller.utils.hooks import collect_data_files, copy_metadata

datas = collect_data_files("faster_whisper") + copy_metadata("faster_whisper")
