"""What the results line says while a query runs: what is being waited for, and for how long.

A query right after launch waits for its models (seconds, torch included); one later waits for
the search alone. The line names the wait ("Loading the picture model… 2 s", "Searching…") and
counts seconds once it lasts, and the hits of the previous query are dimmed meanwhile, so
nothing on screen pretends to answer the new query.
"""

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import CLIP, TEXT

TICK_MS = 500
DIM_AFTER_MS = 150  # a quick answer does not flash the grid
DIMMED = 0.35


def waiting_for(engine: Engine) -> str:
    """The slowest thing a query is waiting for now."""
    for space, name in ((CLIP, "picture"), (TEXT, "text")):
        if (
            engine.library.searchable_set(space) is not None
            and engine.encoders.loaded(space) is None
            and engine.encoders.available(space)
        ):
            return f"Loading the {name} model…"
    return "Searching…"


class BusyLine(QObject):
    """Drives ``label`` (the results line) and dims ``grid`` while a query runs."""

    def __init__(
        self, label: QLabel, grid: QWidget, describe: Callable[[], str], parent: QObject
    ) -> None:
        super().__init__(parent)
        self._label, self._grid, self._describe = label, grid, describe
        self._veil = _Veil(grid)
        self._since = 0.0
        self._text = ""
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._dim = QTimer(self)
        self._dim.setSingleShot(True)
        self._dim.setInterval(DIM_AFTER_MS)
        self._dim.timeout.connect(self._dim_grid)

    def start(self) -> None:
        if not self._timer.isActive():
            self._since = time.monotonic()
            self._text = self._describe()
            self._timer.start()
            self._dim.start()
        self._show()

    def stop(self) -> None:
        self._timer.stop()
        self._dim.stop()
        self._veil.hide()

    def active(self) -> bool:
        return self._timer.isActive()

    def _tick(self) -> None:
        self._text = self._describe()
        self._show()

    def _show(self) -> None:
        seconds = int(time.monotonic() - self._since)
        self._label.setText(f"<i>{self._text}</i>" + (f" {seconds} s" if seconds >= 1 else ""))

    def dimmed(self) -> bool:
        return self._veil.isVisible()

    def _dim_grid(self) -> None:
        self._veil.setGeometry(self._grid.rect())
        self._veil.show()
        self._veil.raise_()


class _Veil(QWidget):
    """A translucent sheet over the grid (an opacity effect on a scroll area drew garbage)."""

    def __init__(self, grid: QWidget) -> None:
        super().__init__(grid)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        colour = QColor(self.palette().color(QPalette.ColorRole.Base))
        colour.setAlphaF(1 - DIMMED)
        painter = QPainter(self)
        painter.fillRect(self.rect(), colour)
        painter.end()
