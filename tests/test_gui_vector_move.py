"""Moving the library between vector stores from the Settings dialog, as a person would:
hnswlib -> Milvus Lite with the same answers after, a move stopped halfway (the library stays
searchable on the old store, and applying the choice again resumes), and a server that cannot
be reached (a message, nothing lost)."""

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from gui_support import WAIT_MS, offscreen_popups, open_settings, search_for, wait_indexed
from milvus_support import lite_file, no_leftover_threads
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from desktop_app.core.vectors.choice import BackendChoice, load_choice
from desktop_app.core.vectors.milvus import MilvusBackend
from desktop_app.gui.backend_section import BackendFields
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.settings_dialog import SettingsDialog
from desktop_app.gui.vector_move import FAILED, MOVED, STOPPED

__all__ = ["lite_file", "no_leftover_threads"]  # fixtures, used by name
# The progress dialog is window-modal: the offscreen platform says it cannot raise it.
pytestmark = [pytest.mark.usefixtures("qt_pools_idle"), offscreen_popups]

Answer = list[tuple[str, float]]


@pytest.fixture(autouse=True)
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The message boxes the window shows (a real one would wait for a click forever)."""
    shown: list[str] = []

    def warn(_parent: object, _title: str, text: str) -> QMessageBox.StandardButton:
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warn)
    return shown


def answer(qtbot: QtBot, window: MainWindow, text: str = "a photo") -> Answer:
    search_for(qtbot, window, text)
    return [(hit.path, round(hit.score, 5)) for hit in window.results_model.hits()]


def choose_in_settings(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, kind: str, uri: str = ""
) -> None:
    """File ▸ Settings…: pick the vector store, type its address, press OK."""

    def fill_in(dialog: SettingsDialog) -> QDialog.DialogCode:
        rows = dialog.backend
        assert rows is not None, "the dialog has no vector store rows"
        rows.kind.setCurrentIndex(rows.kind.findData(kind))
        rows.uri.clear()
        qtbot.keyClicks(rows.uri, uri)
        return QDialog.DialogCode.Accepted

    open_settings(window, monkeypatch, fill_in)


def move(
    qtbot: QtBot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    uri: str = "",
    during: Callable[[], None] | None = None,
) -> tuple[str, str]:
    """Apply a vector store in Settings and wait for the move to end: (outcome, message)."""
    with qtbot.waitSignal(window.vector_move.ended, timeout=WAIT_MS) as ended:
        choose_in_settings(qtbot, window, monkeypatch, kind, uri)
        if during is not None:
            during()
    outcome, message = ended.args
    assert window.vector_move.dialog is None  # the progress dialog went away
    return str(outcome), str(message)


def test_moving_to_milvus_lite_from_settings_keeps_every_answer(
    qtbot: QtBot,
    window: MainWindow,
    library: Path,
    lite_file: Path,
    warnings: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = answer(qtbot, window)
    assert len(before) >= 8
    seen: list[int] = []

    def watch_the_dialog() -> None:
        dialog = window.vector_move.dialog
        assert dialog is not None and dialog.isVisible() and dialog.isModal()
        dialog.bar.valueChanged.connect(seen.append)

    outcome, message = move(qtbot, window, monkeypatch, "milvus", str(lite_file), watch_the_dialog)
    assert outcome == MOVED, message
    assert not warnings
    assert "now uses Milvus" in message and "Nothing was embedded again" in message
    assert message in window.banner.text()
    total = seen[-1]
    assert total >= 11 and seen == sorted(seen)  # pictures and notes, counted up
    engine = window.engine
    assert load_choice(engine.home).kind == "milvus" and engine.library.backend.kind == "milvus"
    assert engine.library.writer  # the writer again, on the new store
    for vset in engine.library.reader().vector_sets():
        assert isinstance(engine.library.index_for(vset), MilvusBackend)
    wait_indexed(qtbot, window, indexed=11)  # indexing and watching are back
    assert answer(qtbot, window) == before

    outcome, message = move(qtbot, window, monkeypatch, "hnswlib")  # and back again
    assert outcome == MOVED and "hnswlib" in message
    assert load_choice(engine.home).kind == "hnswlib"
    wait_indexed(qtbot, window, indexed=11)
    assert answer(qtbot, window) == before


def test_a_stopped_move_leaves_the_old_store_searchable_and_resumes_when_applied_again(
    qtbot: QtBot,
    window: MainWindow,
    library: Path,
    lite_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = answer(qtbot, window)
    monkeypatch.setattr("desktop_app.core.db.moving._BATCH", 2)
    uploaded: list[int] = []
    add = MilvusBackend.add

    def slow_add(self: MilvusBackend, labels: list[int], vectors: np.ndarray) -> None:
        threading.Event().wait(0.3)  # in the worker: time for a person to press Stop
        add(self, labels, vectors)
        uploaded.extend(labels)

    monkeypatch.setattr(MilvusBackend, "add", slow_add)

    def press_stop() -> None:
        qtbot.waitUntil(lambda: len(uploaded) >= 2, timeout=WAIT_MS)
        dialog = window.vector_move.dialog
        assert dialog is not None
        assert not window.engine.library.writer  # the move holds the lock; search goes on:
        assert len(window.engine.search("a photo", k=20)) == len(before)
        qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
        assert not dialog.stop_button.isEnabled() and "Stopping" in dialog.detail.text()

    outcome, message = move(qtbot, window, monkeypatch, "milvus", str(lite_file), press_stop)
    assert outcome == STOPPED, message
    assert "stopped" in message and "resume" in message and "hnswlib" in message
    assert message in window.banner.text()
    first = len(uploaded)
    engine = window.engine
    assert load_choice(engine.home).kind == "hnswlib"  # not switched: the move is incomplete
    assert engine.library.writer and engine.library.backend.kind == "hnswlib"
    wait_indexed(qtbot, window, indexed=11)
    assert answer(qtbot, window) == before

    outcome, message = move(qtbot, window, monkeypatch, "milvus", str(lite_file))
    assert outcome == MOVED, message
    reader = engine.library.reader()
    total = sum(len(reader.labels(s.id)) for s in reader.vector_sets())
    assert len(uploaded) == total  # what the first try sent was not sent again
    assert first < total
    wait_indexed(qtbot, window, indexed=11)
    assert answer(qtbot, window) == before


def test_an_unreachable_server_says_so_and_nothing_is_lost(
    qtbot: QtBot,
    window: MainWindow,
    library: Path,
    warnings: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = answer(qtbot, window)
    monkeypatch.setattr("desktop_app.core.vectors.milvus_target.DEFAULT_TIMEOUT_S", 3.0)
    outcome, message = move(qtbot, window, monkeypatch, "milvus", "http://127.0.0.1:9")
    assert outcome == FAILED
    assert warnings == [message]
    assert "127.0.0.1:9" in message and "nothing was lost" in message
    engine = window.engine
    assert load_choice(engine.home).kind == "hnswlib"
    assert engine.library.writer and engine.library.backend.kind == "hnswlib"
    wait_indexed(qtbot, window, indexed=11)
    assert answer(qtbot, window) == before

    warnings.clear()
    outcome, message = move(qtbot, window, monkeypatch, "milvus", "")
    assert outcome == FAILED and "address" in warnings[0]


def test_another_database_on_the_same_server_is_a_change(qtbot: QtBot) -> None:
    models: list[dict[str, object]] = [{"name": "ViT-B-32", "available": True}]
    current = BackendChoice.milvus("http://milvus:19530", prefix="p").describe()
    dialog = SettingsDialog(models, "ViT-B-32", "/data", [], False, 0, backend=current)
    qtbot.addWidget(dialog)
    rows = dialog.backend
    assert rows is not None and dialog.choice().backend is None
    qtbot.keyClicks(rows.database, "photos")
    assert dialog.choice().backend == BackendFields("milvus", "http://milvus:19530", "", "photos")
    assert "re-embedded" in rows.note.text()
