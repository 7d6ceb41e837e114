"""Downloading the picture model in the background, with size, speed and cancel.

Before the hub client starts (it retries each file several times, which took about a minute
of silence on a computer without network), the hub's address is tried once with a short
timeout: offline, the download fails at once with a message a person can act on.
"""

import os
import socket
import time
from urllib.parse import urlsplit

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
        host = hub_host()
        if not reachable(host):
            self.failed.emit(
                f"Could not download the picture model: {host} cannot be reached from this "
                "computer (is it offline?). Connect and try again, or import a model file "
                "you already have."
            )
            return
        try:
            self._engine.download_model(on_progress=self._report)
        except CancelledError:
            self.failed.emit("Download cancelled.")
        except KnownError:  # the hub client's own words are no help to a person
            self.failed.emit(
                f"Could not download the picture model from {host}. Try again later, or "
                "import a model file you already have."
            )
        else:
            self.succeeded.emit()


CONNECT_TIMEOUT_S = 5.0


def hub_host() -> str:
    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    return urlsplit(endpoint).hostname or "huggingface.co"


def reachable(host: str) -> bool:
    """Whether the model hub answers at all: no when offline mode is on (``HF_HUB_OFFLINE``),
    the name does not resolve or no connection opens within a few seconds."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    try:
        socket.create_connection((host, 443), timeout=CONNECT_TIMEOUT_S).close()
    except OSError:
        return False
    return True
