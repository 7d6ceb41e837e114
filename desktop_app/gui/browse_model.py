"""The library as a lazy list model: every browsable file, newest first, in month groups.

The model holds a :class:`~desktop_app.core.searching.browse.Timeline` (ids and months only)
and turns rows into hits a page at a time, when the view first draws them; pages far from the
last ones drawn are forgotten, so memory stays flat however far a person scrolls. Thumbnails
come from the shared :class:`ThumbnailCache`, cropped to fill the square tile.
"""

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QPainter, QPixmap

from desktop_app.core.searching.browse import Month, Timeline
from desktop_app.core.searching.ranking import Hit
from desktop_app.gui.results import HitRole
from desktop_app.gui.thumbnails import ThumbnailCache, placeholder

PAGE = 256  # rows turned into hits at once
PAGES_KEPT = 64  # about 16,000 hits in memory at most
SCALED_KEPT = 600  # cropped tiles kept (more than a full screen at the smallest size)

Index = QModelIndex | QPersistentModelIndex
LoadPage = Callable[[Sequence[int]], list[Hit | None]]


class BrowseModel(QAbstractListModel):
    def __init__(self, load_page: LoadPage, thumbnails: ThumbnailCache, parent: Any = None) -> None:
        super().__init__(parent)
        self._load_page = load_page
        self._thumbnails = thumbnails
        self._timeline = Timeline()
        self._drawn_rows: dict[int, int] = {}  # file id -> row, for the pages in memory
        self._pages: OrderedDict[int, list[Hit | None]] = OrderedDict()
        self._scaled: OrderedDict[tuple[int, int], QPixmap] = OrderedDict()
        self._tile = 160
        thumbnails.ready.connect(self._thumbnail_ready)

    # -- contents ------------------------------------------------------------------------------

    def set_timeline(self, timeline: Timeline) -> None:
        self.beginResetModel()
        self._timeline = timeline
        self._drawn_rows.clear()
        self._pages.clear()
        self._scaled.clear()
        self.endResetModel()

    def months(self) -> tuple[Month, ...]:
        return self._timeline.months

    def file_id(self, row: int) -> int:
        return self._timeline.ids[row]

    def row_of(self, file_id: int) -> int | None:
        """The row of a file (a scan of the ids: about a millisecond at 100,000)."""
        try:
            return self._timeline.ids.index(file_id)
        except ValueError:
            return None

    def hit(self, row: int) -> Hit | None:
        number = row // PAGE
        hits = self._pages.get(number)
        if hits is None:
            start = number * PAGE
            ids = self._timeline.ids[start : start + PAGE]
            hits = self._load_page(ids)
            self._pages[number] = hits
            self._drawn_rows.update((file_id, start + i) for i, file_id in enumerate(ids))
            while len(self._pages) > PAGES_KEPT:
                old, _ = self._pages.popitem(last=False)
                for file_id in self._timeline.ids[old * PAGE : (old + 1) * PAGE]:
                    self._drawn_rows.pop(file_id, None)
        else:
            self._pages.move_to_end(number)
        return hits[row - number * PAGE]

    def set_tile_size(self, size: int) -> None:
        if size != self._tile:
            self._tile = size
            self._scaled.clear()

    # -- Qt model API --------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._timeline)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._timeline):
            return None
        if role not in _ROLES:
            return None
        hit = self.hit(index.row())
        if hit is None:  # gone since the timeline was read; the next refresh drops it
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(hit.path).name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(hit)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            sep = "\n" if role == Qt.ItemDataRole.ToolTipRole else ", "
            return f"{Path(hit.path).name}{sep}{_when(hit)}"
        return hit  # HitRole

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- thumbnails ----------------------------------------------------------------------------

    def _decoration(self, hit: Hit) -> QPixmap:
        key = (hit.file_id, self._tile)
        cropped = self._scaled.get(key)
        if cropped is not None:
            self._scaled.move_to_end(key)
            return cropped
        pixmap = self._thumbnails.get(hit)
        if pixmap is None:
            return placeholder(self._tile, self._thumbnails.failed(hit.file_id))
        cropped = filled_square(pixmap, self._tile)
        self._scaled[key] = cropped
        while len(self._scaled) > SCALED_KEPT:
            self._scaled.popitem(last=False)
        return cropped

    def _thumbnail_ready(self, file_id: int) -> None:
        row = self._drawn_rows.get(file_id)  # a tile asks for its picture once it is drawn
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.AccessibleTextRole,
        HitRole,
    }
)


def _when(hit: Hit) -> str:
    if hit.taken_at is None:
        return "no date"
    return time.strftime("%d %B %Y", time.localtime(hit.taken_at)).lstrip("0")


def filled_square(pixmap: QPixmap, size: int) -> QPixmap:
    """The picture cropped to fill a square, as photo timelines show it: every tile the same
    shape, landscape and portrait alike, with no empty bands."""
    scaled = pixmap.scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatioByExpanding,
        Qt.TransformationMode.SmoothTransformation,
    )
    square = QPixmap(size, size)
    square.fill(Qt.GlobalColor.transparent)
    painter = QPainter(square)
    source = QRect((scaled.width() - size) // 2, (scaled.height() - size) // 2, size, size)
    painter.drawPixmap(QRect(0, 0, size, size), scaled, source)
    painter.end()
    return square
