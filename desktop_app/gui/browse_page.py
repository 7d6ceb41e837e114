"""What the results area shows with no query: the whole library, newest first.

The timeline is read off the UI thread (an answer for filters no longer current is dropped).
Reading it again, because files were indexed or the filters changed, keeps the person's place:
the tile at the top of the view stays there while its file is still in the library. A query
hides this page without touching it, so Escape comes back to the same place.
"""

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop_app.core.engine import Engine
from desktop_app.core.searching.browse import Timeline
from desktop_app.core.searching.filters import Filters
from desktop_app.gui.browse_model import BrowseModel
from desktop_app.gui.tasks import run_async
from desktop_app.gui.thumbnails import ThumbnailCache
from desktop_app.gui.timeline_view import TimelineView


class BrowsePage(QWidget):
    def __init__(
        self, engine: Engine, thumbnails: ThumbnailCache, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self.model = BrowseModel(engine.browse_page, thumbnails, self)
        self.view = TimelineView()
        self.view.setModel(self.model)
        self.summary = QLabel()
        self.summary.setAccessibleName("Library summary")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        self._load_id = 0
        self._shown_for: tuple[tuple[str, ...], Filters] | None = None
        self.loading = False
        self.stale = False  # files were indexed or removed while a query was shown

    def load(self, kinds: tuple[str, ...], filters: Filters, *, again: bool = True) -> None:
        """Read the timeline for these kinds and filters; with ``again`` False, only when they
        differ from those shown (the library did not change)."""
        key = (kinds, filters)
        if not again and key == self._shown_for and not self.stale:
            return
        self.stale = False
        self._load_id += 1
        load_id, engine = self._load_id, self._engine
        self.loading = True
        if self._shown_for is None:
            self.summary.setText("Reading the library…")
        run_async(
            lambda: engine.browse(kinds, filters),
            lambda timeline: self._arrived(load_id, key, timeline),
            lambda message: self._failed(load_id, message),
        )

    def _arrived(
        self, load_id: int, key: tuple[tuple[str, ...], Filters], timeline: Timeline
    ) -> None:
        if load_id != self._load_id:
            return
        self.loading = False
        same_filters = key == self._shown_for
        anchor = self._anchor() if same_filters else None
        current = self.view.currentIndex()
        current_id = self.model.file_id(current.row()) if current.isValid() else None
        self._shown_for = key
        self.model.set_timeline(timeline)
        if current_id is not None and same_filters:
            row = self.model.row_of(current_id)
            if row is not None:
                self.view.setCurrentIndex(self.model.index(row, 0))
        if anchor is not None:
            row = self.model.row_of(anchor)
            if row is not None:
                self.view.scroll_to_row(row)
        else:
            self.view.verticalScrollBar().setValue(0)
        self.summary.setText(_summary(timeline, key[1]))

    def _anchor(self) -> int | None:
        row = self.view.top_row()
        return self.model.file_id(row) if row is not None and self.model.rowCount() else None

    def _failed(self, load_id: int, message: str) -> None:
        if load_id == self._load_id:
            self.loading = False
            self.summary.setText(f"Cannot read the library: {message}")


def _summary(timeline: Timeline, filters: Filters) -> str:
    count = len(timeline)
    if not count:
        if filters.active:
            return "Nothing in the library passes these filters."
        return "Nothing to show yet: pictures appear here as they are indexed."
    noun = "item" if count == 1 else "items"
    narrowed = ", filtered" if filters.active else ""
    return f"<b>{count:,} {noun}</b>{narrowed} · newest first · type above to search"
