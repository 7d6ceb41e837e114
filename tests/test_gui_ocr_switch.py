"""Settings ▸ Read text in pictures (OCR): a person unticks it, pictures are indexed by their look
alone (the folder panel shows them indexed, the reader never runs); ticking it again reads them
in the background and their words find them."""

from pathlib import Path

import pytest
from docgen import text_picture
from gui_support import open_settings, wait_indexed
from imagegen import save_scene
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from test_ocr_switch import RECEIPT_WORDS, reads  # noqa: F401  (a fixture)

from desktop_app.core.settings import Settings
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.usefixtures("qt_pools_idle")


def _toggle_in_settings(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, *, was: bool
) -> None:
    """Open Settings…, click the checkbox as a person would, press OK."""

    def click(dialog: SettingsDialog) -> QDialog.DialogCode:
        box = dialog.read_text
        assert box.isChecked() is was
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
        assert box.isChecked() is not was
        return QDialog.DialogCode.Accepted

    open_settings(window, monkeypatch, click)


def test_unticking_ocr_indexes_pictures_by_look_and_ticking_it_reads_them(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reads: list[tuple[int, int]],  # noqa: F811
) -> None:
    engine = window.engine
    _toggle_in_settings(qtbot, window, monkeypatch, was=True)
    assert Settings.load(engine.home / "settings.json").read_text_in_pictures is False
    assert "by their look alone" in window.banner.text()

    folder = tmp_path / "photos"
    folder.mkdir()
    text_picture(["Hardware Store Receipt", "Invoice 4471"]).save(folder / "receipt.png")
    save_scene(folder / "beach.jpg", seed=3, size=(160, 120))
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=2)
    assert reads == []
    assert not [h for h in engine.search("invoice 4471 hardware store", k=3) if h.snippet]

    _toggle_in_settings(qtbot, window, monkeypatch, was=False)
    assert engine.settings.read_text_in_pictures is True
    assert "read in the background" in window.banner.text()
    wait_indexed(qtbot, window, indexed=2)
    assert len(reads) == 2
    best = engine.search("invoice 4471 hardware store", k=3)[0]
    assert (Path(best.path).name, best.snippet) == ("receipt.png", RECEIPT_WORDS)
