"""What the results area shows: the good matches, the closest few when none is good, or a hint.

Only hits whose calibrated relevance reaches :data:`~desktop_app.core.searching.relevance.CUTOFF`
are shown, unless *Show weaker matches* is ticked. When nothing passes, the page says so and
shows the closest few below a divider, so a search never ends in a blank grid without
explanation.
"""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.searching.ranking import Hit
from desktop_app.core.searching.relevance import CUTOFF
from desktop_app.gui.results import ResultsModel, ResultsView

CLOSEST = 6  # weak matches shown under "No good matches"


class ResultsPage(QStackedWidget):
    """Page 0: a centred hint; page 1: the summary line and the grid."""

    shown = Signal()  # the visible hits changed

    def __init__(self, model: ResultsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = ResultsView()
        self.view.setModel(model)
        self.empty_label = QLabel()
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.summary = QLabel()
        self.show_weaker = QCheckBox("Show weaker matches")
        self.show_weaker.setToolTip(
            f"Also show results below {CUTOFF:.0%} relevance (they rarely fit the query)"
        )
        self.divider = QFrame()
        self.divider.setFrameShape(QFrame.Shape.HLine)
        self.divider.setFrameShadow(QFrame.Shadow.Sunken)
        grid_page = QWidget()
        layout = QVBoxLayout(grid_page)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(self.summary, 1)
        header.addWidget(self.show_weaker)
        layout.addLayout(header)
        layout.addWidget(self.divider)
        layout.addWidget(self.view, 1)
        self.addWidget(self.empty_label)
        self.addWidget(grid_page)
        self._hits: list[Hit] = []
        self.show_weaker.toggled.connect(self._refresh)

    def show_hits(self, hits: list[Hit]) -> None:
        self._hits = hits
        self._refresh()

    def show_hint(self, text: str) -> None:
        self._hits = []
        self.model.set_hits([])
        self.empty_label.setText(f"<span style='font-size:15px'>{text}</span>")
        self.setCurrentIndex(0)
        self.shown.emit()

    def _refresh(self) -> None:
        hits = self._hits
        good = [h for h in hits if h.relevance >= CUTOFF]
        weaker = len(hits) - len(good)
        if not hits:
            self.show_hint("No matches. Try other words, or remove a filter.")
            return
        self.divider.setVisible(not good and not self.show_weaker.isChecked())
        if self.show_weaker.isChecked():
            visible = hits
            self.summary.setText(f"{_count(len(good), 'good match')}, {weaker} weaker")
        elif good:
            visible = good
            more = f" ({weaker} weaker hidden)" if weaker else ""
            self.summary.setText(_count(len(good), "good match") + more)
        else:
            visible = hits[:CLOSEST]
            self.summary.setText("<b>No good matches.</b> The closest:")
        self.model.set_hits(visible)
        self.setCurrentIndex(1)
        self.shown.emit()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'es' if n != 1 and noun.endswith('h') else '' if n == 1 else 's'}"
