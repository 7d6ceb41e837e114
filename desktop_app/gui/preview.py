"""The preview pane: a larger picture and what the library knows about the selected hit.

The rows every hit has come first; each kind's card adds its own (a document's lines) and says
whether the pane shows the file's picture or a text in its place (see :mod:`cards`).
"""

import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPointF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QImage,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.kinds.base import Span
from desktop_app.core.ocr.reader import TextLine
from desktop_app.core.searching.ranking import Hit
from desktop_app.gui.cards import DocumentCard, ImageCard, card_for, detail_rows
from desktop_app.gui.tasks import run_async
from desktop_app.gui.video_preview import VideoPanel
from desktop_app.gui.widgets import Banner, readable
from desktop_app.humanize import human_bytes

PREVIEW_SIZE = 1024
COMMON_ROWS = ("Name", "Folder", "Match", "Dimensions", "Taken", "Camera", "Size")
CONFIRM_MS = 2500  # how long "Path copied" stays: long enough to read, gone before it clutters


def open_file(path: str) -> bool:
    """Open with the system's default application."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def show_in_folder(path: str) -> bool:
    """Open the folder that holds ``path`` in the file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))


def open_failed(path: str) -> str:
    """What to tell the person when the desktop has no application for ``path``: Qt only warns
    on stderr, which nobody running the app reads."""
    return (
        f"Could not open {os.path.basename(path)}: no application on this computer is set up "
        "to open it. Copy its path to open it another way."
    )


def reveal_failed(path: str) -> str:
    """What to tell the person when no file manager answered for the folder of ``path``."""
    return (
        f"Could not show the folder of {os.path.basename(path)}: no file manager answered. "
        "Copy its path to find it another way."
    )


def date_name(hit: Hit) -> str:
    """What the hit's date is: the core files a picture's EXIF date taken, else the file's
    modification time (always so for a note), and a modification time is no date taken."""
    if hit.taken_at is None or hit.modified_at is None:
        return "Date"
    return "Modified" if abs(hit.taken_at - hit.modified_at) < 1 else "Taken"


class PreviewPane(QWidget):
    """Shows one hit; empty until something is selected."""

    more_like_this = Signal(object)

    def __init__(
        self,
        load: Callable[..., Path | None],
        parent: QWidget | None = None,
        moments: Callable[[int], list[Span]] | None = None,
        *,
        text_lines: Callable[[int], list[TextLine]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._load = load  # (file id, size, at=a video's moment, page=a PDF's) -> a picture
        self._text_lines = text_lines  # file id -> the lines read in a picture, with boxes
        self._hit: Hit | None = None
        self._image: QImage | None = None
        layout = QVBoxLayout(self)
        self.picture = QLabel("Select a result to see it here")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(QSize(200, 160))
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setWordWrap(True)
        layout.addWidget(self.picture, 1)
        # A video's filmstrip and player (see video_preview), with the engine's moments.
        self.video = VideoPanel(load, moments or (lambda _file_id: []), self)
        self.video.started.connect(self.picture.hide)
        self.video.hide()
        layout.addWidget(self.video, 1)
        form = self.form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for name in (*COMMON_ROWS, *detail_rows()):
            label = QLabel()
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self.fields[name] = label
            form.addRow(name, label)
        layout.addLayout(form)
        buttons = QGridLayout()  # two rows: the pane fits beside the grid on a laptop
        self.open_button = QPushButton("Open")
        self.reveal_button = QPushButton("Show in folder")
        self.copy_button = QPushButton("Copy path")
        self.similar_button = QPushButton("More like this")
        for i, button in enumerate(
            (self.open_button, self.reveal_button, self.copy_button, self.similar_button)
        ):
            buttons.addWidget(button, i // 2, i % 2)
        layout.addLayout(buttons)
        self.notice = Banner(self)
        self.notice.action_clicked.connect(lambda _action: self.copy_path())  # only Copy path
        layout.addWidget(self.notice)
        self.open_button.clicked.connect(lambda: self._launch(open_file, open_failed))
        self.reveal_button.clicked.connect(lambda: self._launch(show_in_folder, reveal_failed))
        self.copy_button.clicked.connect(self.copy_path)
        self.similar_button.clicked.connect(
            lambda: self._hit and self.more_like_this.emit(self._hit)
        )
        self.show_hit(None)

    def hit(self) -> Hit | None:
        return self._hit

    def row_name(self, field: str) -> QLabel:
        """The label before the ``field`` row (the "Taken" row names its date as it is)."""
        label = self.form.labelForField(self.fields[field])
        assert isinstance(label, QLabel)
        return label

    def copy_path(self) -> None:
        if self._hit is not None:
            QGuiApplication.clipboard().setText(self._hit.path)
            self.notice.show_message("Path copied", timeout_ms=CONFIRM_MS)

    def _launch(self, launch: Callable[[str], bool], failed: Callable[[str], str]) -> None:
        """Open the hit or its folder; say so in the pane when the desktop could not."""
        if self._hit is not None and not launch(self._hit.path):
            self.notice.show_message(failed(self._hit.path), error=True, actions=("Copy path",))

    def show_hit(self, hit: Hit | None) -> None:
        self._hit = hit
        self._image = None
        self.notice.hide()  # a message about the hit shown before
        moment = card_for(hit).plays_from() if hit is not None else None
        self.video.show_hit(hit if moment is not None else None, moment)
        self.video.setVisible(moment is not None)
        self.picture.show()
        for button in (self.open_button, self.reveal_button, self.copy_button, self.similar_button):
            button.setEnabled(hit is not None)
        # Nothing selected: the pane folds away and the grid takes its width.
        self.setVisible(hit is not None)
        if hit is None:
            for label in self.fields.values():
                label.clear()
                self.form.setRowVisible(label, False)
            self.picture.setPixmap(QPixmap())
            self.picture.setText("Select a result to see it here")
            return
        path, card = Path(hit.path), card_for(hit)
        values = {
            "Name": path.name,
            "Folder": str(path.parent),
            # A browsed file (rank 0) matched no query.
            "Match": f"{hit.relevance:.0%}, result {hit.rank}" if hit.rank else "",
            "Dimensions": f"{hit.width} × {hit.height}" if hit.width else "",
            "Taken": time.strftime("%Y-%m-%d %H:%M", time.localtime(hit.taken_at))
            if hit.taken_at
            else "",
            "Camera": readable(hit.camera),
            "Size": human_bytes(hit.size),
            **card.details(),
        }
        for name, label in self.fields.items():
            value = values.get(name, "")
            label.setText(value)
            self.form.setRowVisible(label, bool(value))
        self.row_name("Taken").setText(date_name(hit) if hit.taken_at else "Taken")
        self.picture.setPixmap(QPixmap())
        text = card.preview_text()
        if text is not None:
            self.picture.setText(text)
            return
        self.picture.setText("Loading…")
        file_id = hit.file_id
        page = card.page() if isinstance(card, DocumentCard) else None
        read = card.read_lines() if isinstance(card, ImageCard) else None
        run_async(
            lambda: self._decode(file_id, moment, page, read),
            lambda image: self._arrived(file_id, image),
            lambda msg: self._failed(file_id, msg),
        )

    def _decode(
        self,
        file_id: int,
        moment: float | None = None,
        page: int | None = None,
        read: tuple[int, int] | None = None,
    ) -> QImage | None:
        """In a worker: the picture (a video's frame at ``moment``, a PDF's matching page),
        with the boxes of the words read in it drawn when the hit matched by them."""
        options: dict[str, float | int] = {}
        if moment is not None:
            options["at"] = moment
        if page:
            options["page"] = page
        path = self._load(file_id, PREVIEW_SIZE, **options)
        if not path:
            return None
        image = QImage(str(path))
        if read is not None and self._text_lines is not None and not image.isNull():
            image = draw_text_boxes(image, self._text_lines(file_id), read)
        return image

    def _arrived(self, file_id: int, image: QImage | None) -> None:
        if self._hit is None or self._hit.file_id != file_id:
            return  # the selection moved on
        if image is None or image.isNull():
            self.picture.setText("No preview available")
            return
        self._image = image
        self._fit()

    def _failed(self, file_id: int, message: str) -> None:
        if self._hit is not None and self._hit.file_id == file_id:
            self.picture.setText(message)

    def _fit(self) -> None:
        if self._image is None:
            return
        size = self.picture.size()
        scaled = self._image.scaled(
            size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.picture.setPixmap(QPixmap.fromImage(scaled))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


def draw_text_boxes(image: QImage, lines: list[TextLine], matched: tuple[int, int]) -> QImage:
    """A copy of ``image`` with the box of every line read in it: the ``matched`` lines
    (1-based, inclusive) outlined boldly, the others faintly. QImage only: safe in a worker."""
    drawn = image.convertToFormat(QImage.Format.Format_ARGB32)
    painter = QPainter(drawn)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    width, height = drawn.width(), drawn.height()
    for number, line in enumerate(lines, start=1):
        hit = matched[0] <= number <= matched[1]
        colour = QColor(255, 196, 0) if hit else QColor(0, 160, 255, 110)
        painter.setPen(QPen(colour, max(2.0, width / 300) if hit else 1.0))
        painter.setBrush(QColor(255, 196, 0, 50) if hit else Qt.BrushStyle.NoBrush)
        painter.drawPolygon(QPolygonF([QPointF(x * width, y * height) for x, y in line.box]))
    painter.end()
    return drawn
