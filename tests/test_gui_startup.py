"""Start-up: a painted window before any loading, the library's layout in the first frame, and
Qt's own command-line options accepted."""

import pytest
from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.engine import Engine
from desktop_app.gui.app import app_icon, parse_args
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.startup import after_first_paint

pytestmark = pytest.mark.usefixtures("qt_pools_idle")


class _Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def test_loading_waits_for_the_first_paint(qtbot: QtBot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    paints = _Paints()
    widget.installEventFilter(paints)
    seen: list[int] = []
    after_first_paint(widget, lambda: seen.append(paints.count))
    qtbot.wait(50)
    assert seen == []  # not shown, not painted: nothing loads yet
    widget.show()
    qtbot.waitUntil(lambda: seen != [], timeout=5000)
    assert seen[0] >= 1  # the window had painted when the loading began
    widget.update()
    qtbot.wait(50)
    assert len(seen) == 1  # once


def test_first_frame_shows_the_library_layout_not_the_welcome(
    qtbot: QtBot, engine: Engine, tmp_path: object, gui_settings: QSettings
) -> None:
    """Before start() has read anything, a library with folders shows its page with
    placeholder tiles (the welcome page would flash for people who have folders)."""
    folder = tmp_path / "pics"  # type: ignore[operator]
    folder.mkdir()
    engine.add_root(str(folder))
    window = MainWindow(engine, app_icon(), gui_settings)
    qtbot.addWidget(window)
    assert window.pages.currentIndex() == 1
    assert window.results_stack.currentWidget() is window.browse_page
    assert window.browse_view._waiting
    assert "Opening the library" in window.browse_page.summary.text()
    window.shutdown()


def test_qt_options_are_accepted() -> None:
    args, qt_args = parse_args(["-style", "Fusion", "--home", "/tmp/x", "-reverse"])
    assert args.home == "/tmp/x" and qt_args == ["-style", "Fusion", "-reverse"]
    with pytest.raises(SystemExit):
        parse_args(["--colour", "red"])


@pytest.mark.qt_log_ignore("This plugin does not support raise", "requestActivate")
def test_a_second_launch_brings_the_first_window_forward(qtbot: QtBot, tmp_path: object) -> None:
    from pathlib import Path

    from PySide6.QtCore import Qt

    from desktop_app.gui.single_instance import InstanceServer, ask_running_instance

    home = Path(str(tmp_path)) / "home"
    assert not ask_running_instance(home)  # nothing runs: this launch opens the library
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    InstanceServer(home, window)
    window.setWindowState(Qt.WindowState.WindowMinimized)
    assert ask_running_instance(home)
    qtbot.waitUntil(lambda: not window.windowState() & Qt.WindowState.WindowMinimized, timeout=5000)
    assert not ask_running_instance(Path(str(tmp_path)) / "another")
