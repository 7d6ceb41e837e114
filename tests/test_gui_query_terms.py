"""Query terms as chips (sign, weight, words kept as a term) and the relevance cut-off."""

from pathlib import Path

import pytest
from gui_support import WAIT_MS, chip_names, drop, result_paths, search_for
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.gui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("qt_pools_idle")


def test_chip_sign_and_weight_steer_the_query(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """+ keeps the typed words as a chip; a chip's +/− toggle and weight slider change the
    query's terms, and each change searches again."""
    bar = window.search_bar
    qtbot.keyClicks(bar.edit, "lasagne")
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.mouseClick(bar.add_button, Qt.MouseButton.LeftButton)
    assert chip_names(window) == ["lasagne"] and bar.edit.text() == ""
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        assert drop(window, library / "photos" / "photo002.jpg")
    words, picture = bar.chips.chips()
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.mouseClick(picture.sign, Qt.MouseButton.LeftButton)
    assert picture.sign.text() == "−"
    assert [t.weight for t in bar.query().terms] == [1.0, -1.0]
    assert Path(result_paths(window)[-1]).name == "photo002.jpg"  # pushed to the end
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        words.weight.setValue(25)
    assert [t.weight for t in bar.query().terms] == [2.5, -1.0]
    assert "2.5×" in words.toolTip()
    qtbot.mouseClick(words.close_button, Qt.MouseButton.LeftButton)
    assert bar.query().is_empty  # only a term to avoid is left: nothing to look for
    assert window.results_stack.currentWidget() is window.browse_page  # the library


def test_weak_matches_hide_behind_the_cut_off(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """A good match shows alone; a query nothing fits says "No good matches" with the closest
    few below a divider; Show weaker matches brings the rest back."""
    page = window.results_stack
    page.show_weaker.setChecked(False)
    search_for(qtbot, window, "how to make lasagne")
    assert result_paths(window) == [str(library / "notes" / "lasagne-recipe.md")]
    assert "1 good match" in page.summary.text() and "weaker hidden" in page.summary.text()
    assert page.divider.isHidden()

    search_for(qtbot, window, "zqxv blorft wmpk")
    assert "No good matches" in page.summary.text()
    assert 0 < window.results_model.rowCount() <= 6 and not page.divider.isHidden()
    qtbot.mouseClick(page.show_weaker, Qt.MouseButton.LeftButton)
    assert window.results_model.rowCount() == 11 and page.divider.isHidden()
    assert "0 good matches, 11 weaker" in page.summary.text()
