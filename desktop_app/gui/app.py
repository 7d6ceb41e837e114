"""``snapfind``: start the desktop app. The window appears first; models load on first use."""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app import __version__

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"


def app_icon() -> QIcon:
    return QIcon(str(RESOURCES / "snapfind.svg"))


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Snapfind's options, and the rest for Qt: its own options (``-style Fusion``,
    ``-platform …``, ``-reverse``) work as in every Qt app; a mistyped ``--option`` is still
    refused."""
    parser = argparse.ArgumentParser(prog="snapfind", description="Snapfind desktop app")
    parser.add_argument("--home", help="data folder (default: $SNAPFIND_HOME or the platform's)")
    parser.add_argument("--version", action="version", version=f"snapfind {__version__}")
    args, qt_args = parser.parse_known_args(argv)
    unknown = [a for a in qt_args if a.startswith("--")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args, qt_args


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    QApplication.setApplicationName("Snapfind")
    QApplication.setOrganizationName("Snapfind")
    QApplication.setApplicationVersion(__version__)
    icon = app_icon()
    QApplication.setWindowIcon(icon)
    settings = QSettings()  # only which data folder to open: it cannot live inside one
    from desktop_app.core.engine import Engine
    from desktop_app.core.errors import KnownError
    from desktop_app.core.paths import resolve_home
    from desktop_app.gui.single_instance import InstanceServer, ask_running_instance

    home = resolve_home(args.home or settings.value("library/home") or None)
    if ask_running_instance(home):  # already open: that window comes forward instead
        return 0
    try:
        engine = Engine(home)
    except KnownError as err:
        QMessageBox.critical(None, "Snapfind", str(err))
        return 1
    from desktop_app.gui.main_window import MainWindow
    from desktop_app.gui.startup import after_first_paint
    from desktop_app.gui.tasks import run_async

    # Window size, history, zoom: in the data folder, with everything else Snapfind keeps.
    window_state = QSettings(str(engine.home / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(engine, icon, window_state)
    window.show()
    InstanceServer(home, window)

    def begin() -> None:
        window.start()
        # Load the index and the text model while the window is being looked at (not on the
        # first query); a failure here is reported by the query that needs the model.
        run_async(engine.warm_up, lambda _: None, lambda _: None)

    after_first_paint(window, begin)  # a painted window first, then the loading
    code = app.exec()
    chosen = window_state.value("library/home")  # a data folder chosen in Settings
    if chosen:
        settings.setValue("library/home", chosen)
        window_state.remove("library/home")
        settings.sync()
        window_state.sync()
    try:
        engine.close()  # saves the index: a full disk says so rather than a traceback
    except KnownError as err:
        sys.stderr.write(f"snapfind: {err}\n")
        code = code or 1
    if argv is None:  # the program itself, not a caller in the same process
        _leave(code)
    return code


def _leave(code: int) -> None:
    """Exit now. Everything is saved (settings, index, database closed); Python's own
    teardown with torch loaded and pool threads still parked took seconds after the window
    had closed, which a person reads as a hung app."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
