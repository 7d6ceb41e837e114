"""The filter bar, driven like a person would: open it, pick filters, see the results narrow."""

import os
from pathlib import Path

import pytest
from gui_support import WAIT_MS, make_notes, make_photos, result_paths, search_for, wait_indexed
from imagegen import save_exif_scene, scene
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from desktop_app.gui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("qt_pools_idle")


@pytest.fixture
def shots(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> Path:
    folder = tmp_path / "shots"
    save_exif_scene(folder / "beach.jpg", 1, (480, 240), "2019:07:14 18:30:05", "Canon EOS 80D")
    save_exif_scene(folder / "tower.jpg", 2, (240, 480), "2019:12:31 23:00:00", "Canon EOS 80D")
    save_exif_scene(folder / "tile.jpg", 3, (300, 300), "2021:03:01 09:00:00", "NIKON D750")
    save_exif_scene(folder / "stamp.jpg", 4, (120, 90), "2021:06:01 09:00:00", "NIKON D750")
    scene(5, (640, 480)).save(folder / "screen.png")
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=5)
    return folder


def _pick(qtbot: QtBot, window: MainWindow, combo: QComboBox, text: str) -> None:
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        combo.setCurrentIndex(combo.findText(text))


def _names(window: MainWindow) -> set[str]:
    return {Path(p).name for p in result_paths(window)}


def test_filter_bar_narrows_and_clears(qtbot: QtBot, window: MainWindow, shots: Path) -> None:
    bar = window.search_bar
    assert not bar.filter_bar.isVisible() and bar.filter_button.text() == "Filters"
    qtbot.mouseClick(bar.filter_button, Qt.MouseButton.LeftButton)
    assert bar.filter_bar.isVisible()
    filters = bar.filter_bar
    cameras = [filters.camera.itemText(i) for i in range(filters.camera.count())]
    assert cameras == ["Any camera", "Canon EOS 80D", "NIKON D750"]
    search_for(qtbot, window, "a photo")
    assert len(_names(window)) == 5

    _pick(qtbot, window, filters.orientation, "Portrait")
    assert _names(window) == {"tower.jpg"}
    assert bar.filter_button.text() == "Filters (1)"
    _pick(qtbot, window, filters.orientation, "Any shape")
    _pick(qtbot, window, filters.camera, "NIKON D750")
    assert _names(window) == {"tile.jpg", "stamp.jpg"}
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        filters.min_side.stepBy(2)  # the arrows: 200 px
    assert _names(window) == {"tile.jpg"}
    assert bar.filter_button.text() == "Filters (2)"
    _pick(qtbot, window, filters.file_type, "PNG")
    assert _names(window) == set()
    assert "No matches" in window.empty_label.text()

    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.mouseClick(filters.clear_button, Qt.MouseButton.LeftButton)
    assert len(_names(window)) == 5 and bar.filter_button.text() == "Filters"

    filters.date_from.setDate(QDate(2019, 1, 1))
    filters.date_to.setDate(QDate(2019, 12, 31))
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.mouseClick(filters.use_from, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.mouseClick(filters.use_to, Qt.MouseButton.LeftButton)
    assert _names(window) == {"beach.jpg", "tower.jpg"}  # the last day counts, to midnight
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        filters.date_to.setDate(QDate(2019, 12, 30))
    assert _names(window) == {"beach.jpg"}


def test_filters_apply_to_picture_queries_too(
    qtbot: QtBot, window: MainWindow, shots: Path
) -> None:
    """Top-k of the filtered set: a picture query under a filter fills the grid with the
    pictures that pass, the query picture's own copy first when it passes."""
    filters = window.search_bar.filter_bar
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        window.search_by_image(str(shots / "tile.jpg"), QImage(str(shots / "tile.jpg")))
    assert result_paths(window)[0] == str(shots / "tile.jpg")
    _pick(qtbot, window, filters.orientation, "Landscape")
    assert _names(window) == {"beach.jpg", "stamp.jpg", "screen.png"}


def test_kind_and_folder_filters_change_the_results(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """The kind filter keeps pictures or documents; the folder filter keeps one folder."""
    home_folder, work_folder = tmp_path / "home-stuff", tmp_path / "work-stuff"
    make_photos(home_folder, 4)
    make_notes(home_folder)
    make_photos(work_folder, 2, seed=30)
    (work_folder / "pasta-shopping.txt").write_text("Buy pasta, tomatoes and parmesan.\n")
    notes_folder = tmp_path / "notes-only"
    notes_folder.mkdir()
    (notes_folder / "reading-list.txt").write_text("Novels to read on the train this winter.\n")
    window.add_folder(str(home_folder))
    window.add_folder(str(work_folder))
    window.add_folder(str(notes_folder))
    wait_indexed(qtbot, window, indexed=11)

    search_for(qtbot, window, "a pasta dish with tomato sauce")
    kinds = lambda: {h.kind for h in window.results_model.hits()}  # noqa: E731
    assert kinds() == {"image", "document"}
    assert window.results_model.rowCount() == 11

    bar = window.search_bar.filter_bar
    assert [bar.kind.itemText(i) for i in range(bar.kind.count())] == [
        "All",
        "Images",
        "Documents",
        "RAW photos",
        "Videos",
        "Recordings",
    ]
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        bar.kind.setCurrentIndex(2)
    assert kinds() == {"document"}
    assert Path(result_paths(window)[0]).name == "lasagne-recipe.md"
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        bar.kind.setCurrentIndex(1)
    assert kinds() == {"image"}
    assert window.results_model.rowCount() == 6

    assert bar.folder.count() == 4
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        bar.folder.setCurrentIndex(bar.folder.findData(str(work_folder)))
    assert bar.folder.currentText() == "work-stuff"
    assert window.results_model.rowCount() == 2
    assert all(p.startswith(str(work_folder) + os.sep) for p in result_paths(window))

    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        bar.kind.setCurrentIndex(2)
    assert [Path(p).name for p in result_paths(window)] == ["pasta-shopping.txt"]

    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        bar.folder.setCurrentIndex(0)
    assert window.results_model.rowCount() == 5  # every note

    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        bar.folder.setCurrentIndex(bar.folder.findData(str(notes_folder)))
    assert [Path(p).name for p in result_paths(window)] == ["reading-list.txt"]
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        bar.kind.setCurrentIndex(1)
    assert window.results_model.rowCount() == 0
    assert "No matches" in window.empty_label.text()
    assert window.results_stack.currentIndex() == 0
