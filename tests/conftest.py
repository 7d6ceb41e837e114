"""Shared fixtures: a tiny random CLIP of the real architecture, the real MiniLM, engines."""

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # tests never need a real display

import gc

from gui_support import WAIT_MS, WindowFactory, make_notes, make_photos, settle_pools, wait_indexed
from PySide6.QtCore import QEvent, QSettings, QThreadPool
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from tiny_model import ARCH, write_tiny_model

from desktop_app.core.encoders.catalog import ClipSpec
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.speech import WhisperTranscriber
from desktop_app.core.encoders.text import MiniLMEncoder
from desktop_app.core.engine import Engine
from desktop_app.gui.app import app_icon
from desktop_app.gui.main_window import MainWindow


@pytest.fixture(scope="session")
def tiny_model_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(config JSON, safetensors weights) of the tiny model."""
    return write_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_clip(tiny_model_files: tuple[Path, Path]) -> OpenClipEncoder:
    _, weights = tiny_model_files
    spec = ClipSpec(
        model_id=f"open_clip:{ARCH}/test",
        arch=ARCH,
        weights=weights,
        preprocess={},
        label="tiny test model",
    )
    return OpenClipEncoder(spec)


@pytest.fixture(scope="session")
def minilm() -> MiniLMEncoder:
    return MiniLMEncoder()


@pytest.fixture(scope="session")
def whisper() -> WhisperTranscriber:
    """The bundled Whisper tiny.en on one thread, loaded once for the whole session."""
    return WhisperTranscriber(threads=1)


@pytest.fixture
def picture_batches(tiny_clip: OpenClipEncoder, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches the tiny CLIP's picture tower runs from now on (indexing and
    picture queries alike): empty when nothing was embedded again."""
    calls: list[int] = []
    embed_prepared = tiny_clip.embed_prepared

    def counted(prepared: Sequence[Any]) -> np.ndarray:
        calls.append(len(prepared))
        return embed_prepared(prepared)

    monkeypatch.setattr(tiny_clip, "embed_prepared", counted)
    return calls


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves threads running (workers must be stopped and joined).

    Library singletons (tqdm's monitor) and Qt pool threads that once ran Python (seen as
    dummy threads, which Python never forgets) are not the app's; the GUI tests check Qt's
    pools separately.
    """
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [
            t
            for t in threading.enumerate()
            if t not in before
            and t.is_alive()
            and t.name != "tqdm_monitor"
            and not isinstance(t, threading._DummyThread)
        ]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


EngineFactory = Callable[..., Engine]


@pytest.fixture
def make_engine(
    home: Path, tiny_clip: OpenClipEncoder, minilm: MiniLMEncoder
) -> Iterator[EngineFactory]:
    """Engines on ``home`` with the test models; all closed after the test."""
    opened: list[Engine] = []

    def factory(*, writer: bool = True, clip: object = None) -> Engine:
        engine = Engine(
            home, writer=writer, clip_loader=lambda: clip or tiny_clip, text_loader=lambda: minilm
        )
        opened.append(engine)
        return engine

    yield factory
    for engine in opened:
        engine.close()


@pytest.fixture
def engine(make_engine: EngineFactory) -> Engine:
    return make_engine()


def run_index(engine: Engine) -> list:
    """Drive an index run to the end and return every progress report."""
    return list(engine.index())


# -- the desktop window ------------------------------------------------------------------------


@pytest.fixture
def qt_pools_idle(qapp: QApplication) -> Iterator[None]:
    """After each test: no Qt pool thread is still running a job."""
    yield
    pool = QThreadPool.globalInstance()
    deadline = time.monotonic() + 5
    while pool.activeThreadCount() and time.monotonic() < deadline:
        pool.waitForDone(100)
        QApplication.processEvents()
    assert pool.activeThreadCount() == 0


@pytest.fixture
def gui_settings(tmp_path: Path) -> QSettings:
    """Window settings (geometry, history, zoom) in the test's own INI file.

    The tiny random test model cannot tell a good match from a bad one, so its relevances
    rarely pass the cut-off: these windows show weaker matches too, except in the tests of
    the cut-off itself."""
    settings = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    settings.setValue("results/show_weaker", True)
    return settings


@pytest.fixture
def open_window(qtbot: QtBot, gui_settings: QSettings) -> Iterator[WindowFactory]:
    """Open (show and start) windows as the app does; all are closed and drained after the
    test, before their engines close."""
    opened: list[MainWindow] = []

    def factory(engine: Engine, settings: QSettings | None = None) -> MainWindow:
        window = MainWindow(engine, app_icon(), settings or gui_settings)
        opened.append(window)
        window.show()
        qtbot.waitExposed(window)
        window.start()
        return window

    yield factory
    for window in opened:
        window.close()
        settle_pools(window)
        task = window.indexing._task
        assert task is None or task.wait(WAIT_MS), "an index run outlived its window"
        window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # Collect the test's garbage here, on the UI thread: a Qt object left in a reference cycle
    # (a failed assertion's traceback holds the test's frame) must not be destroyed by a
    # collection that happens to run in the next test's indexing thread.
    gc.collect()


@pytest.fixture
def window(open_window: WindowFactory, engine: Engine) -> MainWindow:
    """The window on a new, empty library, shown and started."""
    return open_window(engine)


# -- what the window shows ---------------------------------------------------------------------


@pytest.fixture
def library(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> Path:
    """A folder of 8 photos and 3 notes, added and indexed through the window."""
    folder = tmp_path / "library"
    make_photos(folder / "photos", 8, size=(160, 120))
    make_notes(folder / "notes")
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=11)
    return folder
