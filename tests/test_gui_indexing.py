"""Background indexing in the window: pause, resume and cancel, then finishing the rest; one
pass at a time, however many changes arrive; stopping it all at the end."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gui_support import (
    WAIT_MS,
    SlowClip,
    WindowFactory,
    drop,
    make_photos,
    result_paths,
    search_for,
    settle_pools,
    wait_indexed,
)
from imagegen import save_scene
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop_app.core.engine import Engine
from desktop_app.core.indexing import indexer
from desktop_app.core.progress import Control, Progress
from desktop_app.gui.indexing import IndexingController
from desktop_app.gui.main_window import MainWindow

# Every test here must end with no Qt pool job still running.
pytestmark = pytest.mark.usefixtures("qt_pools_idle")


@pytest.fixture
def slow_engine(
    make_engine: Callable[..., Engine], tiny_clip: Any, monkeypatch: pytest.MonkeyPatch
) -> Engine:
    """An engine whose picture batches are small (4) and take at least 0.15 s each."""
    monkeypatch.setattr(indexer, "FILE_BATCH", 4)
    return make_engine(clip=SlowClip(tiny_clip, 0.15))


def indexed_so_far(window: MainWindow) -> int:
    """The count in the status bar's progress bar (pictures done in this run)."""
    return window.indexing_status.bar.value()


def test_pause_resume_cancel_then_index_the_rest(
    qtbot: QtBot, open_window: WindowFactory, slow_engine: Engine, tmp_path: Path
) -> None:
    """Pause stops the progress, Resume continues it, Cancel stops the run and keeps what was
    committed (searchable), and Re-scan indexes the rest."""
    window = open_window(slow_engine)
    folder = tmp_path / "photos"
    make_photos(folder, 80, size=(48, 36))
    window.add_folder(str(folder))
    status = window.indexing_status
    qtbot.waitUntil(
        lambda: status.isVisible() and status.bar.maximum() == 80 and indexed_so_far(window) >= 4,
        timeout=WAIT_MS,
    )

    qtbot.mouseClick(status.pause_button, Qt.MouseButton.LeftButton)
    assert status.pause_button.text() == "Resume"
    qtbot.wait(1000)  # the batch in flight, if any, is committed
    paused_at = indexed_so_far(window)
    qtbot.wait(1000)  # six batches' time, were it running
    assert indexed_so_far(window) == paused_at < 80
    assert "paused" in status.label.text()

    qtbot.mouseClick(status.pause_button, Qt.MouseButton.LeftButton)
    assert status.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: indexed_so_far(window) > paused_at, timeout=WAIT_MS)

    qtbot.mouseClick(status.cancel_button, Qt.MouseButton.LeftButton)
    task = window.indexing._task
    assert task is not None
    assert task.wait(WAIT_MS)
    qtbot.waitUntil(status.isHidden, timeout=WAIT_MS)
    # What the look pass committed is kept and searchable; every picture still waits for the
    # text-in-images pass, so none counts as indexed yet.
    reader = slow_engine.library.reader()
    (vset,) = reader.vector_sets("clip")
    kept = reader.vector_count(vset.id)
    assert paused_at < kept < 80
    wait_indexed(qtbot, window, indexed=0, pending=80)

    search_for(qtbot, window, "anything at all")
    assert window.results_model.rowCount() == kept  # every committed picture is searchable
    committed = Path(result_paths(window)[-1])
    window.search_bar.edit.clear()  # the dropped picture alone is the query
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        drop(window, committed)
    assert result_paths(window)[0] == str(committed)

    qtbot.mouseClick(window.library_panel.rescan_button, Qt.MouseButton.LeftButton)
    wait_indexed(qtbot, window, indexed=80)
    qtbot.waitUntil(lambda: window.results_model.rowCount() == 80, timeout=WAIT_MS)


def test_closing_during_indexing_stops_cleanly(
    qtbot: QtBot,
    open_window: WindowFactory,
    slow_engine: Engine,
    make_engine: Callable[..., Engine],
    tmp_path: Path,
) -> None:
    """Closing the window mid-run stops the run at the next batch; what was committed is kept,
    and the library opens again with a consistent index."""
    window = open_window(slow_engine)
    folder = tmp_path / "photos"
    photos = make_photos(folder, 80, size=(48, 36))
    window.add_folder(str(folder))
    qtbot.waitUntil(lambda: indexed_so_far(window) >= 8, timeout=WAIT_MS)
    task = window.indexing._task
    assert task is not None and task.isRunning()

    window.close()
    assert task.isFinished()
    QApplication.processEvents()
    settle_pools(window)
    assert window.indexing._task is task  # nothing new started after closing
    # What the look pass committed is kept and searchable, pending for the text pass.
    (vset,) = slow_engine.library.reader().vector_sets("clip")
    kept = slow_engine.library.reader().vector_count(vset.id)
    assert 8 <= kept < 80
    slow_engine.close()

    reopened = make_engine()
    status = reopened.status()
    assert (status.roots[0].indexed, status.roots[0].pending) == (0, 80)
    hits = reopened.search("anything", k=100)
    assert len(hits) == kept
    first = Path(hits[0].path)
    assert reopened.search_image(first, k=1)[0].path == str(first)
    list(reopened.index())
    assert reopened.status().roots[0].indexed == 80
    assert len(reopened.search("anything", k=100)) == len(photos)


def test_closing_while_a_second_folder_waits_starts_nothing_more(
    qtbot: QtBot, open_window: WindowFactory, slow_engine: Engine, tmp_path: Path
) -> None:
    """A folder added while an index run is busy queues one more run; closing the window in
    the meantime must not start it after the window is gone."""
    window = open_window(slow_engine)
    first, second = tmp_path / "first", tmp_path / "second"
    make_photos(first, 40, size=(48, 36))
    make_photos(second, 4, seed=100, size=(48, 36))
    window.add_folder(str(first))
    qtbot.waitUntil(lambda: indexed_so_far(window) >= 4, timeout=WAIT_MS)
    task = window.indexing._task
    window.add_folder(str(second))  # queued: one more pass after this one
    window.close()
    assert task is not None and task.isFinished()
    QApplication.processEvents()
    qtbot.wait(200)
    try:
        assert window.indexing._task is task, "a new index run started after the window closed"
    finally:
        if window.indexing._task is not None:
            window.indexing._task.cancel()
            window.indexing._task.wait(WAIT_MS)


def test_changes_while_indexing_queue_exactly_one_more_pass(
    qtbot: QtBot,
    open_window: WindowFactory,
    slow_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A folder added and a picture saved while a pass runs start no pass of their own: one
    more pass follows the running one and indexes both, and then all is quiet."""
    passes: list[Control] = []
    index = slow_engine.index

    def counted(control: Control) -> Iterator[Progress]:
        passes.append(control)
        return index(control)

    monkeypatch.setattr(slow_engine, "index", counted)
    window = open_window(slow_engine)
    first, second = tmp_path / "first", tmp_path / "second"
    make_photos(first, 40, size=(48, 36))
    make_photos(second, 4, seed=100, size=(48, 36))
    window.add_folder(str(first))
    status = window.indexing_status
    qtbot.waitUntil(lambda: indexed_so_far(window) >= 4, timeout=WAIT_MS)
    qtbot.mouseClick(status.pause_button, Qt.MouseButton.LeftButton)  # hold it while we change

    window.add_folder(str(second))
    # The watcher's report comes from its own thread once the folder has been quiet a moment.
    with qtbot.waitSignal(window.indexing._changed, timeout=WAIT_MS):
        save_scene(first / "new.jpg", seed=200, size=(48, 36))
    assert len(passes) == 1 and window.indexing.running()

    qtbot.mouseClick(status.pause_button, Qt.MouseButton.LeftButton)
    wait_indexed(qtbot, window, indexed=45)
    qtbot.wait(300)
    assert len(passes) == 2
    assert not window.indexing.running()


def test_shutdown_cancels_the_pass_and_waits_for_it(
    qtbot: QtBot, slow_engine: Engine, tmp_path: Path
) -> None:
    """Shutting down stops the watcher, cancels the running pass and returns once it has
    stopped (what it committed is kept); the pass queued behind it never starts."""
    folder = tmp_path / "photos"
    make_photos(folder, 40, size=(48, 36))
    slow_engine.add_root(str(folder))
    controller = IndexingController(slow_engine)
    reports: list[Progress] = []
    controller.progress.connect(reports.append)
    controller.watch()
    assert controller.watch_modes()[str(folder)].mode == "events"
    controller.start()
    qtbot.waitUntil(
        lambda: any(r.phase == "images" and r.done >= 4 for r in reports), timeout=WAIT_MS
    )
    controller.start()  # queued behind the running pass
    task = controller._task
    assert task is not None

    controller.shutdown()
    assert task.isFinished()
    assert controller.watch_modes() == {}
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        controller.start()  # too late: nothing starts any more
    qtbot.wait(200)
    assert controller._task is task and not controller.running()
    # What the look pass committed is kept (searchable; pending for the text pass).
    (vset,) = slow_engine.library.reader().vector_sets("clip")
    assert 4 <= slow_engine.library.reader().vector_count(vset.id) < 40
