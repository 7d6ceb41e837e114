"""Small shared widgets: the non-blocking message banner and the indexing status strip."""

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QToolButton,
    QWidget,
)

from desktop_app import __version__
from desktop_app.core.progress import Progress


class Banner(QFrame):
    """A message across the top of the window that never blocks: errors and notices."""

    action_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self._actions: list[QPushButton] = []
        self._row = layout
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Close this message")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(close)
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self.hide)
        self.hide()

    def show_message(
        self,
        text: str,
        *,
        error: bool = False,
        actions: tuple[str, ...] = (),
        timeout_ms: int = 0,
    ) -> None:
        """Show ``text``; with ``timeout_ms`` it hides itself after that long (a confirmation
        the person need not dismiss), otherwise it stays until dismissed or replaced."""
        self._expiry.stop()
        if timeout_ms:
            self._expiry.start(timeout_ms)
        self.setProperty("error", error)
        colour = "#b3261e" if error else "palette(highlight)"
        self.setStyleSheet(f"#banner {{ border: 1px solid {colour}; border-radius: 6px; }}")
        self.label.setText(text)
        for button in self._actions:
            button.deleteLater()
        self._actions = []
        for name in actions:
            button = QPushButton(name)
            button.clicked.connect(lambda _=False, n=name: self.action_clicked.emit(n))
            self._row.insertWidget(self._row.count() - 1, button)
            self._actions.append(button)
        self.show()

    def text(self) -> str:
        return self.label.text()


def readable(text: str | None) -> str:
    """Text from a file's metadata as it can be shown: control characters (a camera name
    padded with NUL bytes drew boxes) dropped, spaces trimmed."""
    return "".join(c for c in text or "" if c.isprintable()).strip()


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.0f} s left"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min left"
    return f"{seconds / 3600:.1f} h left"


class IndexingStatus(QWidget):
    """Progress bar, count, rate and ETA, with pause/resume and cancel, for the status bar."""

    pause_toggled = Signal(bool)
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(False)
        self.pause_button = QToolButton()
        self.pause_button.setText("Pause")
        self.pause_button.setCheckable(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        for widget in (self.label, self.bar, self.pause_button, self.cancel_button):
            layout.addWidget(widget)
        self._last: Progress | None = None  # shown again on Pause: no report comes while paused
        self.pause_button.toggled.connect(self._paused)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.hide()

    def _paused(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)
        if self._last is not None:
            self.show_progress(self._last)

    def show_progress(self, progress: Progress) -> None:
        self._last = progress
        self.show()
        if progress.phase == "scanning":
            self.bar.setRange(0, 0)
            self.label.setText(f"Scanning… {progress.done} files found")
            return
        self.bar.setRange(0, max(1, progress.total))
        self.bar.setValue(progress.done)
        what = progress.phase  # the kind being indexed, in the plural
        rate = f" · {progress.rate:.1f}/s" if progress.rate else ""
        eta = format_eta(progress.eta_s)
        failed = f" · {progress.failed} failed" if progress.failed else ""
        paused = " · paused" if self.pause_button.isChecked() else ""
        if progress.media_s is not None:  # recordings: "Transcribing 3 of 41 recordings · …"
            self.label.setText(f"{progress.headline()}{failed}{paused}")
            return
        self.label.setText(
            f"Indexing {what}: {progress.done} of {progress.total}{rate}"
            f"{' · ' + eta if eta else ''}{failed}{paused}"
        )

    def finish(self) -> None:
        self._last = None
        self.pause_button.setChecked(False)
        self.hide()


def show_about(parent: QWidget, model: str, home: str) -> None:
    QMessageBox.about(
        parent,
        "About Snapfind",
        f"<h3>Snapfind {__version__}</h3>"
        "<p>Find your photos and notes by meaning, offline.</p>"
        f"<p>Picture model: {model}<br>"
        "Document model: all-MiniLM-L6-v2<br>"
        f"Data folder: {home}</p>",
    )
