"""Every wait shows: a query's wait on the results line (what it waits for, for how long, the
old hits dimmed), and a model download that cannot connect fails at once with the import path
offered."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gui_support import WAIT_MS, WindowFactory
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.core.encoders import catalog as models
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import CLIP
from desktop_app.gui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("qt_pools_idle")


def _held_queries(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Queries wait for the returned gate (in the pool's thread, never the test's)."""
    gate = threading.Event()
    query = window.engine.query

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(WAIT_MS / 1000)
        return query(*args, **kwargs)

    monkeypatch.setattr(window.engine, "query", held)
    return gate


def test_a_running_query_says_so_on_the_results_line(
    qtbot: QtBot, window: MainWindow, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = window.results_stack.summary
    window.search_bar.set_text("lasagne")
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        window.search_bar.submit()
    old = summary.text()
    assert "match" in old

    gate = _held_queries(window, monkeypatch)
    window.search_bar.set_text("mountain trail")
    window.search_bar.submit()
    assert "Searching…" in summary.text() and window.results_stack.currentIndex() == 1
    qtbot.waitUntil(window.busy.dimmed, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: " 1 s" in summary.text(), timeout=WAIT_MS)  # it counts
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        gate.set()
    assert "Searching" not in summary.text() and "match" in summary.text()
    assert not window.busy.dimmed()


def test_a_query_waiting_for_its_model_says_which(
    qtbot: QtBot, window: MainWindow, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.engine.encoders.forget(CLIP)  # as just after launch
    gate = _held_queries(window, monkeypatch)
    window.search_bar.set_text("a red square")
    window.search_bar.submit()
    assert "Loading the picture model…" in window.results_stack.summary.text()
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        gate.set()


def test_a_query_from_the_library_view_shows_its_wait(
    qtbot: QtBot, window: MainWindow, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typed right after launch, on the library view: not the idle page, the wait."""
    assert window.results_stack.currentWidget() is window.browse_page
    gate = _held_queries(window, monkeypatch)
    window.search_bar.set_text("lasagne")
    window.search_bar.submit()
    assert window.results_stack.currentWidget() is not window.browse_page
    assert "…" in window.results_stack.summary.text()
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        gate.set()


@pytest.fixture
def engine_without_model(
    home: Path, tmp_path: Path, minilm: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(models, "cached_weights", lambda _preset: None)
    engine = Engine(home, text_loader=lambda: minilm)
    yield engine
    engine.close()


def test_offline_download_fails_fast_and_offers_the_import(
    qtbot: QtBot,
    engine_without_model: Engine,
    open_window: WindowFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as on a computer without network
    hub_called: list[bool] = []
    monkeypatch.setattr(engine_without_model, "download_model", lambda **_: hub_called.append(True))
    window = open_window(engine_without_model)
    box = window.welcome.model_box
    started = time.monotonic()
    qtbot.mouseClick(box.download_button, Qt.MouseButton.LeftButton)
    assert not box.download_button.isEnabled()  # the wait shows at once
    assert box.progress.isVisible() and box.progress.maximum() == 0  # indeterminate
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=WAIT_MS)
    assert time.monotonic() - started < 5  # it was about a minute of retries
    assert hub_called == []  # the hub client never started its retries
    text = window.banner.text()
    assert "cannot be reached" in text and "import a model file" in text
    assert "Error" not in text and "http" not in text
    assert window.banner._actions[0].text() == "Import model file…"
    assert box.download_button.isEnabled() and box.import_button.isEnabled()
