"""Thumbnails for the results grid: decoded off the UI thread, kept in an in-memory LRU.

Workers only produce QImage (from the core's disk cache, made on demand); the conversion to
QPixmap happens on the UI thread when the image arrives. Each picture is requested once at a
fixed size and scaled for display, so zooming never re-decodes. Hits whose card draws its own
tile (a document's text card) get it drawn on the UI thread instead; see :mod:`cards`.
"""

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRect, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from desktop_app.core.searching.ranking import Hit
from desktop_app.gui.cards import Card, card_for
from desktop_app.gui.tasks import run_async

THUMBNAIL_SIZE = 256
MAX_CACHED = 1500  # pixmaps of 256 px: about 300 MB at most, usually far less
MAX_WAITING = 300  # requests not started yet (a few screens of tiles)
WORKERS = 2


class ThumbnailCache(QObject):
    """file id → QPixmap, loaded lazily; ``ready(file_id)`` when one arrives."""

    ready = Signal(int)

    def __init__(self, load: Callable[..., Path | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._load = load  # (file id, size[, moment]) -> the thumbnail's file
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._moments: dict[int, float] = {}  # a video's frame shown, per file
        self._cards: dict[int, Card] = {}  # how an arriving picture is decorated
        self._in_flight: set[int] = set()
        self._failed: set[int] = set()
        self._waiting: OrderedDict[int, None] = OrderedDict()  # requested, not started
        self._running = 0
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(WORKERS)

    def get(self, hit: Hit) -> QPixmap | None:
        """The hit's tile: the one its card draws, or the indexed picture if it is in memory
        (otherwise None, and it is requested)."""
        card = card_for(hit)
        if hit.file_id not in self._pixmaps:
            drawn = card.tile(THUMBNAIL_SIZE)
            if drawn is not None:
                return self._remember(hit.file_id, drawn)
        moment = card.moment()
        if moment is not None and self._moments.get(hit.file_id) != moment:
            # Another moment of the same video matched: its frame, not the one shown before.
            self._pixmaps.pop(hit.file_id, None)
            self._failed.discard(hit.file_id)
            self._moments[hit.file_id] = moment
        self._cards[hit.file_id] = card
        return self.picture(hit.file_id)

    def picture(self, file_id: int) -> QPixmap | None:
        """An indexed picture's thumbnail if it is in memory; otherwise None, and it is
        requested."""
        pixmap = self._pixmaps.get(file_id)
        if pixmap is not None:
            self._pixmaps.move_to_end(file_id)
            return pixmap
        if file_id not in self._in_flight and file_id not in self._failed:
            self._in_flight.add(file_id)
            self._waiting[file_id] = None
            while len(self._waiting) > MAX_WAITING:  # scrolled past long ago: asked again if seen
                stale, _ = self._waiting.popitem(last=False)
                self._in_flight.discard(stale)
            self._pump()
        return None

    def _pump(self) -> None:
        """Start the newest requests first: after a fling or a jump, the tiles on screen now
        are the last asked for, and the ones scrolled past wait (or are dropped)."""
        while self._running < WORKERS and self._waiting:
            file_id, _ = self._waiting.popitem(last=True)
            self._running += 1
            self._start(file_id)

    def _start(self, file_id: int) -> None:
        run_async(
            lambda: self._decode(file_id),
            lambda image: self._arrived(file_id, image),
            lambda _msg: self._arrived(file_id, None),
            pool=self.pool,
        )

    def _decode(self, file_id: int) -> QImage | None:
        moment = self._moments.get(file_id)
        if moment is None:
            path = self._load(file_id, THUMBNAIL_SIZE)
        else:
            path = self._load(file_id, THUMBNAIL_SIZE, at=moment)
        if path is None:
            return None
        image = QImage(str(path))
        return None if image.isNull() else image

    def _arrived(self, file_id: int, image: QImage | None) -> None:
        self._running -= 1
        self._pump()
        self._in_flight.discard(file_id)
        if image is None:
            self._failed.add(file_id)
        else:
            pixmap = QPixmap.fromImage(image)
            card = self._cards.get(file_id)
            self._remember(file_id, card.decorate(pixmap) if card else pixmap)
        self.ready.emit(file_id)

    def _remember(self, file_id: int, pixmap: QPixmap) -> QPixmap:
        self._pixmaps[file_id] = pixmap
        while len(self._pixmaps) > MAX_CACHED:
            dropped, _ = self._pixmaps.popitem(last=False)
            self._cards.pop(dropped, None)
            self._moments.pop(dropped, None)
        return pixmap

    def busy(self) -> bool:
        """Whether pictures are being decoded or wait for their turn."""
        return self._running > 0 or bool(self._waiting)

    def failed(self, file_id: int) -> bool:
        return file_id in self._failed

    def clear(self) -> None:
        self._pixmaps.clear()
        self._failed.clear()
        self._cards.clear()
        self._moments.clear()


def placeholder(size: int, failed: bool = False) -> QPixmap:
    """A neutral tile shown while a thumbnail loads (or when it cannot be made), in the
    tile's final size; drawn once per size and palette (a fling draws hundreds)."""
    key = (size, failed, QApplication.palette().cacheKey())
    pixmap = _placeholders.get(key)
    if pixmap is None:
        if len(_placeholders) > 32:
            _placeholders.clear()
        pixmap = _placeholders[key] = _draw_placeholder(size, failed)
    return pixmap


_placeholders: dict[tuple[int, bool, int], QPixmap] = {}


def _draw_placeholder(size: int, failed: bool) -> QPixmap:
    pixmap = QPixmap(QSize(size, size))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(QApplication.palette().color(QPalette.ColorRole.Mid))
    colour.setAlpha(70)
    painter.setBrush(colour)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(QRect(6, 6, size - 12, size - 12), 10, 10)
    if failed:
        painter.setPen(QApplication.palette().color(QPalette.ColorRole.Text))
        painter.drawText(QRect(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, "No preview")
    painter.end()
    return pixmap


def standing_square(pixmap: QPixmap, size: int) -> QPixmap:
    """Scale into a transparent square, centred across and standing on its bottom edge, so
    every picture in a row ends on the same line right above its caption (a landscape centred
    upright floated above its name, higher or lower than its portrait neighbours), and a tile
    keeps the size its placeholder had (the view need not lay out again)."""
    scaled = pixmap.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    square = QPixmap(size, size)
    square.fill(Qt.GlobalColor.transparent)
    painter = QPainter(square)
    painter.drawPixmap((size - scaled.width()) // 2, size - scaled.height(), scaled)
    painter.end()
    return square
