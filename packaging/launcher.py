"""The packaged app's one entry point: the desktop app, or the command line by name.

PyInstaller gives every executable its own copy of the Python archive, so the Linux and macOS
builds ship one executable and a ``snapfind-cli`` link beside it; started through that name, it
is the command line. On Windows the CLI needs a console, so the spec builds a second executable
from this same file, named ``snapfind-cli.exe``.

``SNAPFIND_SELFCHECK=FILE`` starts the real app, saves the window as it is first painted to FILE,
prints how long that took, and closes the window as a person would: the packaging smoke test
and the start-time measurement use it.
"""

import os
import sys
import time
from pathlib import Path

STARTED = time.monotonic()


def _program_name() -> str:
    name = Path(sys.argv[0]).name.lower()
    return name.removesuffix(".exe")


def _paint_check(shot: Path) -> int:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

    from desktop_app.gui.app import main as gui_main

    app = QApplication.instance() or QApplication(sys.argv[:1])

    class FirstPaint(QObject):
        """Closes the main window once, right after anything in it has been painted."""

        seen = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if (
                not self.seen
                and event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget)
                and isinstance(watched.window(), QMainWindow)
            ):
                self.seen = True
                window = watched.window()
                QTimer.singleShot(0, lambda: finish(window))
            return False

    def finish(window: QWidget) -> None:
        painted = time.monotonic() - STARTED
        window.grab().save(str(shot))
        print(f"snapfind: first paint {painted:.2f} s after start", flush=True)
        window.close()

    probe = FirstPaint()
    app.installEventFilter(probe)
    code = gui_main(sys.argv[1:])
    app.removeEventFilter(probe)
    if not probe.seen:
        print("snapfind: the window was never painted", file=sys.stderr)
        return code or 3
    return code


def main() -> int:
    import multiprocessing

    multiprocessing.freeze_support()
    if _program_name().endswith("-cli"):
        from desktop_app.cli import run as run_cli

        run_cli()  # exits
    shot = os.environ.get("SNAPFIND_SELFCHECK")
    if shot:
        return _paint_check(Path(shot))
    from desktop_app.gui.app import main as gui_main

    return gui_main()


if __name__ == "__main__":
    raise SystemExit(main())
