"""Snapfind against the real rclip: whole commands, same pictures, same architecture, one run.

rclip is installed from PyPI into its own virtualenv in the work folder and run as a separate
program (nothing of it is imported here). It downloads its ONNX models from a hub this machine
cannot reach, so the same random-weight ViT-B-32-256 that Snapfind imports is exported to ONNX
in the layout rclip reads from ``RCLIP_DATADIR`` (same architecture and compute as rclip's own
models; the rankings mean nothing, the timings hold). Snapfind runs from this checkout
(``python -m desktop_app``) with the model imported beforehand, as rclip's files are
downloaded beforehand: neither install is timed.

Timed, per folder size, as a person would type them (wall clock of the whole process):
index from scratch (rclip: its one command, which indexes then answers; Snapfind: its one
command ``index FOLDER``, which adds the folder and indexes it, with reading text in pictures
off (the same work) and on, and the same plus a ``search``), re-index of the unchanged folder,
a one-shot text query and a one-shot picture query on the indexed library (median of
``--repeats``), and Snapfind's first searchable picture and every picture searchable by look.
Steady images/s is the marginal rate between the two sizes. Ratios are rclip's time over
Snapfind's (above 1: Snapfind is faster).

    .venv/bin/python bench/bench_rclip.py --workdir /tmp/bench-rclip
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import venv
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401
from library_gen import generate_images
from measure import CpuClock, machine_info
from report import markdown_table, write_json

ROOT = Path(__file__).resolve().parent.parent
ARCH = "ViT-B-32-256"
RCLIP_SUBDIR = "ViT-B-32-256-datacomp_s34b_b86k"  # where rclip looks for its models
QUERY = "a dog running on a beach at sunset"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-rclip"))
    parser.add_argument("--sizes", default="400,1300", help="folder sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=5, help="one-shot queries per tool")
    parser.add_argument("--out", type=Path, default=Path("bench/results/rclip.json"))
    return parser


# -- set-up (not timed) --------------------------------------------------------------------


def _rclip(work: Path) -> Path:
    """rclip from PyPI in ``work/rclip-venv`` (installed on the first run)."""
    exe = work / "rclip-venv" / "bin" / "rclip"
    if not exe.exists():
        venv.create(work / "rclip-venv", with_pip=True)
        pip = work / "rclip-venv" / "bin" / "pip"
        subprocess.run([str(pip), "install", "-q", "rclip"], check=True)
    return exe


def _export_models(weights: str, datadir: str) -> None:
    """In a child process: the random ViT-B-32-256 (written first if missing) and its ONNX
    towers in rclip's layout (input ``input``, output ``output``, dynamic batch)."""
    import warnings

    import open_clip
    import torch
    from safetensors.torch import save_file

    if not os.path.exists(weights):
        torch.manual_seed(0)
        model = open_clip.create_model(ARCH, pretrained=None)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights + ".part")
        os.replace(weights + ".part", weights)
    model = open_clip.create_model(ARCH, pretrained=weights, weights_only=True).eval()
    target = Path(datadir) / RCLIP_SUBDIR
    target.mkdir(parents=True, exist_ok=True)
    (Path(datadir) / "tokenizer").mkdir(exist_ok=True)  # beside the model folder, not in it
    vocab = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    shutil.copyfile(vocab, Path(datadir) / "tokenizer" / vocab.name)

    class Towers(torch.nn.Module):
        def __init__(self, encode: Any) -> None:
            super().__init__()
            self.encode = encode
            self.model = model

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.encode(x)
            return out

    examples = {
        "visual.onnx": (model.encode_image, torch.zeros(1, 3, 256, 256)),
        "textual.onnx": (model.encode_text, open_clip.get_tokenizer(ARCH)(["a photo"])),
    }
    for name, (encode, example) in examples.items():
        with warnings.catch_warnings(), torch.enable_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Towers(encode),
                (example,),
                str(target / (name + ".part")),
                dynamo=False,
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                opset_version=17,
            )
        os.replace(target / (name + ".part"), target / name)


def _models(work: Path) -> tuple[Path, Path]:
    weights = work / "models" / "vit-b-32-256-random-seed0.safetensors"
    datadir = work / "rclip-models"
    needed = (weights, datadir / RCLIP_SUBDIR / "textual.onnx", datadir / "tokenizer")
    if not all(path.exists() for path in needed):
        weights.parent.mkdir(parents=True, exist_ok=True)
        code = (
            "import sys; sys.path.insert(0, sys.argv[3]); import bench_rclip; "
            "bench_rclip._export_models(sys.argv[1], sys.argv[2])"
        )
        script = [sys.executable, "-c", code, str(weights), str(datadir), str(ROOT / "bench")]
        subprocess.run(script, check=True, env=_env())
    return weights, datadir


def _pictures(work: Path, sizes: list[int]) -> dict[int, Path]:
    """The largest folder generated; smaller ones are hard links to its first pictures."""
    largest = work / f"pictures-{max(sizes)}"
    generate_images(largest, max(sizes), None, 0)
    files = sorted(largest.rglob("*.jpg"))
    folders = {}
    for size in sizes:
        folder = work / f"pictures-{size}"
        for source in files[:size]:
            target = folder / source.relative_to(largest)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(source, target)
        folders[size] = folder
    return folders


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore", PYTHONPATH=str(ROOT), **extra)
    return env


# -- the race ------------------------------------------------------------------------------


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


class _Milestones:
    """Polls a library while a command runs: when the first picture is searchable (a unit
    committed) and when every picture is (the picture set finished; the text in pictures is
    read in a later pass, after which a file counts as indexed)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.first: float | None = None
        self.all_by_look: float | None = None
        self._start = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.02) and self.all_by_look is None:
            try:
                with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=0.1) as conn:
                    now = time.perf_counter() - self._start
                    if (
                        self.first is None
                        and conn.execute("SELECT 1 FROM units LIMIT 1").fetchone()
                    ):
                        self.first = now
                    ready = "SELECT 1 FROM vector_sets WHERE space = 'clip' AND state = 'ready'"
                    if self.first is not None and conn.execute(ready).fetchone():
                        self.all_by_look = now
            except sqlite3.Error:
                continue

    def stop(self) -> tuple[float | None, float | None]:
        self._stop.set()
        self._thread.join()
        return self.first, self.all_by_look


class Snapfind:
    def __init__(self, home: Path, weights: Path) -> None:
        self.home = home
        self.env = _env()
        if not (home / "settings.json").exists():
            self.cli("models", "import", "--arch", ARCH, str(weights))

    def cli(self, *args: str) -> float:
        argv = [sys.executable, "-m", "desktop_app", "--home", str(self.home), *args]
        return _timed(argv, ROOT, self.env)

    def fresh(self) -> None:
        """A new library with the model kept installed (as rclip keeps its model files)."""
        for name in ("library.db", "library.db-wal", "library.db-shm"):
            (self.home / name).unlink(missing_ok=True)
        for name in ("indexes", "thumbnails"):
            shutil.rmtree(self.home / name, ignore_errors=True)

    def index_from_scratch(self, folder: Path, *, ocr: bool = True) -> dict[str, float | None]:
        """``ocr``: read the text in pictures too (the default); off, the same work as rclip."""
        self.fresh()
        self.cli("ocr", "on" if ocr else "off")
        milestones = _Milestones(self.home / "library.db")
        index = self.cli("index", str(folder))  # adds the folder, then indexes it
        first_batch, all_by_look = milestones.stop()
        search = self.cli("search", QUERY, "-k", "10")
        self.cli("ocr", "on")
        return {
            "index": index,
            "first_batch": first_batch,
            "all_by_look": all_by_look,
            "search": search,
        }


class Rclip:
    def __init__(self, exe: Path, datadir: Path) -> None:
        self.exe, self.datadir = exe, datadir
        self.env = _env(RCLIP_DATADIR=str(datadir))

    def run(self, folder: Path, *args: str) -> float:
        return _timed([str(self.exe), "-f", "-t", "10", *args], folder, self.env)

    def fresh(self) -> None:
        (self.datadir / "db.sqlite3").unlink(missing_ok=True)


def _median_of(run: Any, repeats: int) -> dict[str, Any]:
    run()  # the first: files into the OS cache, bytecode written; not counted
    times = [run() for _ in range(repeats)]
    return {"median": statistics.median(times), "all": times}


def race(args: argparse.Namespace) -> dict[str, Any]:
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    exe = _rclip(work)
    weights, datadir = _models(work)
    folders = _pictures(work, sizes)
    query_picture = work / "query-picture.jpg"
    if not query_picture.exists():
        from imagegen import save_scene  # type: ignore[import-not-found, unused-ignore]

        save_scene(query_picture, seed=987654, size=(1600, 1200))
    snap = Snapfind(work / "snapfind-home", weights)
    rclip = Rclip(exe, datadir)
    clock = CpuClock.now()
    results: dict[str, Any] = {}
    partial: dict[str, Any] = {}
    for size in sizes:
        folder = folders[size]
        print(f"{size} pictures: indexing from scratch", flush=True)
        rclip.fresh()
        r_index = rclip.run(folder, QUERY)
        s_plain = snap.index_from_scratch(folder, ocr=False)
        s_index = snap.index_from_scratch(folder)
        print(f"{size} pictures: re-index and one-shot queries", flush=True)
        r_again = rclip.run(folder, QUERY)
        s_again = snap.cli("index")
        s_again_search = snap.cli("search", QUERY, "-k", "10")
        text = {
            "rclip": _median_of(lambda f=folder: rclip.run(f, "-n", QUERY), args.repeats),
            "snapfind": _median_of(lambda: snap.cli("search", QUERY, "-k", "10"), args.repeats),
        }
        picture = {
            "rclip": _median_of(
                lambda f=folder: rclip.run(f, "-n", str(query_picture)), args.repeats
            ),
            "snapfind": _median_of(
                lambda: snap.cli("search", "--image", str(query_picture), "-k", "10"),
                args.repeats,
            ),
        }
        results[str(size)] = {
            "index": {"rclip": r_index, "snapfind": s_index, "snapfind_without_ocr": s_plain},
            "reindex": {"rclip": r_again, "snapfind": s_again, "snapfind_search": s_again_search},
            "text_query": text,
            "picture_query": picture,
        }
        machine = machine_info()
        machine["other_load_during_run"] = clock.other_load(CpuClock.now(), machine["cores"])
        done = [s for s in sizes if str(s) in results]
        partial = {"machine": machine, "sizes": done, "query": QUERY, "results": results}
        print(report(partial), flush=True)  # each size as soon as it is measured
        write_json(partial, args.out)
    return partial


def _at(seconds: float | None) -> str:
    return f"{seconds:.1f} s" if seconds else "n/a"


def _row(what: str, rclip_s: float, snap_s: float, note: str = "") -> tuple[str, ...]:
    return (what, f"{rclip_s:.2f} s", f"{snap_s:.2f} s", f"{rclip_s / snap_s:.2f}×", note)


def report(r: dict[str, Any]) -> str:
    m = r["machine"]
    rows = []
    for size in r["sizes"]:
        res = r["results"][str(size)]
        idx, again = res["index"], res["reindex"]
        s = idx["snapfind"]
        snap_index = s["index"]
        plain = idx.get("snapfind_without_ocr")
        t, p = res["text_query"], res["picture_query"]
        if plain:
            rows.append(
                _row(
                    f"{size}: index from scratch, same work (Snapfind OCR off)",
                    idx["rclip"],
                    plain["index"],
                    f"index FOLDER; first picture searchable at {_at(plain['first_batch'])}",
                )
            )
        rows += [
            _row(
                f"{size}: index from scratch, Snapfind also reading text in pictures",
                idx["rclip"],
                snap_index,
                f"default (OCR on); first searchable at {_at(s['first_batch'])}, all by look "
                f"at {_at(s.get('all_by_look'))}",
            ),
            _row(
                f"{size}: index from scratch + one query",
                idx["rclip"],
                snap_index + s["search"],
                "Snapfind index FOLDER + search",
            ),
            _row(
                f"{size}: re-index unchanged (+ query)",
                again["rclip"],
                again["snapfind"] + again["snapfind_search"],
                "Snapfind index + search",
            ),
            _row(
                f"{size}: one-shot text query",
                t["rclip"]["median"],
                t["snapfind"]["median"],
                f"median of {len(t['rclip']['all'])}",
            ),
            _row(
                f"{size}: one-shot picture query",
                p["rclip"]["median"],
                p["snapfind"]["median"],
                f"median of {len(p['rclip']['all'])}",
            ),
        ]
    if len(r["sizes"]) >= 2:
        low, high = (r["results"][str(s)]["index"] for s in (r["sizes"][0], r["sizes"][-1]))
        extra = r["sizes"][-1] - r["sizes"][0]

        def snap_total(i: dict[str, Any], run: str) -> float:
            return float(i[run]["index"])

        rclip_rate = extra / (high["rclip"] - low["rclip"])
        for run, label in (("snapfind_without_ocr", "OCR off"), ("snapfind", "OCR on")):
            if run not in high or run not in low:
                continue
            snap_rate = extra / (snap_total(high, run) - snap_total(low, run))
            rows.append(
                (
                    f"steady rate (between the sizes), Snapfind {label}",
                    f"{rclip_rate:.1f} img/s",
                    f"{snap_rate:.1f} img/s",
                    f"{snap_rate / rclip_rate:.2f}×",
                    "",
                )
            )
    load = m["other_load_during_run"]
    head = [
        f"Machine: {m['cpu']}, {m['cores']} cores; ViT-B-32-256 random weights for both; "
        f"query {r['query']!r}",
        f"Load from other processes: {100 * load:.0f}% of the machine"
        + (" — WARNING: timings are disturbed" if load > 0.1 else ""),
        "",
    ]
    table = markdown_table(("measure", "rclip 3.3", "Snapfind", "rclip / Snapfind", "note"), rows)
    return "\n".join([*head, table])


def main() -> int:
    args = _parser().parse_args()
    race(args)
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
