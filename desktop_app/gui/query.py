"""The current query (words, a picture, or "more like" a hit), run off the UI thread.

Each run gets a number; an answer that arrives after a newer query was started is dropped, so
fast typing never shows stale results.
"""

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal

from desktop_app.core.engine import Engine
from desktop_app.core.search import Hit
from desktop_app.gui.tasks import run_async

RESULTS_K = 500


class Searcher(QObject):
    results = Signal(object)  # list[Hit]
    failed = Signal(str)

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._query_id = 0
        self.image: str | bytes | None = None
        self.similar: Hit | None = None

    def use_text(self) -> None:
        self.image = self.similar = None

    def use_image(self, source: str | bytes) -> None:
        self.image, self.similar = source, None

    def use_similar(self, hit: Hit) -> None:
        self.image, self.similar = None, hit

    def has_query(self, text: str) -> bool:
        return bool(text or self.image is not None or self.similar is not None)

    def run(self, text: str, kinds: tuple[str, ...], folders: Sequence[str] | None) -> bool:
        """Start the query; False (and nothing started) when there is nothing to search."""
        self._query_id += 1
        query_id, engine = self._query_id, self._engine
        job: Callable[[], list[Hit]]
        if self.similar is not None:
            target = self.similar.file_id
            job = lambda: engine.similar(target, RESULTS_K, folders=folders)  # noqa: E731
        elif self.image is not None:
            source = self.image
            job = lambda: engine.search_image(source, RESULTS_K, folders=folders)  # noqa: E731
        elif text:
            job = lambda: engine.search(text, RESULTS_K, kinds=kinds, folders=folders)  # noqa: E731
        else:
            return False
        run_async(
            job,
            lambda hits: self._answer(query_id, hits),
            lambda message: self._error(query_id, message),
        )
        return True

    def _answer(self, query_id: int, hits: list[Hit]) -> None:
        if query_id == self._query_id:
            self.results.emit(hits)

    def _error(self, query_id: int, message: str) -> None:
        if query_id == self._query_id:
            self.failed.emit(message)
