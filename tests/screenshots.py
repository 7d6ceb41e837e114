"""Screenshots of the app's main states, for the README and for looking at the GUI.

``make screenshots`` runs this under Xvfb when it is installed (real X11 rendering), else with
Qt's offscreen platform. It builds a small library in a temporary folder (generated photos and
notes), indexes it with the tests' tiny random CLIP (so the picture ranking is arbitrary; the
document ranking uses the real MiniLM) and saves one PNG per state into the given folder.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

sys.path.insert(0, str(Path(__file__).parent))
from imagegen import save_scene
from tiny_model import ARCH, write_tiny_model

NOTES = {
    "trip-to-the-coast.md": "# Sailing trip\nWe sailed along the coast and saw dolphins at dawn.",
    "pasta-recipe.md": "# Lasagne\nLayer pasta with tomato sauce and cheese; bake 40 minutes.",
    "garden-plan.txt": "Plant tomatoes in spring, prune the apple tree, water the roses.",
}


def wait(app: QApplication, condition: object, timeout_s: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        app.processEvents()
        time.sleep(0.02)


def settle(app: QApplication, ms: int = 400) -> None:
    loop_done = []
    QTimer.singleShot(ms, lambda: loop_done.append(True))
    wait(app, lambda: loop_done)


def shoot(widget: QWidget, folder: Path, name: str) -> None:
    widget.grab().save(str(folder / f"{name}.png"))
    print(f"wrote {folder / name}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="where to write the PNGs")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    from desktop_app.core.engine import Engine
    from desktop_app.gui.app import app_icon
    from desktop_app.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        config, weights = write_tiny_model(base / "model")
        photos = base / "Pictures"
        for i in range(120):
            picture = save_scene(
                photos / f"{2019 + i % 5}" / f"IMG_{i:04d}.jpg",
                seed=i,
                size=(480, 360) if i % 3 else (300, 420),
            )
            taken = time.time() - i * 6 * 86400  # a few months of pictures, for the library view
            os.utime(picture, (taken, taken))
        for name, text in NOTES.items():
            (photos / "Notes").mkdir(parents=True, exist_ok=True)
            (photos / "Notes" / name).write_text(text, "utf-8")
        engine = Engine(base / "home")
        engine.import_model(ARCH, weights, config)
        settings = QSettings(str(base / "gui.ini"), QSettings.Format.IniFormat)
        window = MainWindow(engine, app_icon(), settings)
        window.resize(1280, 800)
        window.show()
        window.start()
        settle(app)
        shoot(window, args.folder, "1-welcome")

        window.add_folder(str(photos))
        wait(
            app,
            lambda: window.indexing_status.isVisible() and window.indexing_status.bar.value() > 20,
        )
        window.indexing.set_paused(True)  # freeze the progress for the picture
        window.indexing_status.pause_button.setChecked(True)
        settle(app)
        shoot(window, args.folder, "2-indexing")
        window.indexing_status.pause_button.setChecked(False)
        wait(app, lambda: window.indexing._task is not None and window.indexing._task.isFinished())
        wait(app, lambda: window.browse_page.model.rowCount() == 120)
        settle(app, 2500)
        shoot(window, args.folder, "2b-library")
        shoot_first_paint(app, engine, base, args.folder)
        window.browse_view.verticalScrollBar().setValue(700)
        window.browse_view.setCurrentIndex(window.browse_page.model.index(20))
        settle(app, 2500)
        shoot(window, args.folder, "2c-library-scrolled")

        window.busy.start()  # what a query shows while it waits (here: held on screen)
        window.results_stack.setCurrentIndex(1)
        settle(app, 1200)
        shoot(window, args.folder, "2d-searching")
        window.busy.stop()
        # The tiny random CLIP rates no picture a good match: show the weaker ones too.
        window.results_stack.show_weaker.setChecked(True)
        window.search_bar.set_text("notes from a sailing trip")
        window.search_bar.submit()
        wait(app, lambda: window.results_model.rowCount() > 0)
        settle(app, 1500)
        shoot(window, args.folder, "3-text-results")

        window.search_bar.set_text("")
        window.search_by_image(str(photos / "2019" / "IMG_0005.jpg"))
        wait(
            app,
            lambda: (
                window.results_model.rowCount() > 0
                and window.results_model.hit(0).path.endswith("IMG_0005.jpg")
            ),
        )
        settle(app, 1500)
        shoot(window, args.folder, "4-image-query")

        window.results_view.setCurrentIndex(window.results_model.index(1))
        wait(app, lambda: window.preview._image is not None)
        settle(app, 600)
        shoot(window, args.folder, "5-preview")

        shoot_query_states(app, window, photos, args.folder)

        from desktop_app.gui.settings_flow import settings_dialog

        engine.settings.exclude = ["*.tmp", "Raw"]
        dialog = settings_dialog(engine, window)  # as Edit ▸ Settings… fills it
        dialog.show()
        settle(app)
        shoot(dialog, args.folder, "6-settings")
        dialog.close()
        shoot_laptop_and_dark(app, window, args.folder)
        shoot_duplicates(app, window, base / "Exports", photos, args.folder)
        window.close()
        engine.close()


def shoot_query_states(app: QApplication, window: QWidget, photos: Path, folder: Path) -> None:
    """A mixed query with a term to avoid and filters open; then a query nothing fits."""
    from desktop_app.core.searching import terms as query

    bar = window.search_bar  # type: ignore[attr-defined]
    bar.set_text("sunset over the sea")
    chip = bar.chips.add(query.text("people"), "people")
    chip.sign.setChecked(True)
    chip.weight.setValue(5)
    bar.filter_button.setChecked(True)
    bar.filter_bar.orientation.setCurrentIndex(1)  # Landscape
    bar.filter_bar.use_from.setChecked(True)
    bar.filter_bar.date_from.setDate(bar.filter_bar.date_from.date().addYears(-3))
    bar.submit()
    settle(app, 2500)
    shoot(window, folder, "7-mixed-query")

    bar.chips.clear()
    bar.filter_bar.clear()
    bar.filter_button.setChecked(False)
    window.results_stack.show_weaker.setChecked(False)  # type: ignore[attr-defined]
    bar.set_text("zqxv blorft")
    bar.submit()
    settle(app, 2500)
    shoot(window, folder, "8-no-good-matches")


def shoot_first_paint(app: QApplication, engine: object, base: Path, folder: Path) -> None:
    """The first frame of a launch on this library: its layout with placeholder tiles, before
    anything is read (start() is not called)."""
    from desktop_app.gui.app import app_icon
    from desktop_app.gui.main_window import MainWindow

    settings = QSettings(str(base / "first.ini"), QSettings.Format.IniFormat)
    first = MainWindow(engine, app_icon(), settings)  # type: ignore[arg-type]
    first.resize(1280, 800)
    first.show()
    settle(app, 300)
    shoot(first, folder, "0-first-paint")
    first.shutdown()
    first.hide()
    first.deleteLater()


def shoot_laptop_and_dark(app: QApplication, window: QWidget, folder: Path) -> None:
    """1024 × 700 with the filters open; then the library view in a dark palette."""
    from PySide6.QtGui import QColor, QPalette

    bar = window.search_bar  # type: ignore[attr-defined]
    bar.chips.clear()
    bar.set_text("")
    bar.submit()
    window.resize(1024, 700)
    bar.filter_button.setChecked(True)
    settle(app, 1500)
    shoot(window, folder, "10-laptop-filters")
    bar.filter_button.setChecked(False)
    light = app.palette()
    dark = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Base, "#17181a"),
        (QPalette.ColorRole.AlternateBase, "#202124"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.Button, "#2b2c2f"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
        (QPalette.ColorRole.Highlight, "#8ab4f8"),
        (QPalette.ColorRole.HighlightedText, "#202124"),
        (QPalette.ColorRole.Mid, "#5f6368"),
        (QPalette.ColorRole.PlaceholderText, "#9aa0a6"),
    ):
        dark.setColor(role, QColor(colour))
    app.setPalette(dark)
    window.browse_view.setCurrentIndex(window.browse_page.model.index(2))  # type: ignore[attr-defined]
    settle(app, 1500)
    shoot(window, folder, "11-dark")
    app.setPalette(light)
    window.resize(1280, 800)
    settle(app, 300)


def shoot_duplicates(
    app: QApplication, window: object, exports: Path, photos: Path, out: Path
) -> None:
    """Copies of a few photos (re-encoded, resized, byte-for-byte) in a second folder, then the
    duplicates window. The tiny model puts every picture far above real CLIP's thresholds, so
    the slider's stops are moved to where its copies sit."""
    from PIL import Image

    from desktop_app.gui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    exports.mkdir()
    for i in (3, 7, 11):
        source = photos / f"{2019 + i % 5}" / f"IMG_{i:04d}.jpg"
        with Image.open(source) as picture:
            picture.save(exports / f"IMG_{i:04d}-q60.jpg", quality=60)
            picture.resize((picture.width // 2, picture.height // 2)).save(
                exports / f"IMG_{i:04d}-small.jpg"
            )
        (exports / f"IMG_{i:04d}.jpg").write_bytes(source.read_bytes())
    window.add_folder(str(exports))
    wait(app, lambda: window.indexing._task is not None and window.indexing._task.isFinished())
    dialog = window.find_duplicates()
    dialog.levels = (1.0, 0.9982, 0.99)
    dialog.scan()
    wait(app, lambda: not dialog.running())
    settle(app, 1500)
    shoot(dialog, out, "9-duplicates")
    dialog.close()


if __name__ == "__main__":
    main()
