"""The library view at scale: open it at 100,000 pictures, fling through it, jump across it.

The library is made cheaply: ``--sources`` real JPEGs, and ``--pictures`` rows in the real
database that share their content hashes (so every tile's thumbnail comes from the real disk
cache and is decoded, scaled and cropped as in use), dated over ten years. The real
MainWindow shows it (offscreen, or under Xvfb when DISPLAY is set). Reported:

- open: seconds from asking for the library view to its first paint (timeline read, layout);
- fling: per-frame paint time while scrolling at a decaying 12,000 px/s, as a flick of a
  touchpad does, with thumbnails arriving meanwhile (p50/p95/max, frames over 16.7 ms);
- jump: dragging the scroll bar to a far place, time to the first paint and until every
  tile on screen shows its picture.

    .venv/bin/python bench/bench_browse.py --pictures 100000
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

FRAME_S = 1 / 60


def build(home: Path, photos: Path, pictures: int, sources: int) -> None:
    """``pictures`` indexed rows over ``sources`` real files' thumbnails."""
    from imagegen import save_scene

    from desktop_app.core import paths
    from desktop_app.core.engine import Engine
    from desktop_app.core.thumbnails import thumbnail

    engine = Engine(home)
    photos.mkdir(parents=True)
    root = engine.add_root(str(photos))
    cache = engine.library.thumbnail_dir
    hashes = []
    for i in range(sources):
        source = save_scene(photos / f"src{i:04d}.jpg", seed=i, size=(640, 480))
        content_hash = f"{i:032x}"
        thumbnail(cache, str(source), content_hash, 256)
        hashes.append(content_hash)
    now = time.time()
    span = 10 * 365 * 86400
    rows = [
        (
            root.id,
            paths.to_db(str(photos / "virtual" / f"{i // 1000:03d}" / f"IMG_{i:06d}.jpg")),
            200_000,
            int((now - span * i / pictures) * 1e9),
            hashes[i % sources],
            "image",
            640,
            480,
            now - span * i / pictures,
            "Bench camera",
            "indexed",
            None,
            now,
        )
        for i in range(pictures)
    ]
    with engine.library.store.transaction() as conn:
        conn.executemany(
            "INSERT INTO files (root_id, path, size, mtime_ns, hash, kind, width, height, "
            "taken_at, camera, status, error, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    engine.close()


def measure(home: Path, pictures: int) -> dict[str, float]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.engine import Engine
    from desktop_app.gui.app import app_icon
    from desktop_app.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    engine = Engine(home)
    window = MainWindow(
        engine, app_icon(), QSettings(str(home / "b.ini"), QSettings.Format.IniFormat)
    )
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    view, model = window.browse_view, window.browse_page.model
    started = time.perf_counter()
    window.refresh_library()  # not start(): an index run would drop the made-up rows
    window.refresh_results()
    while model.rowCount() < pictures:
        app.processEvents()
        time.sleep(0.001)
    view.viewport().repaint()
    opened = time.perf_counter() - started
    settle(app, window, 3)

    frames: list[float] = []
    bar = view.verticalScrollBar()
    velocity = 12_000.0  # px/s
    while velocity > 200:
        tick = time.perf_counter()
        bar.setValue(int(bar.value() + velocity * FRAME_S))
        view.viewport().repaint()
        app.processEvents()  # thumbnails that arrived meanwhile
        took = time.perf_counter() - tick
        frames.append(took)
        if took < FRAME_S:
            time.sleep(FRAME_S - took)
        velocity *= 0.985
    scrolled = bar.value()

    blank_before = len(window.thumbnails._pixmaps)
    tick = time.perf_counter()
    bar.setValue(bar.maximum() // 2)
    view.viewport().repaint()
    jump_paint = time.perf_counter() - tick
    visible = visible_rows(view)
    cached = window.thumbnails._pixmaps
    while not all(model.hit(r) and cached.get(model.file_id(r)) for r in visible):
        if time.perf_counter() - tick > 30:
            break
        app.processEvents()
        time.sleep(0.002)
    view.viewport().repaint()
    jump_pictures = time.perf_counter() - tick
    window.close()
    engine.close()
    slow = sum(f > FRAME_S for f in frames)
    ordered = sorted(frames)
    return {
        "pictures": pictures,
        "open_s": opened,
        "fling_frames": len(frames),
        "fling_px": scrolled,
        "frame_ms_p50": statistics.median(frames) * 1000,
        "frame_ms_p95": ordered[int(len(ordered) * 0.95)] * 1000,
        "frame_ms_max": ordered[-1] * 1000,
        "frames_over_16ms": slow,
        "jump_first_paint_ms": jump_paint * 1000,
        "jump_all_pictures_s": jump_pictures,
        "visible_tiles": len(visible),
        "cached_before_jump": blank_before,
    }


def visible_rows(view: object) -> list[int]:
    from PySide6.QtCore import QPoint

    from desktop_app.gui.timeline_view import TimelineView

    assert isinstance(view, TimelineView)
    rows = []
    port = view.viewport().rect()
    for y in range(0, port.height(), 20):
        for x in range(0, port.width(), 20):
            index = view.indexAt(QPoint(x, y))
            if index.isValid():
                rows.append(index.row())
    return sorted(set(rows))


def settle(app: object, window: object, seconds: float) -> None:
    from PySide6.QtWidgets import QApplication

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pictures", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        made = time.perf_counter()
        build(base / "home", base / "photos", args.pictures, args.sources)
        print(f"built {args.pictures} rows in {time.perf_counter() - made:.1f} s", flush=True)
        result = measure(base / "home", args.pictures)
    for key, value in result.items():
        print(f"{key}: {value:.1f}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    main()
