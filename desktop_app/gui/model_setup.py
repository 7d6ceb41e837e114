"""Getting the picture model onto the computer: notice, download with progress, or import."""

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.gui.downloads import DownloadTask
from desktop_app.gui.welcome import ModelBox

DOWNLOAD, IMPORT = "Download model", "Import model file…"


class ModelSetup(QObject):
    """Keeps the welcome view's model box and the banner in step with the model's state."""

    ready = Signal()  # the chosen model can now load: index the pictures
    message = Signal(str, bool, tuple)  # text, is it an error, banner action names

    def __init__(self, engine: Engine, box: ModelBox, window: QWidget) -> None:
        super().__init__(window)
        self._engine, self._box, self._window = engine, box, window
        self._download: DownloadTask | None = None
        box.download_requested.connect(self.download)
        box.cancel_requested.connect(self.cancel)
        box.import_requested.connect(self.choose_file)

    def check(self) -> bool:
        """Show the box (and a banner, once folders exist) when the model is missing."""
        if self._engine.clip_available():
            self._box.hide()
            return True
        name = self._engine.settings.clip_model
        choices = {m["name"]: m for m in self._engine.model_choices()}
        self._box.show_missing(name, str(choices.get(name, {}).get("download_mb", "?")))
        if self._engine.roots():
            self.message.emit(
                f"The picture model ({name}) is not on this computer, so pictures cannot be "
                "indexed or searched yet. Documents work already.",
                False,
                (DOWNLOAD, IMPORT),
            )
        return False

    def download(self) -> None:
        if self._download is not None and self._download.isRunning():
            return
        self._box.show_connecting()  # at once: the button must not look idle
        self._download = DownloadTask(self._engine, self)
        self._download.progress.connect(self._box.show_downloading)
        self._download.failed.connect(self._failed)
        self._download.succeeded.connect(self._succeeded)
        self._download.start()

    def cancel(self) -> None:
        if self._download is not None:
            self._download.cancel()

    def shutdown(self) -> None:
        if self._download is not None:
            self._download.cancel()
            self._download.wait(60_000)

    def _failed(self, text: str) -> None:
        self.check()
        self.message.emit(text, True, (IMPORT, DOWNLOAD))  # the way that needs no network first

    def _succeeded(self) -> None:
        self.check()
        self.ready.emit()

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._window, "Import CLIP weights", "", "Weights (*.safetensors *.bin *.pt *.pth)"
        )
        if path:
            self.import_file(path, "ViT-B-32")

    def import_file(self, path: str, arch: str) -> None:
        try:
            name = self._engine.import_model(arch, Path(path))
        except KnownError as err:
            self.message.emit(str(err), True, ())
            return
        self.message.emit(f"Imported {name}; indexing your pictures with it.", False, ())
        self.check()
        self.ready.emit()
