"""The search bar: words (debounced), extra terms as chips, history, and the filter bar.

Typing emits a query 250 ms after the last key, so results follow the typing without a search
per keystroke; the window discards answers to queries that are no longer current. Up recalls
older queries and, once Up was pressed, Down newer ones; otherwise Down asks to move into the
results (as in a browser's address bar), so the keyboard goes from the words to the hits.
Pictures (dropped, pasted, chosen, or *More like this*) and words moved out of the field with
+ become chips, each with a weight and a +/− toggle: the query is the words in the field plus
every chip (see :mod:`desktop_app.core.searching.terms`). A new picture clears the words in the
field; words kept with + stay beside it.
"""

import os

from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.kinds.base import clock
from desktop_app.core.searching import terms as query
from desktop_app.core.searching.filters import Filters
from desktop_app.core.searching.ranking import Hit
from desktop_app.gui.cards import card_for
from desktop_app.gui.filter_bar import FilterBar
from desktop_app.gui.icons import icon
from desktop_app.gui.term_chips import TermChips

DEBOUNCE_MS = 250
HISTORY_SIZE = 50


class SearchBar(QWidget):
    query_changed = Signal()
    filters_changed = Signal()
    results_requested = Signal()  # Down in the field while not walking the history

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.chips = TermChips()
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Describe what you are looking for, or drop a photo here…")
        self.edit.setClearButtonEnabled(True)
        self.edit.setAccessibleName("Search")
        self.add_button = QToolButton()
        self.add_button.setText("+")
        self.add_button.setToolTip(
            "Keep these words as a separate term (then add more words, or avoid them with −)"
        )
        self.add_button.setAccessibleName("Keep these words as a term")
        self.filter_button = QToolButton()
        self.filter_button.setIcon(icon("filters"))
        self.filter_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.filter_button.setAccessibleName("Filters")
        self.filter_button.setCheckable(True)
        self.filter_button.setToolTip("Show or hide the filters")
        self.filter_bar = FilterBar()
        row.addWidget(self.chips)
        row.addWidget(self.edit, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.filter_button)
        outer.addLayout(row)
        outer.addWidget(self.filter_bar)
        self._history: list[str] = []
        self._history_model = QStringListModel(self)
        self._history_pos = -1
        completer = QCompleter(self._history_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.edit.setCompleter(completer)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.query_changed)
        self.edit.textEdited.connect(self._typed)
        self.edit.returnPressed.connect(self.submit)
        self.edit.installEventFilter(self)
        self.add_button.clicked.connect(self.keep_words)
        self.chips.changed.connect(self._chips_changed)
        self.filter_button.toggled.connect(self.filter_bar.setVisible)
        self.filter_bar.changed.connect(self._filters_changed)
        self._update_filter_button()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # light or dark icon
            self.filter_button.setIcon(icon("filters", self.palette()))
        super().changeEvent(event)

    # -- the query ---------------------------------------------------------------------------

    def query(self) -> query.Query:
        words = [query.text(self.text())] if self.text() else []
        return query.Query(tuple(words + self.chips.terms()))

    def has_query(self) -> bool:
        return not self.query().is_empty

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def add_image(self, source: str | bytes, image: QImage) -> None:
        """A picture (chosen, dropped or pasted) starts a picture query: it replaces the words
        in the field, which were typed for another search, not to be mixed with this picture
        by accident (they stay in the history, under Up). Terms kept as chips stay: words and
        a picture are combined on purpose by keeping the words with + first."""
        self._timer.stop()
        if words := self.text():
            self._remember(words)
        self.edit.clear()
        name = os.path.basename(source) if isinstance(source, str) else "Pasted image"
        self.chips.add(query.image(source), name, image)

    def like_only(self, hit: Hit, image: QImage | None) -> None:
        """*More like this*: the query becomes that one indexed file."""
        self._timer.stop()
        self.edit.clear()
        self.chips.clear()
        # A video's matched frame, not the whole video (its moment, when it has one).
        moment = card_for(hit).moment()
        name = os.path.basename(hit.path) + (f" @ {clock(moment)}" if moment is not None else "")
        self.chips.add(query.indexed_file(hit.file_id, at=moment), f"Like {name}", image)

    def keep_words(self) -> None:
        """Turn the words in the field into a chip, so that more words can be added."""
        if words := self.text():
            self._remember(words)
            self.edit.clear()
            self.chips.add(query.text(words), words)

    def escape(self) -> None:
        """Escape: leave the search (its words go to the history) for the library view."""
        self._timer.stop()
        if words := self.text():
            self._remember(words)
        self.clear_terms()

    def clear_terms(self) -> None:
        self.edit.clear()
        self.chips.clear()
        self.query_changed.emit()

    # -- filters -----------------------------------------------------------------------------

    def kinds(self) -> tuple[str, ...]:
        return self.filter_bar.kinds()

    def filters(self) -> Filters:
        return self.filter_bar.filters()

    def set_folders(self, folders: list[str]) -> None:
        self.filter_bar.set_folders(folders)

    def _filters_changed(self) -> None:
        self._update_filter_button()
        self.filters_changed.emit()

    def _update_filter_button(self) -> None:
        count = self.filter_bar.active_count()
        self.filter_button.setText(f"Filters ({count})" if count else "Filters")

    # -- typing ------------------------------------------------------------------------------

    def submit(self) -> None:
        """Enter: search now and remember the query."""
        self._timer.stop()
        text = self.text()
        if text:
            self._remember(text)
        self.query_changed.emit()

    def _typed(self, _text: str) -> None:
        self._history_pos = -1
        self._timer.start()

    def _chips_changed(self) -> None:
        self._timer.stop()
        self.query_changed.emit()

    def _remember(self, text: str) -> None:
        """Put ``text`` first in the history. The list reorders, so a walk through it starts
        again from the newest entry (Up after a search recalls that search, then older ones)."""
        self._history_pos = -1
        if text in self._history:
            self._history.remove(text)
        self._history.insert(0, text)
        del self._history[HISTORY_SIZE:]
        self._history_model.setStringList(self._history)

    def history(self) -> list[str]:
        return list(self._history)

    def set_history(self, items: list[str]) -> None:
        self._history = [str(i) for i in items][:HISTORY_SIZE]
        self._history_model.setStringList(self._history)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            popup = self.edit.completer().popup()
            popup_open = popup is not None and popup.isVisible()
            if event.key() == Qt.Key.Key_Escape and not popup_open and self.has_query():
                self.escape()
                return True
            if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not popup_open:
                if event.key() == Qt.Key.Key_Down and self._history_pos < 0:
                    self.results_requested.emit()
                else:
                    self._walk_history(1 if event.key() == Qt.Key.Key_Up else -1)
                return True
        return super().eventFilter(watched, event)

    def _walk_history(self, step: int) -> None:
        if not self._history:
            return
        self._history_pos = max(-1, min(len(self._history) - 1, self._history_pos + step))
        text = "" if self._history_pos < 0 else self._history[self._history_pos]
        self.edit.setText(text)
        self._timer.start()
