"""The window around the library: first run, folders, live changes, settings, the model."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gui_support import (
    WAIT_MS,
    WindowFactory,
    drop,
    make_notes,
    make_photos,
    menu_action,
    open_settings,
    result_paths,
    root_rows,
    search_for,
    wait_indexed,
)
from imagegen import save_scene
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from desktop_app import __version__
from desktop_app.core.encoders import catalog as models
from desktop_app.core.engine import Engine
from desktop_app.core.settings import Settings
from desktop_app.gui.library_panel import PathRole
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.settings_dialog import SettingsDialog

# Every test here must end with no Qt pool job still running.
pytestmark = pytest.mark.usefixtures("qt_pools_idle")


def test_welcome_then_folder_dropped_is_indexed(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """An empty library shows the welcome page; dropping a folder on the window adds it,
    switches to the main view and indexes every file in it."""
    assert window.pages.currentIndex() == 0
    assert not window.search_bar.isVisible()
    assert "Library is empty" in window.empty_label.text()
    assert window.welcome.model_box.isHidden()  # the model is here

    folder = tmp_path / "Pictures"
    make_photos(folder, 6)
    make_notes(folder / "notes")
    assert drop(window, folder)

    assert window.pages.currentIndex() == 1
    assert window.search_bar.isVisible()
    assert [r.path for r in window.engine.roots()] == [str(folder)]
    wait_indexed(qtbot, window, indexed=9)
    assert window.library_panel.failed_label.text().endswith("none")
    # No query: the library itself, its pictures newest first (the notes only under a query).
    assert window.results_stack.currentWidget() is window.browse_page
    qtbot.waitUntil(lambda: window.browse_page.model.rowCount() == 6, timeout=WAIT_MS)


def test_add_folder_button_then_the_same_folder_again(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The welcome page's Add folder… button asks for a folder and indexes it; adding it (or a
    folder inside it) again is refused with a word in the banner, and nothing else changes."""
    folder = tmp_path / "Pictures"
    make_photos(folder, 3)
    make_photos(folder / "inner", 1, seed=20)
    chosen: list[str] = []

    def choose(*_args: object) -> str:
        chosen.append(str(folder))
        return str(folder)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", choose)
    qtbot.mouseClick(window.welcome.add_button, Qt.MouseButton.LeftButton)
    assert chosen == [str(folder)]
    wait_indexed(qtbot, window, indexed=4)

    window.add_folder(str(folder))
    assert window.banner.isVisible()
    assert "already in the library" in window.banner.text()
    window.add_folder(str(folder / "inner"))
    assert "already in the library" in window.banner.text()
    assert len(window.engine.roots()) == 1
    assert window.library_panel.roots.rowCount() == 1


def test_changes_are_picked_up_live_and_at_the_next_start(
    qtbot: QtBot, open_window: WindowFactory, engine: Engine, tmp_path: Path
) -> None:
    """A picture saved into a library folder while the app runs is indexed within seconds;
    what changed while it was closed is caught up when it opens again, on the main view."""
    folder = tmp_path / "Pictures"
    photos = make_photos(folder, 3)
    window = open_window(engine)
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=3)
    assert "No live updates" not in root_rows(window)[0]

    save_scene(folder / "new.jpg", seed=40, size=(96, 72))
    wait_indexed(qtbot, window, indexed=4)  # the watcher started a run by itself
    window.close()

    photos[0].unlink()
    save_scene(folder / "while-closed.png", seed=41, size=(96, 72))
    again = open_window(engine)
    assert again.pages.currentIndex() == 1
    wait_indexed(qtbot, again, indexed=4)
    search_for(qtbot, again, "anything")
    assert sorted(Path(p).name for p in result_paths(again)) == [
        "new.jpg",
        "photo001.jpg",
        "photo002.jpg",
        "while-closed.png",
    ]


def test_remove_folder_forgets_it_but_keeps_the_files(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing a folder asks first; on Yes its entries go from the library and the results,
    and its files stay on disk."""
    first, second = tmp_path / "first", tmp_path / "second"
    first_photos = make_photos(first, 4)
    make_photos(second, 3, seed=50)
    window.add_folder(str(first))
    wait_indexed(qtbot, window, indexed=4)
    window.add_folder(str(second))
    wait_indexed(qtbot, window, indexed=7)
    search_for(qtbot, window, "a picture")
    assert window.results_model.rowCount() == 7

    panel = window.library_panel
    row = next(
        r
        for r in range(panel.roots.rowCount())
        if panel.roots.index(r).data(PathRole) == str(first)
    )
    panel.roots_view.setCurrentIndex(panel.roots.index(row))
    assert panel.remove_button.isEnabled()

    asked: list[str] = []

    def answer(answer: QMessageBox.StandardButton) -> Callable[..., QMessageBox.StandardButton]:
        def question(_parent: object, title: str, text: str, *args: object) -> Any:
            asked.append(text)
            return answer

        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and str(first) in asked[0]
    assert len(window.engine.roots()) == 2

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert [r.path for r in window.engine.roots()] == [str(second)]
    assert panel.roots.rowCount() == 1
    assert all(p.exists() for p in first_photos)
    assert window.results_model.rowCount() == 3
    assert all(p.startswith(str(second)) for p in result_paths(window))
    assert [window.search_bar.filter_bar.folder.itemText(i) for i in range(2)] == [
        "All folders",
        "second",
    ]

    panel.roots_view.setCurrentIndex(panel.roots.index(0))
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert window.engine.roots() == []
    assert window.pages.currentIndex() == 0  # back to the welcome page
    assert not window.search_bar.isVisible()
    qtbot.waitUntil(lambda: window.results_model.rowCount() == 0, timeout=WAIT_MS)
    assert "Library is empty" in window.empty_label.text()
    assert all(p.exists() for p in second.iterdir())


def test_settings_dialog_saves_exclusions_and_about_shows_the_version(
    qtbot: QtBot,
    window: MainWindow,
    library: Path,
    gui_settings: QSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Settings…: Cancel changes nothing; OK saves the exclusions with the library (the
    re-index that follows applies them) and a new data folder for the next start; About
    names the version, model and data folder."""
    shown: list[SettingsDialog] = []
    answer = QDialog.DialogCode.Rejected
    elsewhere = tmp_path / "elsewhere"

    def fill_in(dialog: SettingsDialog) -> QDialog.DialogCode:
        shown.append(dialog)
        assert dialog.data_folder.text() == str(window.engine.home)
        assert dialog.model.currentData() == window.engine.settings.clip_model
        assert dialog.exclude.toPlainText() == ""
        dialog.exclude.setPlainText("*.txt\n\n  notes-old  \n")
        dialog.data_folder.setText(str(elsewhere))
        return answer

    open_settings(window, monkeypatch, fill_in)
    assert len(shown) == 1
    assert window.engine.settings.exclude == []
    assert gui_settings.value("library/home") is None

    answer = QDialog.DialogCode.Accepted
    menu_action(window, "&Settings…").trigger()
    assert len(shown) == 2
    assert window.engine.settings.exclude == ["*.txt", "notes-old"]
    saved = Settings.load(window.engine.home / "settings.json")
    assert saved.exclude == ["*.txt", "notes-old"]
    assert gui_settings.value("library/home") == str(elsewhere)
    assert f"will use {elsewhere} from the next start" in window.banner.text()
    wait_indexed(qtbot, window, indexed=10)  # tax-return.txt is now left out
    assert not any(p.endswith(".txt") for p in result_paths(window))

    about: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "about", lambda _parent, title, text: about.append((title, text))
    )
    menu_action(window, "&About Snapfind").trigger()
    [(title, text)] = about
    assert title == "About Snapfind"
    assert __version__ in text
    assert window.engine.settings.clip_model in text
    assert str(window.engine.home) in text


@pytest.fixture
def engine_without_model(
    home: Path, tmp_path: Path, minilm: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """An engine with the app's own CLIP loader, on a computer where no CLIP is downloaded."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(models, "cached_weights", lambda _preset: None)
    engine = Engine(home, text_loader=lambda: minilm)
    yield engine
    engine.close()


def test_missing_model_offers_download_and_import(
    qtbot: QtBot, engine_without_model: Engine, open_window: WindowFactory, tmp_path: Path
) -> None:
    """Without the picture model, the welcome page offers to download or import it; a folder
    still indexes its documents, the banner explains why pictures wait, and a failed download
    (no network) says so without a traceback."""
    engine = engine_without_model
    window = open_window(engine)
    box = window.welcome.model_box
    assert window.pages.currentIndex() == 0
    assert box.isVisible()
    assert box.download_button.text() == "Download model"
    assert box.import_button.text() == "Import model file…"
    assert box.download_button.isEnabled()
    assert engine.settings.clip_model in box.message.text()
    assert not window.banner.isVisible()

    folder = tmp_path / "mixed"
    make_photos(folder, 2)
    make_notes(folder)
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=3, pending=2)
    assert window.banner.isVisible()
    assert "not on this computer" in window.banner.text()
    assert [b.text() for b in window.banner._actions] == ["Download model", "Import model file…"]
    assert "Traceback" not in window.banner.text()
    search_for(qtbot, window, "alpine lake")
    assert Path(result_paths(window)[0]).name == "mountain-hike.md"

    qtbot.mouseClick(window.banner._actions[0], Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == 0
    qtbot.waitUntil(
        lambda: window.banner.isVisible() and "Could not download" in window.banner.text(),
        timeout=WAIT_MS,
    )
    assert "Traceback" not in window.banner.text()
    assert box.download_button.isEnabled()


def test_failed_download_goes_back_to_the_results(
    qtbot: QtBot, engine_without_model: Engine, open_window: WindowFactory, tmp_path: Path
) -> None:
    """After a download from the banner fails, the library's results are in view again: a
    search shows its hits, not the welcome page under the search bar."""
    window = open_window(engine_without_model)
    folder = tmp_path / "mixed"
    make_notes(folder)
    make_photos(folder, 1)
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=3, pending=1)
    qtbot.waitUntil(lambda: bool(window.banner._actions), timeout=WAIT_MS)
    qtbot.mouseClick(window.banner._actions[0], Qt.MouseButton.LeftButton)  # Download model
    qtbot.waitUntil(lambda: "Could not download" in window.banner.text(), timeout=WAIT_MS)
    search_for(qtbot, window, "alpine lake")
    assert window.results_view.isVisible()
    assert window.pages.currentIndex() == 1
