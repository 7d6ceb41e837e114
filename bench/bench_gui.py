"""GUI latency: cold start to window shown, and query typed to first thumbnails painted.

Runs offscreen (or under Xvfb if DISPLAY is set). The library is generated (small JPEGs) and
indexed with the tests' tiny random CLIP, so the numbers measure the app, not the model:
search latency with ViT-B-32 adds its text tower (about 55 ms on 2 cores, see
``bench_index.py``).

    .venv/bin/python bench/bench_gui.py --images 5000
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

_START_PROBE = """
import sys
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QSettings, QTimer
app = QApplication(sys.argv[:1])
from desktop_app.core.engine import Engine
from desktop_app.gui.app import app_icon
from desktop_app.gui.main_window import MainWindow
engine = Engine(sys.argv[1])
window = MainWindow(engine, app_icon(), QSettings(sys.argv[2], QSettings.Format.IniFormat))
window.show()
QTimer.singleShot(0, app.quit)
app.exec()
window.shutdown()
engine.close()
"""


def cold_start(home: Path, runs: int) -> list[float]:
    """Seconds from interpreter start to the window's first event-loop turn (process wall)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", _START_PROBE, str(home), str(home / "gui.ini")],
            capture_output=True,
            check=True,
            cwd=REPO,
        )
        times.append(time.perf_counter() - started)
    return times


def build_library(base: Path, images: int) -> tuple[Path, Path, Path]:
    from imagegen import save_scene
    from tiny_model import write_tiny_model

    config, weights = write_tiny_model(base / "model")
    photos = base / "photos"
    for i in range(images):
        save_scene(photos / f"{i // 500:02d}" / f"img{i:05d}.jpg", seed=i, size=(160, 120))
    return photos, config, weights


def query_to_thumbnails(home: Path, photos: Path, queries: list[str]) -> list[float]:
    """Seconds from the last key typed to the first results' thumbnails painted."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.engine import Engine
    from desktop_app.gui.app import app_icon
    from desktop_app.gui.main_window import MainWindow
    from desktop_app.gui.thumbnails import placeholder

    app = QApplication.instance() or QApplication(sys.argv[:1])
    engine = Engine(home)
    window = MainWindow(
        engine, app_icon(), QSettings(str(home / "q.ini"), QSettings.Format.IniFormat)
    )
    window.resize(1280, 800)
    window.show()
    window.refresh_library()
    engine.encoders.clip()  # the model stays warm after the first search; measure warm queries
    engine.search("warm up", 5)
    blank = placeholder(window.results_view.zoom()).toImage()
    times = []
    for text in queries:
        window.thumbnails.clear()
        window.search_bar.edit.clear()
        window.results_model.set_hits([])
        app.processEvents()
        for char in text:
            window.search_bar.edit.insert(char)
            window.search_bar._typed(text)
        typed = time.perf_counter()
        deadline = typed + 30
        while time.perf_counter() < deadline:
            app.processEvents()
            model = window.results_model
            if model.rowCount() and all(
                model.data(model.index(r), 1).toImage() != blank  # DecorationRole
                for r in range(min(6, model.rowCount()))
            ):
                window.results_view.viewport().repaint()
                break
            time.sleep(0.001)
        times.append(time.perf_counter() - typed)
    window.close()
    engine.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "gui.json")
    args = parser.parse_args()
    from tiny_model import ARCH

    from desktop_app.core.engine import Engine

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        started = time.perf_counter()
        photos, config, weights = build_library(base, args.images)
        print(f"generated {args.images} images in {time.perf_counter() - started:.0f} s")
        home = base / "home"
        with Engine(home) as engine:
            engine.import_model(ARCH, weights, config)
            engine.add_root(photos)
            started = time.perf_counter()
            for _ in engine.index():
                pass
            print(f"indexed in {time.perf_counter() - started:.0f} s")
        starts = cold_start(home, args.runs)
        queries = [
            "a red car",
            "mountains at dusk",
            "birthday cake",
            "a cat on a sofa",
            "city lights at night",
        ][: args.runs]
        latencies = query_to_thumbnails(home, photos, queries)
    result = {
        "images": args.images,
        "cold_start_s": {"median": statistics.median(starts), "all": starts},
        "typed_to_thumbnails_s": {"median": statistics.median(latencies), "all": latencies},
    }
    print(
        f"| cold start to window shown (process wall, median of {len(starts)}) | "
        f"{result['cold_start_s']['median']:.2f} s |"
    )
    print(
        f"| last key typed to first 6 thumbnails painted, {args.images} images (median) | "
        f"{result['typed_to_thumbnails_s']['median'] * 1000:.0f} ms (includes the 250 ms "
        "typing debounce) |"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), "utf-8")


if __name__ == "__main__":
    main()
