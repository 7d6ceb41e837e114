"""The results grid: a list model of search hits and an icon-mode view with zoom.

The model holds plain :class:`Hit` records; thumbnails come from a :class:`ThumbnailCache`
when the view asks for them, so only the visible items are ever decoded.
"""

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QFontMetrics, QKeyEvent, QPixmap, QWheelEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView, QSlider, QWidget

from desktop_app.core.searching.ranking import Hit
from desktop_app.gui.cards import card_for
from desktop_app.gui.thumbnails import ThumbnailCache, placeholder, standing_square

HitRole = Qt.ItemDataRole.UserRole + 1
ZOOM_MIN, ZOOM_MAX, ZOOM_DEFAULT = 96, 256, 160
GRID_SLACK = 28  # a tile's width beyond its picture's
NAME_SLACK = GRID_SLACK - 12  # the room a name has beyond the picture (the text's margins)

Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractListModel):
    def __init__(self, thumbnails: ThumbnailCache, parent: Any = None) -> None:
        super().__init__(parent)
        self._hits: list[Hit] = []
        self._rows: dict[int, list[int]] = {}  # file id -> rows showing it
        self._thumbnails = thumbnails
        self._icon_size = ZOOM_DEFAULT
        self._scaled: dict[tuple[int, int], QPixmap] = {}
        thumbnails.ready.connect(self._thumbnail_ready)

    # -- contents ------------------------------------------------------------------------------

    def set_hits(self, hits: list[Hit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self._rows = {}
        for row, hit in enumerate(self._hits):
            self._rows.setdefault(hit.file_id, []).append(row)
        self._scaled.clear()
        self.endResetModel()

    def hits(self) -> list[Hit]:
        return list(self._hits)

    def hit(self, row: int) -> Hit:
        return self._hits[row]

    def set_icon_size(self, size: int) -> None:
        self._icon_size = size
        self._scaled.clear()
        if self._hits:
            self.dataChanged.emit(
                self.index(0), self.index(len(self._hits) - 1), [Qt.ItemDataRole.DecorationRole]
            )

    # -- Qt model API --------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{self._tile_name(hit)}\n{hit.relevance:.0%} match"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(hit)
        if role == Qt.ItemDataRole.ToolTipRole:
            place = card_for(hit).place()
            where = f", {place}" if place else ""
            return (
                f"{hit.path}{where}\nRelevance {hit.relevance:.0%} "
                f"(cosine {hit.score:.3f}), rank {hit.rank}"
            )
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{Path(hit.path).name}, {hit.relevance:.0%} match"
        if role == HitRole:
            return hit
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )

    def _tile_name(self, hit: Hit) -> str:
        """The file name on one line of the tile, elided in the middle (the extension stays):
        a long name wrapped onto many lines and pushed the match line out of the tile."""
        metrics = QFontMetrics(QApplication.font())
        width = self._icon_size + NAME_SLACK
        return metrics.elidedText(Path(hit.path).name, Qt.TextElideMode.ElideMiddle, width)

    def _decoration(self, hit: Hit) -> QPixmap:
        key = (hit.file_id, self._icon_size)
        scaled = self._scaled.get(key)
        if scaled is not None:
            return scaled
        pixmap = self._thumbnails.get(hit)
        if pixmap is None:
            return placeholder(self._icon_size, self._thumbnails.failed(hit.file_id))
        scaled = standing_square(pixmap, self._icon_size)
        self._scaled[key] = scaled
        return scaled

    def _thumbnail_ready(self, file_id: int) -> None:
        for row in self._rows.get(file_id, []):
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def emit_hit(index: QModelIndex, signal: SignalInstance) -> None:
    """Emit the hit a tile shows (a double click, or Enter, opens it)."""
    hit = index.data(HitRole)
    if hit is not None:
        signal.emit(hit)


def open_on_enter(view: QAbstractItemView, event: QKeyEvent, signal: SignalInstance) -> bool:
    """Enter on the current tile opens it as a double click does; True if it was that."""
    if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and view.currentIndex().isValid():
        emit_hit(view.currentIndex(), signal)
        return True
    return False


class ResultsView(QListView):
    """Icon-mode grid. Ctrl+wheel zooms; Enter opens; the context menu comes from outside."""

    zoomed = Signal(int)
    activated_hit = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSpacing(6)
        self.setDragEnabled(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setAccessibleName("Search results")
        self.set_zoom(ZOOM_DEFAULT)
        self.doubleClicked.connect(lambda index: emit_hit(index, self.activated_hit))

    def zoom(self) -> int:
        return self.iconSize().width()

    def set_zoom(self, size: int) -> None:
        size = max(ZOOM_MIN, min(ZOOM_MAX, size))
        if size == self.iconSize().width() and self.gridSize().isValid():
            return
        self.setIconSize(QSize(size, size))
        self.setGridSize(QSize(size + GRID_SLACK, size + 44))
        model = self.model()
        if isinstance(model, ResultsModel):
            model.set_icon_size(size)
        self.zoomed.emit(size)

    def zoom_slider(self) -> QSlider:
        """A slider kept in step with the zoom (Ctrl+wheel moves it too)."""
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(ZOOM_MIN, ZOOM_MAX)
        slider.setValue(self.zoom())
        slider.setMaximumWidth(140)
        slider.setToolTip("Thumbnail size (Ctrl+wheel on the results works too)")
        slider.setAccessibleName("Thumbnail size")
        slider.valueChanged.connect(self.set_zoom)
        self.zoomed.connect(slider.setValue)
        return slider

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 16 if event.angleDelta().y() > 0 else -16
            self.set_zoom(self.zoom() + step)
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not open_on_enter(self, event, self.activated_hit):
            super().keyPressEvent(event)
