"""Query latency and open time at scale, hnswlib tuning, and the re-scan of a large library.

Everything is generated (see scale_data.py and rescan_tree.py) and cached in the work folder,
so a second run reuses the libraries (a 1,000,000-vector build takes many minutes on 2 cores):

    .venv/bin/python bench/bench_scale.py --workdir /tmp/bench-work
    .venv/bin/python bench/bench_scale.py --sizes 100000 1000000 --tune --workdir /tmp/bench-work
    .venv/bin/python bench/bench_scale.py --parts rescan --rescan-folder ~/Pictures

Each library is measured by a fresh child process (scale_probe.py): cold open through
``Engine`` (SQLite + hnswlib load + consistency check), text queries through ``Engine.search``
with the chosen CLIP model, recall@10 against exact search, and RSS. The report is printed as
Markdown tables and written as JSON to bench/results/.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401  (puts the repository on sys.path)
import numpy as np
from measure import latency_summary, machine_info, timed
from model_setup import TINY, VIT_RANDOM, prepare_model
from report import markdown_table, write_json
from scale_data import DIM, ClipLike, build_library, exact_top, library_home, statistics

from desktop_app.core.vectors.hnsw import DEFAULT_PARAMS, HnswBackend, HnswParams

HERE = Path(__file__).resolve().parent
TUNE_GRID = [(8, 64), (16, 64), (16, 128), (16, 200), (32, 64), (32, 128)]


def _log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {message}\n")


def ground_truth(workdir: Path, n: int, queries: np.ndarray, seed: int) -> Path:
    path = workdir / f"scale-truth-{n}-q{len(queries)}-seed{seed}.npy"
    if not path.exists():
        _log(f"exact top-10 of {len(queries)} queries over {n} vectors")
        np.save(path, exact_top(ClipLike(seed).vectors, n, queries, 10))
    return path


def tune(n: int, queries: np.ndarray, truth: np.ndarray, efs: list[int], seed: int) -> list[dict]:
    """Build the index in memory for each (M, ef_construction); recall and speed per ef."""
    data = ClipLike(seed).vectors(0, n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for m, efc in TUNE_GRID:
            index = HnswBackend(Path(tmp) / f"m{m}-{efc}.hnsw", DIM, HnswParams(m, efc, 64))
            build_s, _ = timed(index.add, list(range(n)), data)
            index.save()
            size = index.path.stat().st_size
            for ef in efs:
                index.params = HnswParams(m, efc, ef)
                hits, times = 0, []
                for q, true in zip(queries, truth, strict=True):
                    elapsed, found = timed(index.search, q, 10, exact=False)
                    times.append(elapsed)
                    hits += len({lb for lb, _ in found} & set(true.tolist()))
                rows.append(
                    {
                        "n": n,
                        "m": m,
                        "ef_construction": efc,
                        "ef": ef,
                        "build_s": build_s,
                        "index_mb": size / 1e6,
                        "recall_at_10": hits / (10 * len(queries)),
                        "query_ms_p50": latency_summary(times)["p50_ms"],
                    }
                )
                _log(f"tune {rows[-1]}")
            index.path.unlink()
    return rows


def probe_library(args: argparse.Namespace, n: int, params: HnswParams, jpeg: Path | None) -> dict:
    home = library_home(args.workdir, n, params, args.seed)
    _log(f"library of {n} vectors in {home} (built once, then reused)")
    built = build_library(home, n, params, args.seed, log=_log)
    gen = ClipLike(args.seed)
    queries = gen.queries(args.queries)
    qpath = args.workdir / f"scale-queries-q{args.queries}-seed{args.seed}.npy"
    np.save(qpath, queries)
    truth = ground_truth(args.workdir, n, queries, args.seed)
    command = [
        sys.executable,
        str(HERE / "scale_probe.py"),
        *("--home", str(home), "--workdir", str(args.workdir), "--model", args.model),
        *("--queries", str(qpath), "--truth", str(truth), "--ef", *map(str, args.ef)),
        *(("--jpeg", str(jpeg)) if jpeg else ()),
        *(("--threads", str(args.threads)) if args.threads else ()),
    ]
    _log(f"cold start on {n} vectors")
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["build"] = {
        "hnsw_build_s": built.build_s,
        "sqlite_fill_s": built.sqlite_s,
        "index_mb": built.index_bytes / 1e6,
        "database_mb": sum(p.stat().st_size for p in home.glob("library.db*")) / 1e6,
    }
    return result


def rescan(args: argparse.Namespace) -> dict[str, Any]:
    from rescan_tree import make_tree, register

    from desktop_app.core.engine import Engine

    choice = prepare_model(TINY, args.workdir / "models", args.workdir, None)
    model = choice.loader()
    if args.rescan_folder:
        tree, home = args.rescan_folder, args.workdir / "rescan-folder-home"
    else:
        tree = args.workdir / f"rescan-tree-{args.rescan_files}"
        home = args.workdir / f"rescan-home-{args.rescan_files}"
        _log(f"{args.rescan_files} files in {tree}")
        make_tree(tree, args.rescan_files)
    out: dict[str, Any] = {"folder": str(tree)}
    if not (home / "library.db").exists():
        if args.rescan_folder:  # a real folder: index it for real once (tiny model)
            with Engine(home, clip_loader=lambda: model) as engine:
                engine.add_root(tree)
                out["first_index_s"], _ = timed(lambda: list(engine.index()))
        else:
            out["register_s"] = register(home, tree, model.model_id, model.dim)
    times = []
    with Engine(home, clip_loader=lambda: model) as engine:
        for _ in range(args.repeats):
            elapsed, reports = timed(lambda: list(engine.index()))
            assert reports[-1].phase == "done", reports[-1]
            times.append(elapsed)
        out["files"] = sum(r.indexed + r.pending + r.failed for r in engine.root_status())
        out["last_message"] = reports[-1].message
    out["seconds"] = times
    out["median_s"] = float(np.median(times))
    return out


def twelve_mp_jpeg(workdir: Path) -> Path:
    from library_gen import generate_images

    folder = workdir / "scale-jpeg-4000x3000"
    if not any(folder.rglob("*.jpg")):
        generate_images(folder, 1, (4000, 3000), seed=0)
    return next(iter(sorted(folder.rglob("*.jpg"))))


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    out = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; {m['os']}; "
        f"Python {m['python']}, torch {m['torch']}; model {results['config']['model']}",
        "",
    ]
    if "data" in results:
        d = results["data"]
        out.append(
            "Synthetic vectors: mean pair cosine {mean_pair_cosine:.2f}, mean nearest-neighbour "
            "cosine {mean_nn_cosine:.2f}, {dims_for_90pct_variance} dims hold 90% of the "
            "variance".format(**d)
        )
        out.append("")
    for n, r in results.get("libraries", {}).items():
        t, b = r["text"], r["build"]
        rows = [
            ("open (Engine + index load + check)", f"{r['open_s']:.2f} s"),
            ("  reading the library's files (OS cache)", f"{r['read_files_s']:.2f} s"),
            ("open with the full label-by-label repair", f"{r.get('open_full_repair_s', 0):.2f} s"),
            ("model load (CLIP, once)", f"{r['model_load_s']:.2f} s"),
            (
                "text query k=20 p50 / p95",
                f"{t['k20']['p50_ms']:.1f} / {t['k20']['p95_ms']:.1f} ms",
            ),
            (
                "text query k=500 (GUI) p50 / p95",
                f"{t['k500']['p50_ms']:.1f} / {t['k500']['p95_ms']:.1f} ms",
            ),
            ("  of which text encode p50", f"{t['encode_only']['p50_ms']:.1f} ms"),
            (
                "  ANN + metadata k=20 / k=500 p50",
                f"{t['ann_and_metadata_k20']['p50_ms']:.1f} / "
                f"{t['ann_and_metadata_k500']['p50_ms']:.1f} ms",
            ),
            (
                "RSS after open / with model / end",
                f"{r['rss_after_open_mb']:.0f} / {r['rss_after_model_mb']:.0f} / "
                f"{r['rss_end_mb']:.0f} MB",
            ),
            (
                "graph (M, ef_construction; default ef)",
                f"{r['graph']['m']}, {r['graph']['ef_construction']}; {r['graph']['default_ef']}",
            ),
            (
                "hnswlib build / SQLite fill",
                f"{b['hnsw_build_s']:.0f} s / {b['sqlite_fill_s']:.0f} s",
            ),
            ("index file / database", f"{b['index_mb']:.0f} MB / {b['database_mb']:.0f} MB"),
        ]
        if "image_query" in r:
            rows.append(
                (
                    "image query, 12 MP JPEG p50 / p95",
                    f"{r['image_query']['p50_ms']:.0f} / {r['image_query']['p95_ms']:.0f} ms",
                )
            )
        rows.append(
            (
                "other processes' load (share of the machine)",
                f"{100 * r['other_load']:.0f}% (load average {r['load_average'][0]:.1f})",
            )
        )
        out += [markdown_table((f"{int(n):,} vectors", "value"), rows), ""]
        rec = [
            (str(x["ef"]), f"{x['recall_at_10']:.3f}", f"{x['p50_ms']:.2f}", f"{x['p95_ms']:.2f}")
            for x in r["recall"]
        ]
        out += [markdown_table(("ef", "recall@10", "ANN p50 ms", "ANN p95 ms"), rec), ""]
    if "tune" in results:
        rows = [
            (
                f"{x['n']:,}",
                str(x["m"]),
                str(x["ef_construction"]),
                str(x["ef"]),
                f"{x['build_s']:.0f}",
                f"{x['index_mb']:.0f}",
                f"{x['recall_at_10']:.3f}",
                f"{x['query_ms_p50']:.2f}",
            )
            for x in results["tune"]
        ]
        out += [
            markdown_table(
                ("n", "M", "ef_c", "ef", "build s", "index MB", "recall@10", "query ms p50"), rows
            ),
            "",
        ]
    if "rescan" in results:
        r = results["rescan"]
        out.append(
            f"Re-scan of an unchanged library of {r['files']:,} files: median "
            f"{r['median_s']:.2f} s over {len(r['seconds'])} runs "
            f"({', '.join(f'{s:.2f}' for s in r['seconds'])} s)"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "snapfind-bench"
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["libraries", "rescan"],
        choices=["libraries", "tune", "rescan"],
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--tune", action="store_true", help="also run the M / ef_construction grid")
    parser.add_argument("--tune-size", type=int, default=100_000)
    parser.add_argument("--m", type=int, default=DEFAULT_PARAMS.m, help="M of the libraries built")
    parser.add_argument("--ef-construction", type=int, default=DEFAULT_PARAMS.ef_construction)
    parser.add_argument("--ef", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--model", default=VIT_RANDOM, help=f"{VIT_RANDOM} (default), {TINY} or a cached preset"
    )
    parser.add_argument("--no-image-query", action="store_true")
    parser.add_argument("--threads", type=int, help="torch threads of the model (as the setting)")
    parser.add_argument("--rescan-files", type=int, default=100_000)
    parser.add_argument(
        "--rescan-folder", type=Path, help="time the re-scan of this real folder instead"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": machine_info(),
        "config": vars(args) | {"workdir": str(args.workdir)},
    }
    parts = set(args.parts) | ({"tune"} if args.tune else set())
    gen = ClipLike(args.seed)
    results["data"] = statistics(gen.vectors(0, 50_000))
    if "tune" in parts:
        queries = gen.queries(args.queries)
        truth = np.load(ground_truth(args.workdir, args.tune_size, queries, args.seed))
        results["tune"] = tune(args.tune_size, queries, truth, args.ef, args.seed)
    if "libraries" in parts:
        jpeg = None if args.no_image_query else twelve_mp_jpeg(args.workdir)
        params = HnswParams(args.m, args.ef_construction, DEFAULT_PARAMS.ef_search)
        results["libraries"] = {str(n): probe_library(args, n, params, jpeg) for n in args.sizes}
    if "rescan" in parts:
        results["rescan"] = rescan(args)
    print(report(results))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, HERE / "results" / f"scale-{stamp}.json")


if __name__ == "__main__":
    main()
