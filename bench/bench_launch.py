"""The desktop app as a person meets it: launch → first paint, launch → first search answered,
quit → process gone. Whole processes of the real ``snapfind`` entry point (``gui.app.main``).

The library (``--pictures`` generated JPEGs) is indexed with the tests' tiny random CLIP,
imported as a model file, so the app loads a real open_clip model of the real code path (torch
included) but the numbers do not depend on a model hub. Offscreen by default; under Xvfb
when DISPLAY is set. Each launch: the query is typed at the first paint (as a person typing
at once would), "answered" is the results grid's first paint after the answer, and "quit" is
from the window's close to the process's exit.

    .venv/bin/python bench/bench_launch.py --runs 5
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

_PROBE = """
import json, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
marks = {}

def window():
    return next(w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow")

def say(name):
    marks[name] = time.time()
    print(json.dumps({name: marks[name]}), flush=True)

class Spy(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            if "paint" not in marks and type(obj).__name__ == "MainWindow":
                say("paint")
                QTimer.singleShot(0, type_query)
            elif "answer" in marks and "answered" not in marks:
                w = window()
                if obj is w.results_view.viewport() and w.results_model.rowCount():
                    say("answered")
                    QTimer.singleShot(0, quit_now)
        return False

def type_query():
    w = window()
    w.searcher.results.connect(lambda hits: marks.setdefault("answer", time.time()))
    w.search_bar.set_text("a red square on a blue sky")
    w.search_bar.submit()

def quit_now():
    say("quit")
    window().close()

spy = Spy()
app.installEventFilter(spy)
from desktop_app.gui.app import main
sys.argv = ["snapfind", "--home", sys.argv[1]]
main()  # as the installed command runs it
"""


def build(base: Path, pictures: int) -> Path:
    from imagegen import save_scene
    from tiny_model import ARCH, write_tiny_model

    from desktop_app.core.engine import Engine

    config, weights = write_tiny_model(base / "model")
    photos = base / "photos"
    for i in range(pictures):
        save_scene(photos / f"img{i:05d}.jpg", seed=i, size=(320, 240))
    home = base / "home"
    with Engine(home) as engine:
        engine.import_model(ARCH, weights, config)
        engine.add_root(str(photos))
        for _ in engine.index():
            pass
    return home


def launch(home: Path, code: Path = REPO) -> dict[str, float]:
    """One launch of the app whose ``desktop_app`` is in ``code``."""
    env = dict(os.environ, PYTHONPATH=str(code), XDG_CONFIG_HOME=str(home / "config"))
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(home)],
        capture_output=True,
        text=True,
        cwd=code,  # `python -c` imports from the working folder first
        env=env,
        timeout=120,
    )
    ended = time.time()
    marks: dict[str, float] = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            marks.update(json.loads(line))
    if not {"paint", "answered", "quit"} <= marks.keys():
        raise SystemExit(f"the probe failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return {
        "first_paint_s": marks["paint"] - started,
        "search_answered_s": marks["answered"] - started,
        "quit_s": ended - marks["quit"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pictures", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a folder holding another version's desktop_app (e.g. `git archive REF "
        "desktop_app resources | tar -x -C DIR`): launches alternate between the two and the "
        "ratios are printed (a loaded machine moves both alike)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = build(Path(tmp), args.pictures)
        runs, base = [], []
        for _ in range(args.runs):
            runs.append(launch(home))
            if args.baseline:
                base.append(launch(home, args.baseline))
    for key in runs[0]:
        values = [r[key] for r in runs]
        shown = ", ".join(f"{v:.2f}" for v in values)
        line = f"{key}: median {statistics.median(values):.2f} s ({shown})"
        if base:
            before = statistics.median(r[key] for r in base)
            line += f"; baseline {before:.2f} s, ratio {statistics.median(values) / before:.2f}"
        print(line)


if __name__ == "__main__":
    main()
