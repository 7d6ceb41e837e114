"""One cold start against a large synthetic library, in a process of its own.

Run by ``bench_scale.py`` as a child process so that the open time is a real first open (no
index already in memory) and the resident memory is the application's alone, not the
generator's. Prints one JSON object on its last line.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401  (puts the repository on sys.path)
import numpy as np
from measure import CpuClock, latency_summary, peak_rss_mb, rss_mb, timed
from model_setup import prepare_model

PHRASES = [
    "a dog running on the beach",
    "sunset over the mountains",
    "birthday cake with candles",
    "red car parked in the street",
    "children playing in the snow",
    "a plate of pasta",
    "old stone bridge over a river",
    "cat sleeping on a sofa",
    "people at a wedding",
    "city skyline at night",
    "a bowl of fruit on a table",
    "hiking trail in the forest",
    "boats in a harbour",
    "a receipt",
    "screenshot of a map",
    "flowers in a garden",
    "a man riding a bicycle",
    "fireworks",
    "whiteboard with notes",
    "a lighthouse on a cliff",
    "family dinner",
    "a baby smiling",
    "train station platform",
    "autumn leaves",
    "a passport photo",
    "aerial view of fields",
    "concert crowd with lights",
    "coffee cup on a desk",
    "a horse in a meadow",
    "snowy street with cars",
]


def _open(home: Path, loader: Any) -> tuple[Any, Any, Any, float]:
    from desktop_app.core.engine import Engine
    from desktop_app.core.kinds.base import CLIP

    start = time.perf_counter()
    engine = Engine(home, clip_loader=loader)
    vset = engine.library.searchable_set(CLIP)
    assert vset is not None, f"{home} holds no image vectors"
    index = engine.library.index_for(vset)
    return engine, vset, index, time.perf_counter() - start


def bring_root_online(home: Path) -> None:
    """Point the synthetic library's folder at a real, non-empty folder inside ``home``.

    Searches hide the files of a folder that is missing (an unplugged drive), so a library
    whose folder does not exist would answer every query with nothing, after a filtered scan.
    Libraries built before this rule named a folder that never existed: they are moved (their
    folder and file paths rewritten once, in one transaction)."""
    import sqlite3

    folder = home / "photos"
    folder.mkdir(exist_ok=True)
    (folder / "README.txt").write_text("Stands in for the synthetic library's pictures.\n")
    conn = sqlite3.connect(home / "library.db")
    with conn:
        for root_id, path in conn.execute("SELECT id, path FROM roots").fetchall():
            if path != str(folder):
                conn.execute("UPDATE roots SET path = ? WHERE id = ?", (str(folder), root_id))
                conn.execute(
                    "UPDATE files SET path = ? || substr(path, ?) WHERE root_id = ?",
                    (str(folder), len(path) + 1, root_id),
                )
    conn.close()


def _library_files(home: Path) -> list[Path]:
    return [home / "library.db", *sorted((home / "indexes").glob("*.hnsw*"))]


def _read(path: Path) -> None:
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass


def _recall(index: Any, queries: np.ndarray, truth: np.ndarray, ef: int) -> dict[str, float]:
    index.params = replace(index.params, ef_search=ef)
    hits, times = 0, []
    for q, true in zip(queries, truth, strict=True):
        elapsed, found = timed(index.search, q, 10, exact=False)
        times.append(elapsed)
        hits += len({lb for lb, _ in found} & set(true[:10].tolist()))
    return {"ef": ef, "recall_at_10": hits / (10 * len(queries)), **latency_summary(times)}


def probe(args: argparse.Namespace) -> dict[str, Any]:
    from desktop_app.core.searching import relevance
    from desktop_app.core.searching.ranking import rank

    out: dict[str, Any] = {}
    choice = prepare_model(args.model, args.workdir / "models", args.home, args.threads)
    # The open is timed with the files in the OS cache (read once here), as on a machine where
    # the app ran recently; reading them is timed too, as the floor a cold disk adds to.
    bring_root_online(args.home)
    out["read_files_s"] = sum(timed(_read, p)[0] for p in _library_files(args.home))
    clock = CpuClock.now()
    engine, vset, index, out["open_s"] = _open(args.home, choice.loader)
    out["rss_after_open_mb"] = rss_mb()
    out["vectors"] = len(index)
    out["graph"] = vars(index.graph_params()) | {"default_ef": index.params.ef_search}
    out["summary_query_s"], _ = timed(engine.library.reader().label_summary, vset.id)
    out["model_load_s"], clip = timed(engine.encoders.clip)
    out["rss_after_model_mb"] = rss_mb()
    out["first_text_query_s"], _ = timed(engine.search, "a photo taken on holiday", 20)
    texts: dict[str, Any] = {}
    for k in (20, 500):  # 500: what the GUI asks for
        texts[f"k{k}"] = latency_summary([timed(engine.search, p, k)[0] for p in PHRASES])
    texts["encode_only"] = latency_summary([timed(clip.embed_texts, [p])[0] for p in PHRASES])
    queries, truth = np.load(args.queries), np.load(args.truth)
    reader = engine.library.reader()
    # Relevance as a words query gets it: against the neutral prompts (their vectors cached).
    neutral = clip.embed_texts(list(relevance.NEUTRAL_PROMPTS["clip"]))
    scale = clip.logit_scale

    def calibrate(scores: np.ndarray, labels: list[int]) -> np.ndarray:
        return relevance.against_neutral(scores, index.vectors(labels), neutral, scale)

    for k in (20, 500):
        texts[f"ann_and_metadata_k{k}"] = latency_summary(
            [timed(rank, reader, vset.id, index, q, k, calibrate)[0] for q in queries[:100]]
        )
    out["text"] = texts
    default_ef = index.params.ef_search
    out["recall"] = [_recall(index, queries, truth, ef) for ef in args.ef]
    index.params = replace(index.params, ef_search=default_ef)
    if args.jpeg:
        data = args.jpeg.read_bytes()
        engine.search_image(data, 20)  # warm-up
        out["image_query"] = latency_summary(
            [timed(engine.search_image, data, 20)[0] for _ in range(10)]
        )
    out["rss_end_mb"], out["peak_rss_mb"] = rss_mb(), peak_rss_mb()
    out["other_load"] = clock.other_load(CpuClock.now(), os.cpu_count() or 1)
    out["load_average"] = os.getloadavg()
    engine.close()
    # The same open without the index's state file: the full label-by-label repair, as every
    # open did before the state file (the writer then puts the state file back).
    state = index.state_path
    if state.exists():
        state.unlink()
        engine, _, _, out["open_full_repair_s"] = _open(args.home, choice.loader)
        engine.close()
        assert state.exists()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--jpeg", type=Path)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--ef", type=int, nargs="+", default=[64, 128, 256])
    args = parser.parse_args()
    result = probe(args)
    sys.stdout.write(json.dumps(result) + os.linesep)


if __name__ == "__main__":
    main()
