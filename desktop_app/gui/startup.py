"""Start-up order: paint the window first, then load.

Loading the index and the query models (torch's import above all) holds Python's lock for
seconds; started before the window had painted, it left a black window for about four seconds
at every launch. :func:`after_first_paint` runs the loading once the window's first frame is
drawn, so a person sees the window's layout (with placeholders) at once.
"""

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class _FirstPaint(QObject):
    def __init__(self, widget: QWidget, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self._then = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            # After this paint is flushed to the screen: the next turn of the event loop.
            QTimer.singleShot(0, self._then)
            self.deleteLater()
        return False


def after_first_paint(widget: QWidget, then: Callable[[], None]) -> None:
    """Call ``then`` once ``widget`` (a window) has painted for the first time."""
    _FirstPaint(widget, then)
