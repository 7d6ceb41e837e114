"""The first-run view: what the app does, "Add folder…", and getting the CLIP model."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

INTRO = (
    "<h2>Find your photos and notes by meaning</h2>"
    "<p>Describe what you are looking for (<i>a dog on a beach at sunset</i>) or drop a "
    "photo to find the ones that look like it. Snapfind indexes your folders in the "
    "background and everything stays on this computer.</p>"
    "<p>Add a folder to begin, or drag one onto this window.</p>"
)


class ModelBox(QFrame):
    """Says whether the picture model is here, and offers to download or import it."""

    download_requested = Signal()
    cancel_requested = Signal()
    import_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        layout.addWidget(self.progress)
        row = QHBoxLayout()
        self.download_button = QPushButton("Download model")
        self.cancel_button = QPushButton("Cancel")
        self.import_button = QPushButton("Import model file…")
        self.cancel_button.hide()
        for button in (self.download_button, self.cancel_button, self.import_button):
            row.addWidget(button)
        row.addStretch()
        layout.addLayout(row)
        self.download_button.clicked.connect(self.download_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.import_button.clicked.connect(self.import_requested)

    def show_missing(self, model: str, size_mb: int | str) -> None:
        self.message.setText(
            f"<b>The picture model ({model}) is not on this computer yet.</b> Download it "
            f"once (about {size_mb} MB), or import a weights file you already have. Text "
            "documents can be searched right away."
        )
        self.progress.hide()
        self.cancel_button.hide()
        self.download_button.setEnabled(True)
        self.download_button.show()
        self.import_button.setEnabled(True)
        self.show()

    def show_connecting(self) -> None:
        """Before the first byte: a moving bar, so the wait shows."""
        self.download_button.setEnabled(False)
        self.import_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.show()
        self.progress.setRange(0, 0)
        self.progress.setFormat("Connecting…")
        self.message.setText("<b>Connecting to the model hub…</b>")

    def show_downloading(self, done: int, total: int | None, speed: float) -> None:
        self.download_button.setEnabled(False)
        self.import_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.show()
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(
                f"{done / 1e6:.0f} of {total / 1e6:.0f} MB · {speed / 1e6:.1f} MB/s"
            )
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(f"{done / 1e6:.0f} MB")
        self.message.setText("<b>Downloading the picture model…</b>")


class WelcomeView(QWidget):
    add_requested = Signal()

    def __init__(self, icon: QPixmap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        column = QVBoxLayout()
        picture = QLabel()
        picture.setPixmap(icon)
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(picture)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(intro)
        self.add_button = QPushButton("Add folder…")
        self.add_button.setDefault(True)
        self.add_button.setMinimumHeight(36)
        column.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignCenter)
        self.model_box = ModelBox()
        self.model_box.hide()
        column.addWidget(self.model_box)
        row = QHBoxLayout()
        row.addStretch(1)
        holder = QWidget()
        holder.setLayout(column)
        holder.setMaximumWidth(560)
        row.addWidget(holder, 4)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.add_button.clicked.connect(self.add_requested)
