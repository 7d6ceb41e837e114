"""Downloading the picture model in the background, with size, speed and cancel."""

import time

from PySide6.QtCore import QObject, QThread, Signal

from desktop_app.core.engine import Engine
from desktop_app.core.errors import CancelledError, KnownError


class DownloadTask(QThread):
    progress = Signal(int, object, float)  # bytes done, bytes in all (or None), bytes/s
    failed = Signal(str)
    succeeded = Signal()

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._cancelled = False
        self._started = 0.0
        self._last_emit = 0.0

    def cancel(self) -> None:
        self._cancelled = True

    def _report(self, done: int, total: int | None) -> None:
        if self._cancelled:
            raise CancelledError
        now = time.monotonic()
        if now - self._last_emit >= 0.1 or (total and done >= total):
            self._last_emit = now
            self.progress.emit(done, total, done / max(now - self._started, 1e-3))

    def run(self) -> None:
        self._started = time.monotonic()
        try:
            self._engine.download_model(on_progress=self._report)
        except CancelledError:
            self.failed.emit("Download cancelled.")
        except KnownError as err:
            self.failed.emit(str(err))
        else:
            self.succeeded.emit()
