"""The window on a laptop: 1024 px wide with the filters open, the preview folded away while
nothing is selected, the preview following the hits shown, and text at 1.5× still fitting."""

from pathlib import Path

import pytest
from gui_support import search_for
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.results import HitRole

pytestmark = pytest.mark.usefixtures("qt_pools_idle")


def test_window_fits_1024_px_with_the_filters_open(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    window.resize(1024, 700)
    qtbot.mouseClick(window.search_bar.filter_button, Qt.MouseButton.LeftButton)
    assert window.search_bar.filter_bar.isVisible()
    qtbot.wait(50)
    assert window.width() <= 1024 and window.minimumSizeHint().width() <= 1024
    # Nothing selected: no empty preview pane; the grid has the width.
    assert not window.preview.isVisible()
    assert window.results_stack.width() > 650
    search_for(qtbot, window, "lasagne")
    view = window.results_view
    index = window.results_model.index(0)
    centre = view.visualRect(index).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert window.preview.isVisible() and window.preview.hit() == index.data(HitRole)
    assert window.width() <= 1024 and window.minimumSizeHint().width() <= 1024


def test_preview_follows_the_hits_shown(qtbot: QtBot, window: MainWindow, library: Path) -> None:
    """Toggling Show weaker matches replaces the hits: the old selection's preview goes."""
    search_for(qtbot, window, "lasagne")
    view = window.results_view
    index = window.results_model.index(0)
    centre = view.visualRect(index).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert window.preview.hit() is not None
    window.results_stack.show_weaker.toggle()
    assert not view.currentIndex().isValid()
    assert window.preview.hit() is None and not window.preview.isVisible()


def test_text_at_one_and_a_half_times_still_fits_a_laptop(
    qtbot: QtBot, qapp: QApplication, window: MainWindow, library: Path
) -> None:
    window.resize(1366, 768)
    window.search_bar.filter_button.setChecked(True)
    header = window.browse_view.header_height()
    font = qapp.font()
    bigger = QFont(font)
    bigger.setPointSizeF(font.pointSizeF() * 1.5)
    qapp.setFont(bigger)
    try:
        qtbot.wait(50)
        assert window.minimumSizeHint().width() <= 1366
        assert window.browse_view.header_height() >= 1.3 * header  # headers grow with text
        assert window.search_bar.edit.fontMetrics().height() > font.pointSizeF() * 1.5
    finally:
        qapp.setFont(font)
