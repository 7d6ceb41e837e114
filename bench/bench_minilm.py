"""The document model's numpy path against sentence-transformers: query and batch speed, and
the whole one-shot ``snapfind-cli search`` on a library of notes and pictures, with and
without torch.

    .venv/bin/python bench/bench_minilm.py [--notes 50] [--pictures 50] [--workdir DIR]

The torch side of the one-shot command is the same code with the numpy path refused (as for a
model folder it cannot run), so the two differ only in how the query is embedded.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_env  # first: the repository and tests/ on sys.path, offline)

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread each, numpy and torch
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["PYTHONPATH"] = str(bench_env.REPO)  # the child CLIs run this checkout's code

TOPICS = ["sailing", "taxes", "bread", "dogs", "gardening", "python", "poetry", "meetings"]
QUERIES = [f"notes about {t}" for t in TOPICS] + ["a dog on a beach at sunset", "word " * 60]


def _median_ms(run: object, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def models_in_process() -> None:
    import torch

    from desktop_app.core.encoders.minilm_numpy import NumpyMiniLM
    from desktop_app.core.encoders.text import SentenceTransformerEncoder, bundled_minilm_dir

    torch.set_num_threads(1)
    ours, theirs = NumpyMiniLM(bundled_minilm_dir()), SentenceTransformerEncoder()
    chunks = [
        " ".join(f"Some thoughts on {TOPICS[(i + j) % 8]} number {j}." for j in range(i % 30 + 3))
        for i in range(64)
    ]
    print("| measure | numpy | sentence-transformers | ratio |\n|---|---|---|---|")
    for label, texts in [("one short query", QUERIES[:1]), ("a 60-word query", QUERIES[-1:])]:
        a = _median_ms(lambda t=texts: ours.embed_texts(t))
        b = _median_ms(lambda t=texts: theirs.embed_texts(t))
        print(f"| {label}, ms | {a:.1f} | {b:.1f} | {b / a:.2f}× |")
    a = _median_ms(lambda: [ours.embed_texts(chunks[i : i + 16]) for i in range(0, 64, 16)], 3)
    b = _median_ms(lambda: [theirs.embed_texts(chunks[i : i + 16]) for i in range(0, 64, 16)], 3)
    print(
        f"| 64 chunks in batches of 16, chunks/s | {64e3 / a:.1f} | {64e3 / b:.1f} | {b / a:.2f}× |"
    )


def build_library(work: Path, notes: int, pictures: int) -> Path:
    from imagegen import save_scene  # type: ignore[import-not-found, unused-ignore]  # tests/
    from tiny_model import (  # type: ignore[import-not-found, unused-ignore]
        ARCH,
        write_tiny_model,
    )

    home, folder = work / "home", work / "things"
    if (home / "library.db").exists():
        return home
    for i in range(pictures):
        save_scene(folder / f"img{i}.jpg", seed=i)
    for i in range(notes):
        topic = TOPICS[i % len(TOPICS)]
        text = f"# Note {i} about {topic}\n\n" + f"Some thoughts on {topic}, number {i}. " * 5
        (folder / f"note{i}.md").write_text(text, "utf-8")
    config, weights = write_tiny_model(work / "model")
    for args in (
        ["models", "import", "--arch", ARCH, "--config", str(config), str(weights)],
        ["add", str(folder)],
        ["index"],
    ):
        subprocess.run(_cli(home, args), check=True, capture_output=True)
    return home


def _cli(home: Path, args: list[str], *, numpy_path: bool = True) -> list[str]:
    """The CLI in a fresh interpreter; it says on stderr, last, whether torch was imported."""
    lines = ["import sys"]
    if not numpy_path:  # as for a model folder the numpy pass cannot run
        lines += ["import desktop_app.core.encoders.text as t", "t.read_recipe = lambda d: None"]
    lines += [
        "from desktop_app.cli import main",
        "rc = main(sys.argv[1:])",
        "sys.stderr.write(f\"\\ntorch={'torch' in sys.modules}\\n\")",
        "sys.exit(rc)",
    ]
    return [sys.executable, "-c", "\n".join(lines), "--home", str(home), *args]


def one_shot(home: Path) -> None:
    print('\n| one-shot `snapfind-cli search "notes about sailing"` | median of 5, s | torch |')
    print("|---|---|---|")
    for label, numpy_path in [("numpy MiniLM", True), ("sentence-transformers", False)]:
        command = _cli(home, ["search", "notes about sailing", "-k", "10"], numpy_path=numpy_path)
        subprocess.run(command, check=True, capture_output=True)  # warm: caches, verdicts
        times, said = [], ""
        for _ in range(5):
            start = time.perf_counter()
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            said = done.stderr.split()[-1]
        print(f"| {label} | {statistics.median(times):.2f} | {said.removeprefix('torch=')} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=50)
    parser.add_argument("--pictures", type=int, default=50)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    models_in_process()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        one_shot(build_library(work, args.notes, args.pictures))


if __name__ == "__main__":
    main()
