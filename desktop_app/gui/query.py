"""The current query (words, pictures, "more like" a hit, filters), run off the UI thread.

Each run gets a number; an answer that arrives after a newer query was started is dropped, so
fast typing never shows stale results.
"""

from PySide6.QtCore import QObject, Signal

from desktop_app.core.engine import Engine
from desktop_app.core.searching.filters import Filters
from desktop_app.core.searching.ranking import Hit
from desktop_app.core.searching.terms import Query
from desktop_app.gui.tasks import run_async

RESULTS_K = 500


class Searcher(QObject):
    started = Signal()  # a query is running (the answer is results or failed)
    results = Signal(object)  # list[Hit]
    failed = Signal(str)

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._query_id = 0
        self.running = False

    def run(self, query: Query, kinds: tuple[str, ...], filters: Filters) -> bool:
        """Start the query; False (and nothing started) when there is nothing to search."""
        self._query_id += 1
        self.running = not query.is_empty
        if query.is_empty:
            return False
        query_id, engine = self._query_id, self._engine
        self.started.emit()
        run_async(
            lambda: engine.query(query, RESULTS_K, kinds=kinds, filters=filters),
            lambda hits: self._answer(query_id, hits),
            lambda message: self._error(query_id, message),
        )
        return True

    def _answer(self, query_id: int, hits: list[Hit]) -> None:
        if query_id == self._query_id:
            self.running = False
            self.results.emit(hits)

    def _error(self, query_id: int, message: str) -> None:
        if query_id == self._query_id:
            self.running = False
            self.failed.emit(message)
