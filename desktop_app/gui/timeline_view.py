"""The browse grid: square tiles in month sections, each under a header that stays pinned at the
top while its month scrolls by (pushed away by the next month's header), as photo apps do.

The layout is arithmetic over the months (header, then rows of ``columns`` tiles), so finding
what is on screen is a bisection and a paint touches only the visible tiles: scrolling costs the
same at 100 files or 100,000. It is a real :class:`QAbstractItemView`: selection model, keyboard
(arrows, Page Up/Down, Home/End, Enter opens), tooltips and the accessibility of item views.
"""

from bisect import bisect_right

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
)
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QRegion,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QWidget

from desktop_app.core.searching.browse import Month
from desktop_app.gui.browse_model import BrowseModel
from desktop_app.gui.results import emit_hit, open_on_enter

GAP = 4  # between tiles
MARGIN = 8  # left and right of the grid
SECTION_GAP = 10  # below a month's last row

Cursor = QAbstractItemView.CursorAction


class TimelineView(QAbstractItemView):
    activated_hit = QtSignal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zoom = self._tile = 160
        self._columns = 1
        self._tops: list[int] = []  # each month's header top, in content coordinates
        self._starts: list[int] = []  # each month's first row
        self._height = 0
        self._waiting = False
        self._anchor: tuple[int, int] | None = None  # (row, its top on screen) scrolled to
        self._relaying = False
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setMouseTracking(True)
        self.setAccessibleName("Library, newest first")
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.doubleClicked.connect(lambda index: emit_hit(index, self.activated_hit))

    # -- geometry ------------------------------------------------------------------------------

    def browse_model(self) -> BrowseModel:
        model = self.model()
        assert isinstance(model, BrowseModel)
        return model

    def tile_size(self) -> int:
        return self._tile

    def set_tile_size(self, size: int) -> None:
        """The zoom: tiles are at least ``size`` wide (they grow to fill each row)."""
        self._zoom = size
        self._relayout_in_place()

    def columns(self) -> int:
        return self._columns

    def pinned_month(self) -> str | None:
        """The title of the month pinned at the top, None while every header is in its own
        place (scrolled to the very top of a month)."""
        if not self._starts:
            return None
        top = self.verticalOffset()
        first = max(0, bisect_right(self._tops, top) - 1)
        return self._months()[first].title if self._tops[first] < top else None

    def header_height(self) -> int:
        return self.fontMetrics().height() * 2 + 8

    def relayout(self) -> None:
        """Place the months for the current width and tile size."""
        months = self._months()
        room = self.viewport().width() - 2 * MARGIN
        self._columns = max(1, (room + GAP) // (self._zoom + GAP))
        # The tiles grow a little to fill the row, so no empty band is left on the right.
        self._tile = max(self._zoom, (room - (self._columns - 1) * GAP) // self._columns)
        if isinstance(self.model(), BrowseModel):
            self.browse_model().set_tile_size(self._tile)
        cell = self._tile + GAP
        self._tops, self._starts = [], []
        y = 0
        for month in months:
            self._tops.append(y)
            self._starts.append(month.start)
            rows = -(-month.count // self._columns)
            y += self.header_height() + rows * cell + SECTION_GAP
        self._height = y
        self.updateGeometries()
        self.viewport().update()

    def _months(self) -> tuple[Month, ...]:
        model = self.model()
        return model.months() if isinstance(model, BrowseModel) else ()

    def _section_of_row(self, row: int) -> int:
        return max(0, bisect_right(self._starts, row) - 1)

    def _tile_rect(self, row: int) -> QRect:
        """The tile of ``row`` in content coordinates."""
        section = self._section_of_row(row)
        offset = row - self._starts[section]
        cell = self._tile + GAP
        x = MARGIN + (offset % self._columns) * cell
        y = self._tops[section] + self.header_height() + (offset // self._columns) * cell
        return QRect(x, y, self._tile, self._tile)

    def _row_at(self, x: int, y: int) -> int | None:
        """The row whose tile holds the content point (x, y), if any."""
        section = bisect_right(self._tops, y) - 1
        if section < 0:
            return None
        months = self._months()
        cell = self._tile + GAP
        inside = y - self._tops[section] - self.header_height()
        column = (x - MARGIN) // cell
        if inside < 0 or x < MARGIN or column >= self._columns:
            return None
        if inside % cell >= self._tile or (x - MARGIN) % cell >= self._tile:
            return None
        offset = (inside // cell) * self._columns + column
        if offset >= months[section].count:
            return None
        return self._starts[section] + offset

    # -- QAbstractItemView ---------------------------------------------------------------------

    def visualRect(self, index: QModelIndex) -> QRect:  # type: ignore[override]
        if not index.isValid() or not self._starts:
            return QRect()
        return self._tile_rect(index.row()).translated(0, -self.verticalOffset())

    def indexAt(self, point: QPoint) -> QModelIndex:
        row = self._row_at(point.x(), point.y() + self.verticalOffset())
        return QModelIndex() if row is None else self.model().index(row, 0)

    def scrollTo(
        self,
        index: QModelIndex | QPersistentModelIndex,
        hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
    ) -> None:
        if not index.isValid() or not self._starts:
            return
        rect = self._tile_rect(index.row())
        bar = self.verticalScrollBar()
        top_room = self.header_height()  # the pinned header covers the top of the viewport
        at_top = hint == QAbstractItemView.ScrollHint.PositionAtTop
        if at_top or rect.top() - top_room < bar.value():
            bar.setValue(rect.top() - top_room)
        elif rect.bottom() > bar.value() + self.viewport().height():
            bar.setValue(rect.bottom() - self.viewport().height() + GAP)

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        return False

    def moveCursor(
        self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        count = self.model().rowCount() if self.model() else 0
        if not count:
            return QModelIndex()
        current = self.currentIndex()
        if not current.isValid():
            return self.model().index(0, 0)
        row = current.row()
        if action in (Cursor.MoveLeft, Cursor.MovePrevious):
            row -= 1
        elif action in (Cursor.MoveRight, Cursor.MoveNext):
            row += 1
        elif action in (Cursor.MoveUp, Cursor.MoveDown):
            row = self._row_vertically(row, -1 if action == Cursor.MoveUp else 1)
        elif action in (Cursor.MovePageUp, Cursor.MovePageDown):
            rect = self._tile_rect(row)
            step = self.viewport().height() - self.header_height()
            y = rect.center().y() + (step if action == Cursor.MovePageDown else -step)
            row = self._nearest_row(rect.center().x(), y)
        elif action == Cursor.MoveHome:
            row = 0
        elif action == Cursor.MoveEnd:
            row = count - 1
        return self.model().index(max(0, min(count - 1, row)), 0)

    def _row_vertically(self, row: int, step: int) -> int:
        """The tile above or below ``row``: same column, into the next month when needed (its
        last row when that one is shorter)."""
        section = self._section_of_row(row)
        months = self._months()
        offset = row - self._starts[section]
        column = offset % self._columns
        target = offset + step * self._columns
        if 0 <= target < months[section].count:
            return row + step * self._columns
        if step > 0 and target < -(-months[section].count // self._columns) * self._columns:
            return self._starts[section] + months[section].count - 1  # the short last row
        section += step
        if not 0 <= section < len(months):
            return row
        count = months[section].count
        if step > 0:
            return self._starts[section] + min(column, count - 1)
        last_row_start = (count - 1) // self._columns * self._columns
        return self._starts[section] + min(last_row_start + column, count - 1)

    def _nearest_row(self, x: int, y: int) -> int:
        """The row of the tile nearest to the content point (page up and down)."""
        y = max(0, min(self._height - 1, y))
        section = max(0, bisect_right(self._tops, y) - 1)
        months = self._months()
        cell = self._tile + GAP
        inside = max(0, y - self._tops[section] - self.header_height())
        column = max(0, min(self._columns - 1, (x - MARGIN) // cell))
        offset = min(months[section].count - 1, (inside // cell) * self._columns + column)
        return self._starts[section] + offset

    def setSelection(self, rect: QRect, flags: QItemSelectionModel.SelectionFlag) -> None:
        index = self.indexAt(rect.center())
        selection = QItemSelection()
        if index.isValid():
            selection.select(index, index)
        self.selectionModel().select(selection, flags)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        region = QRegion()
        for index in selection.indexes()[:200]:
            region += self.visualRect(index)
        return region

    def updateGeometries(self) -> None:
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, self._height - self.viewport().height()))
        bar.setPageStep(self.viewport().height())
        bar.setSingleStep(max(20, (self._tile + GAP) // 3))
        super().updateGeometries()

    # -- model changes -------------------------------------------------------------------------

    def setModel(self, model: BrowseModel) -> None:  # type: ignore[override]
        super().setModel(model)
        model.modelReset.connect(self._forget_place)
        model.modelReset.connect(self.relayout)
        model.modelReset.connect(lambda: self.set_waiting(False))
        self.relayout()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout_in_place()

    def _relayout_in_place(self) -> None:
        """Lay out again with the tile the person scrolled to staying where it was, to the
        pixel. The place is the one last scrolled to, not recomputed at each layout: a
        round trip through another width (the preview folding and unfolding) comes back
        to the same place instead of drifting."""
        anchor = self._anchor if self._anchor is not None else self._current_anchor()
        self._relaying = True  # the range changes below move the bar: not the person
        try:
            self.relayout()
            if anchor is not None and anchor[0] < self.model().rowCount():
                self.verticalScrollBar().setValue(self._tile_rect(anchor[0]).top() - anchor[1])
        finally:
            self._relaying = False

    def _forget_place(self) -> None:
        self._anchor = None

    def _current_anchor(self) -> tuple[int, int] | None:
        row = self.top_row()
        if row is None:
            return None
        return row, self._tile_rect(row).top() - self.verticalOffset()

    def _scrolled(self) -> None:
        if not self._relaying:
            self._anchor = self._current_anchor()

    def top_row(self) -> int | None:
        """The first row on screen below the pinned header (to keep one's place)."""
        if not self._starts:
            return None
        y = self.verticalOffset() + self.header_height()
        return self._nearest_row(MARGIN, y)

    def scroll_to_row(self, row: int) -> None:
        if 0 <= row < self.model().rowCount():
            self.scrollTo(self.model().index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)

    # -- painting ------------------------------------------------------------------------------

    def set_waiting(self, waiting: bool) -> None:
        """Placeholder tiles while the library is read (cleared by the first timeline)."""
        self._waiting = waiting
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._starts:
            if self._waiting:
                self._paint_waiting()
            return
        painter = QPainter(self.viewport())
        palette = self.palette()
        top, height = self.verticalOffset(), self.viewport().height()
        first = max(0, bisect_right(self._tops, top) - 1)
        months = self._months()
        model = self.browse_model()
        selected = {i.row() for i in self.selectionModel().selectedIndexes()}
        current = self.currentIndex().row() if self.currentIndex().isValid() else -1
        cell = self._tile + GAP
        for section in range(first, len(months)):
            section_top = self._tops[section]
            if section_top > top + height:
                break
            self._paint_header(painter, months[section], section_top - top)
            grid_top = section_top + self.header_height()
            first_row = max(0, (top - grid_top) // cell)
            last_row = (top + height - grid_top) // cell
            for line in range(first_row, last_row + 1):
                for column in range(self._columns):
                    offset = line * self._columns + column
                    if offset >= months[section].count:
                        break
                    row = self._starts[section] + offset
                    rect = QRect(
                        MARGIN + column * cell, grid_top + line * cell - top, self._tile, self._tile
                    )
                    self._paint_tile(painter, model, row, rect, row in selected, row == current)
        # The month at the top stays pinned; the next one's header pushes it up.
        pinned = months[first]
        push = 0
        if first + 1 < len(months):
            push = min(0, self._tops[first + 1] - top - self.header_height())
        if self._tops[first] < top:
            painter.fillRect(
                QRect(0, push, self.viewport().width(), self.header_height()),
                palette.color(QPalette.ColorRole.Base),
            )
            self._paint_header(painter, pinned, push)
        painter.end()

    def _paint_waiting(self) -> None:
        painter = QPainter(self.viewport())
        colour = QColor(self.palette().color(QPalette.ColorRole.Mid))
        colour.setAlpha(60)
        cell = self._tile + GAP
        top = self.header_height()
        painter.fillRect(QRect(MARGIN, top // 3, 180, top // 3), colour)
        for line in range(self.viewport().height() // cell + 1):
            for column in range(self._columns):
                painter.fillRect(
                    QRect(MARGIN + column * cell, top + line * cell, self._tile, self._tile), colour
                )
        painter.end()

    def _paint_header(self, painter: QPainter, month: Month, y: int) -> None:
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        painter.setFont(font)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        rect = QRect(MARGIN, y, self.viewport().width() - 2 * MARGIN, self.header_height())
        left = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        painter.drawText(rect, left, month.title)
        painter.setFont(self.font())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        count = f"{month.count:,} item{'s' if month.count != 1 else ''}"
        painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, count)

    def _paint_tile(
        self,
        painter: QPainter,
        model: BrowseModel,
        row: int,
        rect: QRect,
        selected: bool,
        current: bool,
    ) -> None:
        pixmap = model.data(model.index(row, 0), Qt.ItemDataRole.DecorationRole)
        if pixmap is not None:
            painter.drawPixmap(rect.topLeft(), pixmap)
        if selected:  # the whole tile, not just its caption
            highlight = self.palette().color(QPalette.ColorRole.Highlight)
            fill = QColor(highlight)
            fill.setAlpha(90)
            painter.fillRect(rect, fill)
            pen = painter.pen()
            pen.setColor(highlight)
            pen.setWidth(4)
            painter.setPen(pen)
            painter.drawRect(rect.adjusted(2, 2, -2, -2))
        elif current and self.hasFocus():
            pen = painter.pen()
            pen.setColor(self.palette().color(QPalette.ColorRole.Highlight))
            pen.setWidth(2)
            pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(rect.adjusted(1, 1, -1, -1))

    # -- keys ----------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not open_on_enter(self, event, self.activated_hit):
            super().keyPressEvent(event)
