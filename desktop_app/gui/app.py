"""``snapfind``: start the desktop app. The window appears first; models load on first use."""

import argparse
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSettings, QThreadPool, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app import __version__
from desktop_app.core.indexing.threads import yield_idle_cores

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def app_icon() -> QIcon:
    return QIcon(str(RESOURCES / "snapfind.svg"))


# Qt's own options that take a value (``-style Fusion``); the others are single words.
QT_VALUE_OPTIONS = frozenset(
    {
        "-style",
        "-stylesheet",
        "-platform",
        "-platformpluginpath",
        "-platformtheme",
        "-plugin",
        "-qwindowgeometry",
        "-geometry",
        "-qwindowtitle",
        "-title",
        "-qwindowicon",
        "-display",
        "-session",
        "-name",
    }
)


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Snapfind's options, and the rest for Qt: its own options (``-style Fusion``,
    ``-platform …``, ``-reverse``) work as in every Qt app; a mistyped ``--option`` is still
    refused. Pictures named after the options are searched by ("Open with Snapfind")."""
    parser = argparse.ArgumentParser(prog="snapfind", description="Snapfind desktop app")
    parser.add_argument("--home", help="data folder (default: $SNAPFIND_HOME or the platform's)")
    parser.add_argument("--version", action="version", version=f"snapfind {__version__}")
    parser.add_argument("pictures", nargs="*", metavar="PICTURE", help="search by this picture")
    ours: list[str] = []
    qt_args: list[str] = []
    words = iter(argv)
    for word in words:
        if word.startswith("-") and not word.startswith("--") and word not in ("-", "-h"):
            qt_args.append(word)
            if word in QT_VALUE_OPTIONS and (value := next(words, None)) is not None:
                qt_args.append(value)
        else:
            ours.append(word)
    return parser.parse_args(ours), qt_args


def main(argv: Sequence[str] | None = None) -> int:
    yield_idle_cores()  # before anything loads torch
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    if not QApplication.instance():
        from desktop_app.gui.qt_platform import platform_problem

        if problem := platform_problem():  # Qt would abort with a message about plugins
            sys.stderr.write(problem + "\n")
            return 1
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    QApplication.setApplicationName("Snapfind")
    QApplication.setOrganizationName("Snapfind")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("io.github.snapfind.Snapfind")  # its menu entry and icon
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
        for picture in args.pictures:  # "Open with Snapfind" on a picture
            QTimer.singleShot(0, partial(window.search_by_image, os.path.abspath(picture)))
        # Load the index and the text model while the window is being looked at (not on the
        # first query); a failure here is reported by the query that needs the model.
        run_async(engine.warm_up, lambda _: None, lambda _: None)

    after_first_paint(window, begin)  # a painted window first, then the loading
    code = app.exec()
    # Closed right after opening: let the warm-up or a search still running finish, rather than
    # have the engine closed under it.
    QThreadPool.globalInstance().waitForDone()
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
