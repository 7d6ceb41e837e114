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

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def app_icon() -> QIcon:
    return QIcon(str(RESOURCES / "snapfind.svg"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="snapfind", description="Snapfind desktop app")
    parser.add_argument("--home", help="data folder (default: $SNAPFIND_HOME or the platform's)")
    parser.add_argument("--version", action="version", version=f"snapfind {__version__}")
    parser.add_argument("pictures", nargs="*", metavar="PICTURE", help="search by this picture")
    args = parser.parse_args(argv)
    if not QApplication.instance():
        from desktop_app.gui.qt_platform import platform_problem

        if problem := platform_problem():  # Qt would abort with a message about plugins
            sys.stderr.write(problem + "\n")
            return 1
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setApplicationName("Snapfind")
    QApplication.setOrganizationName("Snapfind")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("io.github.snapfind.Snapfind")  # its menu entry and icon
    icon = app_icon()
    QApplication.setWindowIcon(icon)
    settings = QSettings()
    from desktop_app.core.engine import Engine
    from desktop_app.core.errors import KnownError

    try:
        engine = Engine(args.home or settings.value("library/home") or None)
    except KnownError as err:
        QMessageBox.critical(None, "Snapfind", str(err))
        return 1
    from desktop_app.gui.main_window import MainWindow
    from desktop_app.gui.tasks import run_async

    window = MainWindow(engine, icon, settings)
    window.show()
    QTimer.singleShot(0, window.start)
    for picture in args.pictures:  # "Open with Snapfind" on a picture
        QTimer.singleShot(0, partial(window.search_by_image, os.path.abspath(picture)))
    # Load the index and the text model while the window is being looked at (not on the
    # first query); a failure here is reported by the query that needs the model.
    QTimer.singleShot(0, lambda: run_async(engine.warm_up, lambda _: None, lambda _: None))
    code = app.exec()
    # Closed right after opening: let the warm-up or a search still running finish, rather than
    # have the interpreter shut down under it.
    QThreadPool.globalInstance().waitForDone()
    try:
        engine.close()  # saves the index: a full disk says so rather than a traceback
    except KnownError as err:
        sys.stderr.write(f"snapfind: {err}\n")
        return code or 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
