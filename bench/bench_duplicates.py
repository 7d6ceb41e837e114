"""Benchmark "Find duplicates": how well the groups match planted copies, and how long the
neighbour graph + union-find takes at 10k and 100k pictures.

Quality. A generated photo library (seeded photo-like JPEGs of mixed sizes, as ``bench_index``
makes) in which some originals get planted copies in another folder: re-encoded at JPEG quality
60, resized to half, cropped by 5 % on each side, and byte-for-byte copies. It is indexed through
the real ``Engine`` with each model asked for, then grouped at each named level and at a sweep
of cosine thresholds. Precision and recall are pairwise: every pair of pictures inside one
predicted group is a predicted pair; every pair inside one planted family is a true pair.

No real CLIP weights can be fetched here, and random weights make all pictures look alike
(two unrelated photos sit at cosine ≈ 0.9), so the named levels, set for real CLIP, are not
expected to fit them. The report therefore also gives, per model, the cosines of the planted
copies against each original's nearest *unrelated* picture, and the best threshold of the
sweep: that separates "does the grouping recover the copies when the threshold suits the
model" (the algorithm) from "where do the copies sit on this model's scale" (the calibration).

Speed. Synthetic clustered 512-d unit vectors (photo libraries are clumpy; uniform random
vectors are a pathological ANN case) with 1 % planted near-copies (cosine 0.985) and 0.5 %
exact copies (same content hash), stored and indexed through the real ``Store`` and
``HnswBackend`` (``tests/vector_library.py``), then ``find_groups`` timed end to end (read the
vectors from SQLite, batched kNN queries, union-find, describe the groups), warm index, median
of the repeats. Libraries are kept in ``--workdir`` to be reused.

    .venv/bin/python bench/bench_duplicates.py --workdir /tmp/bench-work
    .venv/bin/python bench/bench_duplicates.py --models tiny --sizes 10000 --originals 300
"""

import argparse
import itertools
import multiprocessing
import os
import shutil
import statistics
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import bench_env  # first: the repository and tests/ on sys.path, Hugging Face offline
import numpy as np
from library_gen import MIXED_SIZES, make_photos
from measure import CpuClock, machine_info
from model_setup import TINY, VIT_RANDOM, prepare_model
from PIL import Image
from report import markdown_table, write_json
from vector_library import clustered, nudge, vector_library  # type: ignore[import-not-found]

from desktop_app.core.db.library import Library
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import CLIP
from desktop_app.core.searching.duplicates import LEVELS, Report, find_groups

DEFAULT_OUT = bench_env.REPO / "bench" / "results" / "bench_duplicates.json"
TRANSFORMS = ("q60", "half", "crop", "copy")
SWEEP = (1.0, 0.999, 0.998, 0.995, 0.99, 0.98, 0.97, 0.95, 0.93, 0.90)


# -- the planted library ---------------------------------------------------------------------


def _plant(task: tuple[str, str, tuple[str, ...]]) -> None:
    """Write the copies of one original (in a child process)."""
    source, target_dir, kinds = task
    stem = Path(source).stem
    os.makedirs(target_dir, exist_ok=True)
    with Image.open(source) as opened:
        picture = opened.convert("RGB")
    w, h = picture.size
    for kind in kinds:
        target = os.path.join(target_dir, f"{stem}-{kind}.jpg")
        if os.path.exists(target):
            continue
        if kind == "copy":
            shutil.copyfile(source, target)
        elif kind == "q60":
            picture.save(target, "JPEG", quality=60)
        elif kind == "half":
            picture.resize((w // 2, h // 2), Image.Resampling.LANCZOS).save(target, quality=90)
        elif kind == "crop":
            dx, dy = w // 20, h // 20
            picture.crop((dx, dy, w - dx, h - dy)).save(target, "JPEG", quality=90)


def planted_library(folder: Path, originals: int, planted: int, seed: int) -> None:
    """``originals`` photos in ``folder/photos``; the first ``planted`` get copies in
    ``folder/exports``: all get q60/half/crop copies, every fourth also a byte copy."""
    import random

    rng = random.Random(seed)
    tasks = []
    for i in range(originals):
        w, h = rng.choice(MIXED_SIZES)
        size = (h, w) if rng.random() < 0.25 else (w, h)
        tasks.append((str(folder / "photos" / f"f{i:05d}.jpg"), seed * 1_000_003 + i, size, True))
    make_photos(tasks)
    copies = [
        (tasks[i][0], str(folder / "exports"), TRANSFORMS if i % 4 == 0 else TRANSFORMS[:3])
        for i in range(planted)
    ]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=spawn) as pool:
        list(pool.map(_plant, copies, chunksize=4))


def family(path: str) -> str:
    return Path(path).stem.split("-")[0]


def pairs_of(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for g in groups for p in itertools.combinations(g, 2)}  # type: ignore[misc]


def score(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    hit = len(predicted & truth)
    precision = hit / len(predicted) if predicted else 1.0
    recall = hit / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs": len(predicted)}


def cosine_stats(engine: Engine) -> dict[str, Any]:
    """Cosines of planted copies to their original, and of each original to its nearest
    unrelated picture: where copies and strangers sit on this model's scale."""
    store = engine.library.reader()
    vset = engine.library.searchable_set(CLIP)
    assert vset is not None
    _, file_ids, _, _, matrix = store.vectors_with_files(vset.id, "image")
    matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    records = store.files(int(f) for f in file_ids)
    names = [Path(records[int(f)].path).stem for f in file_ids]
    fam = np.array([n.split("-")[0] for n in names])
    position = {n: i for i, n in enumerate(names)}
    out: dict[str, Any] = {}
    for kind in TRANSFORMS:
        cos = [
            float(matrix[i] @ matrix[position[n.split("-")[0]]])
            for i, n in enumerate(names)
            if n.endswith("-" + kind)
        ]
        if cos:
            out[kind] = {"min": min(cos), "median": statistics.median(cos)}
    sims = matrix @ matrix.T
    sims[fam[:, None] == fam[None, :]] = -1.0
    nearest = sims.max(axis=1)
    out["nearest_unrelated"] = {
        "median": float(np.median(nearest)),
        "p99": float(np.percentile(nearest, 99)),
        "max": float(nearest.max()),
    }
    return out


def quality(args: argparse.Namespace, model: str) -> dict[str, Any]:
    folder = args.workdir / f"dups-library-{args.originals}-{args.planted}-seed{args.seed}"
    planted_library(folder, args.originals, args.planted, args.seed)
    home = args.workdir / f"dups-home-{model}-{args.originals}-{args.planted}"
    shutil.rmtree(home, ignore_errors=True)
    choice = prepare_model(model, args.workdir / "models", home, None)
    files = sorted(str(p) for p in folder.rglob("*.jpg"))
    by_family: dict[str, list[str]] = defaultdict(list)
    for path in files:
        by_family[family(path)].append(path)
    truth = pairs_of(list(by_family.values()))
    with Engine(home, clip_loader=choice.loader) as engine:
        engine.add_root(folder)
        start = time.perf_counter()
        list(engine.index())
        index_s = time.perf_counter() - start
        rows = []
        for threshold in sorted(set(SWEEP) | set(LEVELS.values()), reverse=True):
            groups = engine.duplicates(threshold)
            predicted = pairs_of([[m.path for m in g.members] for g in groups])
            result = score(predicted, truth)
            original = {family(p): p for p in files if "-" not in Path(p).stem}
            per_kind = {}
            for kind in TRANSFORMS:
                planted = [p for p in files if p.endswith(f"-{kind}.jpg")]
                found = sum(tuple(sorted((original[family(p)], p))) in predicted for p in planted)
                per_kind[kind] = found / len(planted) if planted else None
            level = next((n for n, v in LEVELS.items() if v == threshold), None)
            rows.append(
                {
                    "threshold": threshold,
                    "level": level,
                    "groups": len(groups),
                    **result,
                    "recall_by_copy": per_kind,
                }
            )
        stats = cosine_stats(engine)
    return {
        "model": choice.label,
        "note": choice.note,
        "pictures": len(files),
        "true_pairs": len(truth),
        "index_s": index_s,
        "cosines": stats,
        "thresholds": rows,
    }


# -- speed -----------------------------------------------------------------------------------


def synthetic(count: int, seed: int) -> tuple[np.ndarray, list[str], set[tuple[int, int]]]:
    """Clustered vectors; 1 % of rows are near-copies (0.985) of another row, 0.5 % exact
    copies (same hash and vector). Returns (vectors, hashes, planted pairs of rows)."""
    rng = np.random.default_rng(seed)
    vectors = clustered(count, 512, clusters=max(1, count // 20), spread=0.6, seed=seed)
    hashes = [f"h{i}" for i in range(count)]
    planted: set[tuple[int, int]] = set()
    rows = rng.permutation(count)
    near, exact = rows[: count // 50].reshape(-1, 2), rows[count // 50 : count // 50 + count // 100]
    for a, b in near:
        vectors[b] = nudge(vectors[a], 0.985, rng)
        planted.add((int(min(a, b)), int(max(a, b))))
    for a, b in exact.reshape(-1, 2):
        vectors[b], hashes[b] = vectors[a], hashes[a]
        planted.add((int(min(a, b)), int(max(a, b))))
    return vectors, hashes, planted


def speed(args: argparse.Namespace, count: int) -> dict[str, Any]:
    vectors, hashes, planted = synthetic(count, args.seed)
    home = args.workdir / f"dups-vectors-{count}-seed{args.seed}"
    start = time.perf_counter()
    if (home / "library.db").exists():
        library = Library(home)
        vset = library.searchable_set(CLIP)
        assert vset is not None
    else:
        shutil.rmtree(home, ignore_errors=True)
        library, vset = vector_library(home, vectors, hashes)
    index = library.index_for(vset)
    setup_s = time.perf_counter() - start
    results: dict[str, Any] = {"vectors": count, "dim": 512, "setup_s": setup_s}
    clock = CpuClock.now()
    try:
        store = library.reader()
        read_s = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            store.vectors_with_files(vset.id, "image")
            read_s.append(time.perf_counter() - t0)
        results["read_vectors_s"] = statistics.median(read_s)
        for name in ("near", "similar"):
            times, report = [], None
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                report = next(
                    r
                    for r in find_groups(store, vset.id, index, LEVELS[name])
                    if isinstance(r, Report)
                )
                times.append(time.perf_counter() - t0)
            assert report is not None
            rows = [sorted(int(Path(m.path).stem[1:]) for m in g.members) for g in report.groups]
            found = {pair for g in rows for pair in itertools.combinations(g, 2)}
            hit = len(found & planted)
            results[name] = {
                "threshold": LEVELS[name],
                "median_s": statistics.median(times),
                "runs_s": times,
                "groups": len(report.groups),
                "largest_group": max((len(g) for g in rows), default=0),
                "planted_pairs_found": hit / len(planted),
            }
    finally:
        library.close()
    results["other_load"] = clock.other_load(CpuClock.now(), os.cpu_count() or 1)
    return results


# -- report ----------------------------------------------------------------------------------


def print_report(results: dict[str, Any]) -> None:
    m = results["machine"]
    print(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; {m['os']}\n")
    for q in results["quality"]:
        print(f"### {q['model']}: {q['pictures']} pictures, {q['true_pairs']} planted pairs")
        c = q["cosines"]
        near = c["nearest_unrelated"]
        print(
            "cosine of copies to their original (min / median): "
            + ", ".join(f"{k} {c[k]['min']:.4f} / {c[k]['median']:.4f}" for k in TRANSFORMS)
            + f"; nearest unrelated picture: median {near['median']:.4f}, "
            f"p99 {near['p99']:.4f}, max {near['max']:.4f}\n"
        )
        header = ["threshold", "level", "groups", "pairs", "precision", "recall", "F1"]
        header += [f"recall {k}" for k in TRANSFORMS]
        rows = [
            [
                f"{r['threshold']:.3f}",
                r["level"] or "",
                str(r["groups"]),
                str(r["pairs"]),
                f"{r['precision']:.3f}",
                f"{r['recall']:.3f}",
                f"{r['f1']:.3f}",
                *(f"{r['recall_by_copy'][k]:.2f}" for k in TRANSFORMS),
            ]
            for r in q["thresholds"]
        ]
        print(markdown_table(header, rows) + "\n")
    header = ["vectors", "level", "median s", "runs s", "groups", "largest", "planted found"]
    rows = []
    for s in results["speed"]:
        for name in ("near", "similar"):
            r = s[name]
            rows.append(
                [
                    f"{s['vectors']:,}",
                    f"{name} ({r['threshold']})",
                    f"{r['median_s']:.2f}",
                    " ".join(f"{t:.2f}" for t in r["runs_s"]),
                    str(r["groups"]),
                    str(r["largest_group"]),
                    f"{r['planted_pairs_found']:.3f}",
                ]
            )
    print("### Grouping time (read + kNN graph + union-find + describe), warm index\n")
    print(markdown_table(header, rows))
    for s in results["speed"]:
        print(
            f"\n{s['vectors']:,} vectors: reading them from SQLite {s['read_vectors_s']:.2f} s; "
            f"other processes kept {100 * s['other_load']:.0f}% of the machine busy meanwhile"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-work"))
    parser.add_argument("--models", nargs="*", default=[TINY, VIT_RANDOM])
    parser.add_argument("--originals", type=int, default=1200)
    parser.add_argument("--planted", type=int, default=120)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": machine_info(),
        "config": {k: str(v) for k, v in vars(args).items()},
        "quality": [quality(args, model) for model in args.models],
        "speed": [speed(args, count) for count in args.sizes],
    }
    write_json(results, args.out)
    print_report(results)


if __name__ == "__main__":
    main()
