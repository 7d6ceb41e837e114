"""File ▸ Find duplicates…: a real library with planted copies, driven like a person would."""

import threading
from pathlib import Path
from typing import Any

import pytest
from gui_support import WAIT_MS, menu_action, offscreen_popups, settle_pools, wait_indexed
from PySide6.QtCore import QRect, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QListView, QPushButton
from pytestqt.qtbot import QtBot
from test_duplicates import TINY_NEAR, digests, plant

from desktop_app.gui.duplicates import DuplicatesDialog, ItemRole, alike
from desktop_app.gui.main_window import MainWindow


def shown_groups(dialog: DuplicatesDialog) -> list[set[str]]:
    return [{Path(m.path).name for m in g.members} for g in dialog.groups_model.items()]


def wait_scanned(qtbot: QtBot, dialog: DuplicatesDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.running(), timeout=WAIT_MS)
    settle_pools()


@offscreen_popups
def test_find_duplicates_window(
    qtbot: QtBot,
    qtmodeltester: Any,
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "photos"
    expected = plant(folder, originals=6, planted=2)
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=13)
    before = digests(folder)

    menu_action(window, "Find &duplicates…").trigger()
    dialog = window.findChild(DuplicatesDialog)
    assert dialog is not None and dialog.isVisible()
    wait_scanned(qtbot, dialog)
    # The tiny random model puts every picture far above real CLIP's thresholds; the stops are
    # set to where its planted copies sit (the named levels are for real weights).
    dialog.levels = (1.0, TINY_NEAR, 0.9)

    dialog.slider.setFocus()
    qtbot.keyClick(dialog.slider, Qt.Key.Key_Home)  # exact copies
    wait_scanned(qtbot, dialog)
    assert shown_groups(dialog) == [{"s00.jpg", "copy of s00.jpg"}]
    assert "1 groups, 2 pictures (exact copies)" in dialog.summary.text()

    qtbot.keyClick(dialog.slider, Qt.Key.Key_Right)  # near-identical
    wait_scanned(qtbot, dialog)
    assert shown_groups(dialog) == list(expected.values())
    members = dialog.members_model.items()  # the first group is chosen
    assert Path(members[0].path).name == "s00.jpg" and members[0].keep
    tile = dialog.members_model.index(0).data(Qt.ItemDataRole.DisplayRole)
    assert tile.startswith("★ Suggested to keep\ns00.jpg\n400 × 300 · ")
    assert tile.endswith(str(folder))
    heading = dialog.groups_model.index(0).data(Qt.ItemDataRole.DisplayRole)
    assert heading.startswith("5 pictures · ≥ 99.") and heading.endswith("\ns00.jpg")
    assert (alike(0.99996), alike(1.0)) == ("99.9%", "100.0%")  # never "100%" for a near copy
    qtbot.waitUntil(
        lambda: (
            dialog.members_model.index(0).data(Qt.ItemDataRole.DecorationRole) is not None
            and window.thumbnails.picture(members[0].file_id) is not None
        ),
        timeout=WAIT_MS,
    )

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text().split("\n") == [m.path for m in members]
    assert dialog.notice.isVisible() and dialog.notice.text() == "Paths copied"
    qtbot.mouseClick(dialog.copy_all_button, Qt.MouseButton.LeftButton)
    everything = QGuiApplication.clipboard().text()
    assert everything.count("\n\n") == 1 and everything.count(str(folder)) == 9

    revealed: list[str] = []

    def open_url(url: QUrl) -> bool:  # the file manager is not ours to start in a test
        revealed.append(url.toLocalFile())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    second = dialog.groups_model.index(1)
    dialog.groups_view.setCurrentIndex(second)
    dialog.members_view.setCurrentIndex(dialog.members_model.index(2))
    qtbot.mouseClick(dialog.reveal_button, Qt.MouseButton.LeftButton)
    assert revealed == [str(folder)]
    assert dialog.members_model.index(2).data(ItemRole) in second.data(ItemRole).members

    # No file manager to answer: the window says so and offers the path.
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda _url: False)
    qtbot.mouseClick(dialog.reveal_button, Qt.MouseButton.LeftButton)
    chosen = dialog.members_model.index(2).data(ItemRole)
    assert dialog.notice.isVisible()
    assert dialog.notice.text().startswith(f"Could not show the folder of {Path(chosen.path).name}")
    (copy,) = [b for b in dialog.notice.findChildren(QPushButton) if b.text() == "Copy path"]
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == chosen.path
    assert dialog.notice.text() == "Path copied"

    qtmodeltester.check(dialog.groups_model)
    qtmodeltester.check(dialog.members_model)
    dialog.close()
    menu_action(window, "Find &duplicates…").trigger()  # reopens the same window, re-scanned
    assert window.findChildren(DuplicatesDialog) == [dialog] and dialog.isVisible()
    wait_scanned(qtbot, dialog)
    assert len(shown_groups(dialog)) == 2
    dialog.close()
    assert digests(folder) == before  # never deleted, moved or changed anything


@offscreen_popups
def test_moving_the_slider_mid_scan_and_closing_the_window(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """A newer level cancels the running scan (only its answer is shown); closing the main
    window stops a scan still running."""
    folder = tmp_path / "photos"
    plant(folder, originals=4, planted=1)
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=8)
    dialog = window.find_duplicates()
    dialog.levels = (1.0, TINY_NEAR, 0.9)
    for value in (0, 2, 1, 0):
        dialog.slider.setValue(value)
    wait_scanned(qtbot, dialog)
    assert shown_groups(dialog) == [{"s00.jpg", "copy of s00.jpg"}]
    dialog.slider.setValue(2)
    window.close()
    assert not dialog.running()


def tile_rects(view: QListView) -> list[QRect]:
    """Where the view lays out each row (its picture and its caption)."""
    QApplication.processEvents()
    model = view.model()
    return [view.visualRect(model.index(row)) for row in range(model.rowCount())]


@offscreen_popups
def test_tiles_keep_their_size_when_thumbnails_arrive(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a first open nothing is in the thumbnail cache: the placeholders take the room the
    pictures will, so no caption overlaps another row before or after the pictures arrive."""
    folder = tmp_path / "photos"
    plant(folder, originals=6, planted=2)
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=13)
    gate = threading.Event()
    load = window.thumbnails._load

    def held(file_id: int, size: int) -> Path | None:  # in the pool's thread, never the test's
        gate.wait(WAIT_MS)
        return load(file_id, size)

    monkeypatch.setattr(window.thumbnails, "_load", held)
    dialog = window.find_duplicates()
    dialog.levels = (1.0, TINY_NEAR, 0.9)
    dialog.slider.setValue(1)
    qtbot.waitUntil(lambda: not dialog.running(), timeout=WAIT_MS)  # thumbnails still held
    assert len(dialog.groups_model.items()) == 2 and dialog.members_model.rowCount() > 3
    views = (dialog.groups_view, dialog.members_view)
    first = [tile_rects(view) for view in views]
    gate.set()
    settle_pools(window)
    members = dialog.members_model.items()
    assert all(window.thumbnails.picture(m.file_id) is not None for m in members)
    assert [tile_rects(view) for view in views] == first
    grid = dialog.members_view.gridSize()
    for rects in first:
        for i, rect in enumerate(rects):
            assert not any(rect.intersects(other) for other in rects[i + 1 :])
    assert all(r.height() <= grid.height() for r in first[1])
    dialog.close()
