"""The filter bar, driven like a person would: open it, pick filters, see the results narrow."""

from pathlib import Path

import pytest
from gui_support import WAIT_MS, result_paths, search_for, wait_indexed
from imagegen import scene
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from desktop_app.gui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("qt_pools_idle")


def _photo(path: Path, seed: int, size: tuple[int, int], taken: str, camera: str) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[271], exif[272] = camera.split()[0], camera
    exif.get_ifd(0x8769)[36867] = taken
    path.parent.mkdir(parents=True, exist_ok=True)
    scene(seed, size).save(path, exif=exif)


@pytest.fixture
def shots(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> Path:
    folder = tmp_path / "shots"
    _photo(folder / "beach.jpg", 1, (480, 240), "2019:07:14 18:30:05", "Canon EOS 80D")
    _photo(folder / "tower.jpg", 2, (240, 480), "2019:12:31 23:00:00", "Canon EOS 80D")
    _photo(folder / "tile.jpg", 3, (300, 300), "2021:03:01 09:00:00", "NIKON D750")
    _photo(folder / "stamp.jpg", 4, (120, 90), "2021:06:01 09:00:00", "NIKON D750")
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
