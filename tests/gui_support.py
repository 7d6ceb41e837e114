"""Helpers shared by the GUI tests: generated folders, drops, waits, reading the window."""

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from imagegen import save_scene
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QThreadPool, QUrl
from PySide6.QtGui import (
    QAction,
    QDragEnterEvent,
    QDropEvent,
)
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.settings_dialog import SettingsDialog

WAIT_MS = 30_000  # the machines that run this are slow and shared

NOTES = {
    "lasagne-recipe.md": "# Lasagne\nLayer pasta sheets with tomato sauce, minced beef and "
    "cheese.\nBake in the oven for forty minutes.\n",
    "tax-return.txt": "Quarterly tax return: invoices, VAT receipts and the accountant's fees.\n",
    "mountain-hike.md": "We climbed the mountain trail at dawn and camped by an alpine lake.\n",
}


# The offscreen platform cannot grab the keyboard for a popup, nor raise it; it says so.
offscreen_popups = pytest.mark.qt_log_ignore(
    "This plugin does not support grabbing the keyboard", "This plugin does not support raise"
)


# -- building folders ------------------------------------------------------------------------


def make_photos(
    folder: Path, count: int, *, seed: int = 0, size: tuple[int, int] = (96, 72)
) -> list[Path]:
    """``count`` small, distinct JPEG scenes in ``folder``."""
    return [
        save_scene(folder / f"photo{i:03d}.jpg", seed=seed + i, size=size) for i in range(count)
    ]


def make_notes(folder: Path) -> list[Path]:
    """The three notes of ``NOTES`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in NOTES.items():
        (folder / name).write_text(text, "utf-8")
        written.append(folder / name)
    return written


# -- the window ------------------------------------------------------------------------------


class SlowClip:
    """The tiny CLIP, but every batch of pictures takes at least ``delay`` seconds, so that an
    index run lasts long enough to pause, cancel or close the window in the middle of it."""

    def __init__(self, clip: Any, delay: float) -> None:
        self._clip = clip
        self.delay = delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self._clip, name)

    def embed_prepared(self, prepared: Sequence[Any]) -> np.ndarray:
        threading.Event().wait(self.delay)  # in the indexing thread, never in the test
        return self._clip.embed_prepared(prepared)


def settle_pools(window: MainWindow | None = None) -> None:
    """Let queued background calls finish and deliver their answers."""
    for _ in range(3):
        QThreadPool.globalInstance().waitForDone(WAIT_MS)
        if window is not None:
            window.thumbnails.pool.waitForDone(WAIT_MS)
        QApplication.processEvents()
    deadline = time.monotonic() + WAIT_MS / 1000
    while window is not None and window.thumbnails.busy() and time.monotonic() < deadline:
        window.thumbnails.pool.waitForDone(WAIT_MS)  # the cache starts the next ones on arrival
        QApplication.processEvents()


WindowFactory = Callable[..., MainWindow]


def root_rows(window: MainWindow) -> list[str]:
    """The library panel's folder rows, as shown."""
    roots = window.library_panel.roots
    return [roots.index(row).data() for row in range(roots.rowCount())]


def wait_indexed(qtbot: QtBot, window: MainWindow, indexed: int, pending: int = 0) -> None:
    """Until the index run is over and the library panel shows these counts in all."""

    def done() -> bool:
        task = window.indexing._task
        if task is None or not task.isFinished() or window.indexing_status.isVisible():
            return False
        status = window.engine.status()
        shown = "\n".join(root_rows(window))
        return (
            sum(r.indexed for r in status.roots) == indexed
            and sum(r.pending for r in status.roots) == pending
            and all(f"{r.indexed} indexed · {r.pending} pending" in shown for r in status.roots)
        )

    qtbot.waitUntil(done, timeout=WAIT_MS)


def result_paths(window: MainWindow) -> list[str]:
    """The paths in the results grid, in order."""
    return [hit.path for hit in window.results_model.hits()]


def chip_names(window: MainWindow) -> list[str]:
    """The terms shown as chips in the search bar, in order."""
    return [chip.name.text() for chip in window.search_bar.chips.chips()]


def drop_event(window: MainWindow, mime: QMimeData) -> QDropEvent:
    """The drop of ``mime`` in the middle of the window, after its drag was accepted."""
    centre = QPointF(window.rect().center())
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton)
    enter = QDragEnterEvent(centre, *args, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted(), "the window refused the drag"
    return QDropEvent(centre, *args, Qt.KeyboardModifier.NoModifier)


def drop(window: MainWindow, *paths: Path) -> bool:
    """Drag local files or folders over the window and drop them; True if the drop was taken."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = drop_event(window, mime)
    QApplication.sendEvent(window, event)
    return event.isAccepted()


def search_for(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Type a query and press Enter; wait for its results."""
    edit = window.search_bar.edit
    edit.clear()
    qtbot.keyClicks(edit, text)
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.results_model.rowCount() > 0, timeout=WAIT_MS)


def menu_action(window: MainWindow, text: str) -> QAction:
    """The menu bar's item with this text."""
    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():
            if action.text() == text:
                return action
    raise AssertionError(f"no menu item {text!r}")


def open_settings(
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    answer: Callable[[SettingsDialog], QDialog.DialogCode],
) -> None:
    """Settings… from the menu, with ``answer`` doing what a person does in the dialog (it
    runs in place of the modal loop) and returning the button pressed."""
    monkeypatch.setattr(SettingsDialog, "exec", answer)
    menu_action(window, "&Settings…").trigger()


def restart(open_window: WindowFactory, window: MainWindow, tmp_path: Path) -> MainWindow:
    """Close the window and open a new one on the same library, reading its saved settings
    from disk as a new process would (QSettings caches a file it has read in-process)."""
    window.close()
    saved = tmp_path / f"restart-{time.monotonic_ns()}.ini"
    shutil.copy(tmp_path / "gui.ini", saved)
    return open_window(window.engine, QSettings(str(saved), QSettings.Format.IniFormat))


# -- tests -----------------------------------------------------------------------------------
