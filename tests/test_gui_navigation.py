"""Where a search leaves the person: new results at the top, a picture replacing the words,
and the keyboard moving between the search field, its history and the results."""

from pathlib import Path
from typing import Any

import pytest
from gui_support import (
    WAIT_MS,
    chip_names,
    drop,
    menu_action,
    offscreen_popups,
    result_paths,
    search_for,
)
from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from desktop_app.gui.dropping import read_mime
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.results import ZOOM_MAX, HitRole

# Every test here must end with no Qt pool job still running.
pytestmark = pytest.mark.usefixtures("qt_pools_idle")


def test_new_results_start_at_the_top_with_nothing_selected(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """A new query (or a filter change) shows its best hits from the top, with no selection
    and an empty preview; a refresh of the same query (more files indexed) keeps the
    scroll position and the selection."""
    window.resize(700, 500)
    window.results_stack.show_weaker.setChecked(True)
    view, model, preview = window.results_view, window.results_model, window.preview
    view.set_zoom(ZOOM_MAX)
    search_for(qtbot, window, "lasagne")
    scroll = view.verticalScrollBar()
    # The grid lays its items out in batches: wait for the layout, which must scroll.
    qtbot.waitUntil(lambda: scroll.maximum() > 0, timeout=WAIT_MS)
    view.scrollToBottom()
    last = model.index(model.rowCount() - 1)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(last).center())
    assert preview.hit() == last.data(HitRole) and scroll.value() > 0

    search_for(qtbot, window, "mountain trail")
    assert scroll.value() == 0
    assert not view.currentIndex().isValid() and view.selectedIndexes() == []
    assert preview.hit() is None

    view.scrollToBottom()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(last).center())
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        window.search_bar.filter_bar.kind.setCurrentIndex(1)  # Images
    assert scroll.value() == 0 and not view.currentIndex().isValid() and preview.hit() is None

    qtbot.wait(100)  # the preview folded away: the grid lays out at its new width
    view.scrollToBottom()  # looking further down, nothing selected yet
    place = scroll.value()
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        window.refresh_results()  # as the indexing progress does
    assert scroll.value() == place > 0
    last = model.index(model.rowCount() - 1)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(last).center())
    qtbot.wait(100)  # the preview unfolds beside the grid, which lays out again
    selected, place = preview.hit(), scroll.value()
    assert selected is not None and place > 0
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        window.refresh_results()  # as the indexing progress does
    assert preview.hit() == selected
    assert view.currentIndex().data(HitRole) == selected
    assert scroll.value() == place


@offscreen_popups  # the search field's history pops up as the words are typed again
def test_a_picture_replaces_the_words_typed(
    qtbot: QtBot, window: MainWindow, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Search by image…, a dropped and a pasted picture each start a picture query: the
    words in the field are cleared (and remembered), not searched with the picture; words kept
    with + stay beside the picture."""
    edit, bar = window.search_bar.edit, window.search_bar
    photo = library / "photos" / "photo003.jpg"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: (str(photo), ""))

    def words_then(add_picture: Any) -> None:
        for chip in bar.chips.chips():
            qtbot.mouseClick(chip.close_button, Qt.MouseButton.LeftButton)
        search_for(qtbot, window, "mountains at sunset")
        with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
            add_picture()
        assert edit.text() == ""
        assert [t.kind for t in bar.query().terms] == ["image"]
        assert result_paths(window)[0] == str(photo)
        assert bar.history()[0] == "mountains at sunset"

    words_then(lambda: menu_action(window, "Search by &image…").trigger())
    words_then(lambda: drop(window, photo))
    QGuiApplication.clipboard().setImage(QImage(str(photo)))
    read_mime(QGuiApplication.clipboard().mimeData())  # fails here, not in an event filter
    words_then(lambda: qtbot.keyClick(edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier))

    for chip in bar.chips.chips():
        qtbot.mouseClick(chip.close_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(edit, "mountains at sunset")
    qtbot.mouseClick(bar.add_button, Qt.MouseButton.LeftButton)  # keep the words as a chip
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        menu_action(window, "Search by &image…").trigger()
    assert chip_names(window) == ["mountains at sunset", "photo003.jpg"]
    assert [t.kind for t in bar.query().terms] == ["text", "image"]


def test_down_and_tab_go_from_the_words_to_the_results(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """Down in the search field moves into the grid on the first result (Up recalls the
    history, and Down walks back through it once Up was pressed); Tab reaches the grid in
    one press; with no results Down leaves the field as it is."""
    edit, view = window.search_bar.edit, window.results_view
    window.search_bar.set_history(["lasagne"])
    search_for(qtbot, window, "mountain trail")
    assert not view.currentIndex().isValid()
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert view.hasFocus()
    assert view.currentIndex().row() == 0 and view.selectedIndexes() == [view.currentIndex()]
    assert window.preview.hit() == window.results_model.hit(0)

    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "mountain trail"  # the newest remembered query
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "lasagne"
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert edit.text() == "mountain trail" and edit.hasFocus()

    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    assert view.hasFocus()
    qtbot.keyClick(view, Qt.Key.Key_Backtab)
    assert edit.hasFocus()

    edit.clear()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.results_model.rowCount() == 0
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert edit.hasFocus() and edit.text() == ""


def test_history_walk_starts_again_after_a_search(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """After a query recalled with Up is searched, Up starts again from the newest query
    (the one just searched) rather than from where the walk had got to."""
    edit = window.search_bar.edit
    window.search_bar.set_history(["lasagne", "tax office", "mountain trail"])
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "tax office"
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.search_bar.history() == ["tax office", "lasagne", "mountain trail"]
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "tax office"
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "lasagne"
