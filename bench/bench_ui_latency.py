"""How late the window's event loop runs while the app indexes in the background.

A 10 ms timer ticks in the real MainWindow while it indexes a folder; the report is how much
later than 10 ms each tick came (p50/p95/p99/max). Something typed into the search bar
midway runs a search too. Use ViT-B-32-sized weights so the indexing load is real, e.g. the
random ones ``bench_index.py --model vit-b-32-random --workdir W`` leaves in ``W/models``:

    .venv/bin/python bench/bench_ui_latency.py \\
        --weights W/models/vit-b-32-random-seed0.safetensors \\
        --folder W/library-200-40-mixed-seed0
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weights", type=Path, required=True, help="ViT-B-32 safetensors file")
    parser.add_argument("--folder", type=Path, required=True, help="folder to index (read only)")
    args = parser.parse_args()
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from desktop_app.core.encoders.catalog import ClipSpec, preset, preset_preprocess
    from desktop_app.core.encoders.clip import OpenClipEncoder
    from desktop_app.core.engine import Engine
    from desktop_app.gui.app import app_icon
    from desktop_app.gui.main_window import MainWindow

    vit = preset("ViT-B-32")
    clip = OpenClipEncoder(
        ClipSpec("bench:ViT-B-32", vit.arch, args.weights, preset_preprocess(vit), "ViT-B-32")
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "home", clip_loader=lambda: clip)
        settings = QSettings(str(Path(tmp) / "gui.ini"), QSettings.Format.IniFormat)
        window = MainWindow(engine, app_icon(), settings)
        window.show()
        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        timer = QTimer()
        timer.timeout.connect(tick)
        timer.start(10)
        started = time.perf_counter()
        window.add_folder(str(args.folder))
        while window._task is None or not window._task.isFinished():
            app.processEvents()
            time.sleep(0.002)
            if len(gaps) == 300:  # type while indexing
                window.search_bar.edit.insert("a dog on a beach")
                window.search_bar.submit()
        timer.stop()
        took = time.perf_counter() - started
        window.close()
        engine.close()
    late = sorted(max(0.0, gap - 0.010) * 1000 for gap in gaps)
    print(f"indexed {args.folder} in {took:.1f} s")
    print(
        f"event-loop lateness (ms, n={len(late)}): p50 {statistics.median(late):.1f}, "
        f"p95 {late[int(len(late) * 0.95)]:.1f}, p99 {late[int(len(late) * 0.99)]:.1f}, "
        f"max {late[-1]:.1f}"
    )


if __name__ == "__main__":
    main()
