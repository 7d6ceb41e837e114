"""The library without a query: every picture newest first, in month groups under pinned
headers, filters applied, a query replacing it and Escape coming back to the same place."""

import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from gui_support import WAIT_MS, make_photos, offscreen_popups, search_for, wait_indexed
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.core.searching.browse import Month
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.results import HitRole

pytestmark = pytest.mark.usefixtures("qt_pools_idle")

# Photos per month, newest month first: June has a full screen and more, so the view scrolls.
MONTHS = ((2024, 6, 14), (2024, 3, 5), (2023, 12, 3))


def _dated_library(folder: Path) -> list[Path]:
    """Photos whose only date is their modification time, spread over three months; within a
    month photoNNN with a higher number is newer."""
    made: list[Path] = []
    seed = 0
    for year, month, count in MONTHS:
        for day in range(count):
            path = make_photos(folder / f"{year}-{month:02d}", 1, seed=seed)[0]
            renamed = path.with_name(f"p{year}{month:02d}{day + 1:02d}.jpg")
            path.rename(renamed)
            stamp = datetime(year, month, day + 1, 12).timestamp()
            os.utime(renamed, (stamp, stamp))
            made.append(renamed)
            seed += 1
    return made


@pytest.fixture
def dated(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> list[Path]:
    photos = _dated_library(tmp_path / "dated")
    (tmp_path / "dated" / "note.md").write_text("# A note\nNotes are found by a query.\n")
    window.resize(640, 520)
    window.browse_view.set_tile_size(96)
    window.add_folder(str(tmp_path / "dated"))
    wait_indexed(qtbot, window, indexed=len(photos) + 1)
    qtbot.waitUntil(lambda: window.browse_page.model.rowCount() == len(photos), timeout=WAIT_MS)
    return photos


def _names(window: MainWindow) -> list[str]:
    model = window.browse_page.model
    return [Path(model.index(r).data(HitRole).path).name for r in range(model.rowCount())]


def test_no_query_shows_the_library_newest_first_by_month(
    qtmodeltester: Any, qtbot: QtBot, window: MainWindow, dated: list[Path]
) -> None:
    assert window.results_stack.currentWidget() is window.browse_page
    model = window.browse_page.model
    qtmodeltester.check(model)
    names = _names(window)
    assert names == sorted(names, reverse=True)  # newest first; the note is not a picture
    assert [(m.year, m.month, m.count) for m in model.months()] == list(MONTHS)
    assert model.months()[0].title == "June 2024"
    assert "22 items" in window.browse_page.summary.text()
    first = model.index(0)
    assert "p20240614.jpg" in first.data(Qt.ItemDataRole.AccessibleTextRole)
    assert "14 June 2024" in first.data(Qt.ItemDataRole.AccessibleTextRole)


def test_month_header_stays_pinned_while_its_month_scrolls(
    qtbot: QtBot, window: MainWindow, dated: list[Path]
) -> None:
    view = window.browse_view
    window.resize(640, 380)
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0, "the view must scroll for this test"
    assert view.pinned_month() is None  # at the top every header is in its own place
    bar.setValue(view.header_height() + 40)  # inside June's tiles
    assert view.pinned_month() == "June 2024"
    march = view.visualRect(window.browse_page.model.index(14))
    target = bar.value() + march.top() + 10  # past March's header
    assert target <= bar.maximum(), (target, bar.maximum(), view.columns(), view.height())
    bar.setValue(target)
    assert view.pinned_month() == "March 2024"
    image = view.viewport().grab().toImage()
    assert not image.isNull()


def test_keyboard_and_selection_in_the_library(
    qtbot: QtBot, window: MainWindow, dated: list[Path]
) -> None:
    view, model = window.browse_view, window.browse_page.model
    window.search_bar.edit.setFocus()
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Down)  # into the library's grid
    assert view.hasFocus() and view.currentIndex().row() == 0
    assert window.preview.hit() == model.index(0).data(HitRole)
    assert window.preview.fields["Match"].text() == ""  # no query, no match to tell
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.currentIndex().row() == 1
    columns = view.columns()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == 1 + columns
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.currentIndex().row() == model.rowCount() - 1
    qtbot.keyClick(view, Qt.Key.Key_Up)  # December's 3 photos sit on one row: up to March
    assert view.currentIndex().data(HitRole).path.endswith(".jpg")
    assert Path(view.currentIndex().data(HitRole).path).name.startswith("p202403")
    rect = view.visualRect(model.index(2))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.currentIndex().row() == 2
    assert window.preview.hit() == model.index(2).data(HitRole)
    view.activated_hit.disconnect()  # the window would start the system viewer
    with qtbot.waitSignal(view.activated_hit) as opened:  # Enter opens, as a double click
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert opened.args == [model.index(2).data(HitRole)]


def test_filters_apply_to_the_library(qtbot: QtBot, window: MainWindow, dated: list[Path]) -> None:
    bar = window.search_bar.filter_bar
    bar.use_to.setChecked(False)
    model = window.browse_page.model
    with qtbot.waitSignal(model.modelReset, timeout=WAIT_MS):
        bar.date_to.setDate(datetime(2024, 3, 31).date())
        bar.use_to.setChecked(True)
    assert [(m.year, m.month) for m in model.months()] == [(2024, 3), (2023, 12)]
    assert "filtered" in window.browse_page.summary.text()
    with qtbot.waitSignal(model.modelReset, timeout=WAIT_MS):
        bar.kind.setCurrentIndex(2)  # Notes: the library lists them instead
    assert _names(window) == []  # the note is dated now, after the end of the range
    with qtbot.waitSignal(model.modelReset, timeout=WAIT_MS):
        bar.clear()
    assert model.rowCount() == 22


@offscreen_popups
def test_a_query_replaces_the_library_and_escape_comes_back_to_the_same_place(
    qtbot: QtBot, window: MainWindow, dated: list[Path]
) -> None:
    view, model = window.browse_view, window.browse_page.model
    view.setCurrentIndex(model.index(15))
    qtbot.wait(50)  # the preview unfolds beside the library, which lays out again
    view.scroll_to_row(15)
    place = view.verticalScrollBar().value()
    assert place > 0
    search_for(qtbot, window, "a photo")
    assert window.results_stack.currentWidget() is not window.browse_page
    assert window.preview.hit() is None
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Escape)
    qtbot.wait(50)  # the layout settles (the preview unfolds again) before the next paint
    assert window.search_bar.text() == "" and window.search_bar.history()[0] == "a photo"
    assert window.results_stack.currentWidget() is window.browse_page
    assert view.verticalScrollBar().value() == place
    assert window.preview.hit() == model.index(15).data(HitRole)

    # From the results grid too.
    search_for(qtbot, window, "another photo")
    window.results_view.setFocus()
    qtbot.keyClick(window.results_view, Qt.Key.Key_Escape)
    qtbot.wait(50)
    assert window.results_stack.currentWidget() is window.browse_page
    assert view.verticalScrollBar().value() == place


def test_indexing_more_keeps_the_place(
    qtbot: QtBot, window: MainWindow, dated: list[Path], tmp_path: Path
) -> None:
    view, model = window.browse_view, window.browse_page.model
    view.scroll_to_row(16)
    anchor = view.top_row()
    assert anchor is not None
    top_name = Path(model.index(anchor).data(HitRole).path).name
    newer = make_photos(tmp_path / "dated" / "new", 3, seed=90)
    now = time.time()
    for path in newer:
        os.utime(path, (now, now))
    window.indexing.start()
    qtbot.waitUntil(lambda: model.rowCount() == 25, timeout=WAIT_MS)
    row = view.top_row()
    assert row is not None and Path(model.index(row).data(HitRole).path).name == top_name
    assert isinstance(model.months()[0], Month) and model.months()[0].count == 3  # this month


def test_model_is_lazy(
    qtmodeltester: Any, qtbot: QtBot, window: MainWindow, dated: list[Path]
) -> None:
    """Only the rows drawn are turned into hits, a page at a time."""
    model = window.browse_page.model
    loaded: list[int] = []
    original = model._load_page
    model._load_page = lambda ids: loaded.append(len(ids)) or original(ids)  # type: ignore[method-assign]
    model.set_timeline(window.engine.browse(("image",)))
    qtmodeltester.check(model)  # a new timeline, and every row read
    loaded.clear()
    model.set_timeline(window.engine.browse(("image",)))
    model.index(0).data(HitRole)
    model.index(5).data(HitRole)
    assert loaded == [22]  # one page (of up to 256) for both rows
