"""What the preview adds for a video hit: a filmstrip of the moments that were indexed, the
matching ones marked, and the in-app player that starts at the matched moment.

The filmstrip's frames are small thumbnails made off the UI thread (a seek and a short decode
each, cached on disk like picture thumbnails); choosing one plays from there.
"""

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QImage, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.kinds.base import Span, clock
from desktop_app.core.searching.ranking import Hit
from desktop_app.gui.media_player import MediaPlayer
from desktop_app.gui.tasks import run_async

FRAME_SIZE = 96
MAX_SHOWN = 60  # frames in the strip: a long video's are thinned evenly, matching ones kept
_TIME = Qt.ItemDataRole.UserRole


def shown_moments(spans: list[Span], matched: Span | None) -> list[Span]:
    """At most :data:`MAX_SHOWN` moments, evenly spread, always with the matching ones."""
    if len(spans) <= MAX_SHOWN:
        return spans
    step = len(spans) / MAX_SHOWN
    keep = {round(i * step) for i in range(MAX_SHOWN)}
    return [s for i, s in enumerate(spans) if i in keep or _matches(s, matched)]


def _matches(span: Span, matched: Span | None) -> bool:
    return matched is not None and matched.start - 1e-3 <= span.start < matched.end - 1e-3


class Filmstrip(QListWidget):
    """The video's indexed moments left to right; matching ones highlighted and named."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setIconSize(QSize(FRAME_SIZE, FRAME_SIZE * 9 // 16))
        self.setFixedHeight(FRAME_SIZE * 9 // 16 + 48)
        self.setSpacing(2)
        self.setAccessibleName("Filmstrip")

    def show_moments(self, spans: list[Span], matched: Span | None) -> None:
        self.clear()
        highlight = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        highlight.setAlpha(110)
        first_match: QListWidgetItem | None = None
        for span in shown_moments(spans, matched):
            item = QListWidgetItem(clock(span.start))
            item.setData(_TIME, span.start)
            item.setSizeHint(QSize(FRAME_SIZE + 8, FRAME_SIZE * 9 // 16 + 28))
            if _matches(span, matched):
                item.setBackground(QBrush(highlight))
                font = QFont(self.font())
                font.setBold(True)
                item.setFont(font)
                item.setText(f"▶ {clock(span.start)}")
                item.setToolTip(f"Matches at {clock(span.start)}")
                first_match = first_match or item
            else:
                item.setToolTip(clock(span.start))
            self.addItem(item)
        if first_match is not None:
            self.scrollToItem(first_match, QAbstractItemView.ScrollHint.PositionAtCenter)

    def marked(self) -> list[float]:
        """The moments shown as matching (for tests and the accessible description)."""
        return [
            float(self.item(i).data(_TIME))
            for i in range(self.count())
            if self.item(i).text().startswith("▶")
        ]

    def moments(self) -> list[float]:
        return [float(self.item(i).data(_TIME)) for i in range(self.count())]

    def set_frame(self, at: float, image: QImage) -> None:
        for i in range(self.count()):
            item = self.item(i)
            if abs(float(item.data(_TIME)) - at) < 1e-6:
                item.setIcon(QIcon(QPixmap.fromImage(image)))


class VideoPanel(QWidget):
    """Below the preview's picture for a video: *Play from 03:41*, the player (shown once
    playing, in place of the picture) and the filmstrip. ``started`` when it starts playing."""

    started = Signal()

    def __init__(
        self,
        load: Callable[..., Path | None],
        moments: Callable[[int], list[Span]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._load = load
        self._moments = moments
        self._hit: Hit | None = None
        self._moment = 0.0
        # Made on the first play: Qt Multimedia loads its backend (and probes audio devices)
        # when a player is created, which a window that never plays should not pay for.
        self.player: MediaPlayer | None = None
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.play_matched)
        self.strip_label = QLabel()
        self.strip = Filmstrip(self)
        self.strip.itemActivated.connect(self._play_item)
        self.strip.itemClicked.connect(self._play_item)
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.strip_label, 1)
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.strip)

    def show_hit(self, hit: Hit | None, moment: float | None) -> None:
        """Show ``hit``'s strip (None: nothing, and stop playing)."""
        if self.player is not None:
            self.player.stop()
            self.player.hide()
        self._hit = hit
        self._moment = moment or 0.0
        self.strip.clear()
        if hit is None:
            return
        self.play_button.setText(f"Play from {clock(self._moment)}")
        file_id = hit.file_id
        run_async(
            lambda: self._moments(file_id),
            lambda spans: self._strip_arrived(file_id, spans),
            owner=self,
        )

    def playing(self) -> bool:
        return self.player is not None and self.player.isVisible()

    def play_matched(self) -> None:
        self.play_at(self._moment)

    def play_at(self, seconds: float) -> None:
        if self._hit is None:
            return
        if self.player is None:
            self.player = MediaPlayer(self)
            self.player.setMinimumHeight(180)
            self._layout.insertWidget(0, self.player, 1)
        self.player.show()
        self.started.emit()
        self.player.play(self._hit.path, seconds)

    def _play_item(self, item: QListWidgetItem) -> None:
        self.play_at(float(item.data(_TIME)))

    def _strip_arrived(self, file_id: int, spans: list[Span]) -> None:
        hit = self._hit
        if hit is None or hit.file_id != file_id:
            return
        self.strip.show_moments(spans, hit.span)
        marked = len(self.strip.marked())
        self.strip_label.setText(
            f"{len(spans)} moment{'s' if len(spans) != 1 else ''} indexed"
            + (f" · {marked} matching" if marked else "")
        )
        for at in self.strip.moments():
            self._request_frame(file_id, at)

    def _request_frame(self, file_id: int, at: float) -> None:
        run_async(
            lambda: self._frame(file_id, at),
            lambda image: self._frame_arrived(file_id, at, image),
        )

    def _frame(self, file_id: int, at: float) -> QImage | None:
        path = self._load(file_id, FRAME_SIZE * 2, at=at)
        if path is None:
            return None
        image = QImage(str(path))
        return None if image.isNull() else image

    def _frame_arrived(self, file_id: int, at: float, image: QImage | None) -> None:
        if image is not None and self._hit is not None and self._hit.file_id == file_id:
            self.strip.set_frame(at, image)
