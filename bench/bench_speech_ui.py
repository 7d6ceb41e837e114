"""How late the window's event loop runs while recordings are transcribed in the background.

Like ``bench_ui_latency.py``, for the speech pass: the real MainWindow indexes a folder of
copies of the committed espeak-ng recordings with the bundled Whisper tiny.en (its default
thread count: half the cores) while a 10 ms timer ticks; the report is how much later than
10 ms each tick came, for the ticks during transcription (goal: p99 under 50 ms). Pictures use
the tests' tiny CLIP, so that the load measured is the transcription's.

    .venv/bin/python bench/bench_speech_ui.py [--copies 3]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_env  # noqa: F401  (sys.path and offline hub)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=3, help="copies of each fixture")
    args = parser.parse_args()
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from audiogen import FIXTURES, scripts
    from tiny_model import ARCH, write_tiny_model

    from desktop_app.core.encoders.catalog import ClipSpec
    from desktop_app.core.encoders.clip import OpenClipEncoder
    from desktop_app.core.engine import Engine
    from desktop_app.gui.app import app_icon
    from desktop_app.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "recordings"
        folder.mkdir()
        for copy in range(args.copies):
            for name in scripts():
                shutil.copy(FIXTURES / name, folder / f"{copy} {name}")
        _, weights = write_tiny_model(Path(tmp))
        clip = OpenClipEncoder(ClipSpec(f"open_clip:{ARCH}/bench", ARCH, weights, {}, "tiny"))
        engine = Engine(Path(tmp) / "home", clip_loader=lambda: clip)
        settings = QSettings(str(Path(tmp) / "gui.ini"), QSettings.Format.IniFormat)
        window = MainWindow(engine, app_icon(), settings)
        window.show()
        gaps: list[float] = []
        last = [time.perf_counter()]
        transcribing = [False]
        window.indexing_status.show_progress = _watch(  # type: ignore[method-assign]
            window.indexing_status.show_progress, transcribing
        )

        def tick() -> None:
            now = time.perf_counter()
            if transcribing[0]:
                gaps.append(now - last[0])
            last[0] = now

        timer = QTimer()
        timer.timeout.connect(tick)
        timer.start(10)
        started = time.perf_counter()
        finished = [False]
        window.indexing.finished.connect(lambda: finished.__setitem__(0, True))
        window.add_folder(str(folder))
        while not finished[0]:
            app.processEvents()
            time.sleep(0.002)
        timer.stop()
        took = time.perf_counter() - started
        window.indexing.shutdown()
        window.close()
        engine.close()
    late = sorted(max(0.0, gap - 0.010) * 1000 for gap in gaps)
    print(f"indexed {args.copies * len(scripts())} recordings in {took:.1f} s")
    print(
        f"event-loop lateness while transcribing (ms, n={len(late)}): "
        f"p50 {statistics.median(late):.1f}, p95 {late[int(len(late) * 0.95)]:.1f}, "
        f"p99 {late[int(len(late) * 0.99)]:.1f}, max {late[-1]:.1f}"
    )


def _watch(show: "object", transcribing: list[bool]) -> "object":
    def shown(progress: "object") -> None:
        transcribing[0] = getattr(progress, "phase", "") == "recordings" and (
            getattr(progress, "done", 0) < getattr(progress, "total", 0)
        )
        show(progress)  # type: ignore[operator]

    return shown


if __name__ == "__main__":
    main()
