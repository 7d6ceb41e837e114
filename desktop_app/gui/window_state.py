"""What the window remembers between runs: its geometry and splitter, the search history, the
tile size and whether weaker matches show (in the QSettings the app opens, see app.py)."""

from typing import Protocol

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QSplitter

from desktop_app.gui.results import ResultsView
from desktop_app.gui.results_page import ResultsPage
from desktop_app.gui.search_bar import SearchBar


class RememberedWindow(Protocol):
    """The parts of the main window whose state is kept."""

    settings: QSettings
    splitter: QSplitter
    search_bar: SearchBar
    results_view: ResultsView
    results_stack: ResultsPage

    def saveGeometry(self) -> QByteArray: ...

    def restoreGeometry(self, geometry: QByteArray) -> bool: ...

    def resize(self, width: int, height: int) -> None: ...


def restore(window: RememberedWindow) -> None:
    s = window.settings
    geometry = s.value("window/geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    else:
        window.resize(1280, 800)
    sizes = s.value("window/splitter")
    if isinstance(sizes, QByteArray):
        window.splitter.restoreState(sizes)
    history = s.value("search/history", [], type=list)
    window.search_bar.set_history(
        [str(item) for item in history] if isinstance(history, list) else []
    )
    window.results_stack.show_weaker.setChecked(
        s.value("results/show_weaker", False, type=bool) is True
    )
    zoom = s.value("results/zoom")
    if zoom is not None:
        window.results_view.set_zoom(int(zoom))


def save(window: RememberedWindow) -> None:
    s = window.settings
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/splitter", window.splitter.saveState())
    s.setValue("search/history", window.search_bar.history())
    s.setValue("results/zoom", window.results_view.zoom())
    s.setValue("results/show_weaker", window.results_stack.show_weaker.isChecked())
    s.sync()
