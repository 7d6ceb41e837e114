"""Milvus (Lite, in this process) against the embedded hnswlib index, on synthetic CLIP vectors.

    .venv/bin/python bench/bench_milvus.py --workdir /tmp/bench-work                 # 100k
    .venv/bin/python bench/bench_milvus.py --sizes 100000 1000000 --workdir /tmp/bench-work
    .venv/bin/python bench/bench_milvus.py --server http://127.0.0.1:19530 ...  # and a server

The library is scale_data's (built once, cached in the work folder, shared with bench_scale).
Moving it to Milvus is Snapfind's own move (``snapfind-cli backend use milvus``): every vector
read back from SQLite and uploaded with its file's filter attributes; the time until Milvus has
built its HNSW index over all of it is the build time. Each backend is then measured by a fresh
child process, so its resident memory is that backend's alone:

- query latency of the backend call a search makes (p50/p95 over the queries; the text
  encoder's ~55 ms comes on top, alike for both), with no filter, with a date range (10% of the
  library) and with one folder (1%); hnswlib's filtered search includes the SQLite query that
  names the labels passing the filter, Milvus's evaluates the filter itself;
- recall@10 against exact search, unfiltered and filtered;
- RSS after opening and querying. Milvus Lite runs its server inside the Snapfind process, so
  its RSS includes the server's; a real server (``--server``) keeps that memory in its own
  process, reported beside it when it runs on this machine.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401  (puts the repository on sys.path)
import numpy as np
from measure import latency_summary, rss_mb, timed
from report import markdown_table, write_json
from scale_data import ClipLike, build_library, exact_top, library_home

from desktop_app.core.vectors.hnsw import DEFAULT_PARAMS

HERE = Path(__file__).resolve().parent
K = 10


def _log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {message}\n")


def filters(n: int) -> dict[str, dict[str, Any]]:
    """Two filters on the synthetic library: file i is taken at 1.6e9 + i, in folder i // 1000."""
    first = n // 2
    return {
        "date_10pct": {"after": 1.6e9 + first, "before": 1.6e9 + first + n // 10},
        "folder_1pct": {"folder": f"{first // 1000:04d}"},
    }


# -- the child: one backend, one process -------------------------------------------------------


def probe(args: argparse.Namespace) -> dict[str, Any]:
    from desktop_app.core.db.label_facts import LabelFacts
    from desktop_app.core.db.library import Library
    from desktop_app.core.vectors.backend import Scope
    from desktop_app.core.vectors.choice import BackendChoice, open_store

    home = Path(args.home)
    queries = np.load(args.query_file)
    truth = np.load(args.truth)
    base_rss = rss_mb()
    start = time.perf_counter()
    library = Library(home, writer=False, backend=BackendChoice())  # SQLite only
    vset = library.reader().vector_sets()[0]
    milvus = args.backend != "hnswlib"
    choice = BackendChoice.milvus(args.uri, prefix=args.prefix) if milvus else BackendChoice()
    store = open_store(home, choice, LabelFacts(library.reader), read_only=True)
    backend = store.open(vset.id, vset.space, vset.dim, vset.model_id)
    held = len(backend)
    open_s = time.perf_counter() - start
    root = library.reader().roots()[0].path
    n = held
    result: dict[str, Any] = {"backend": args.backend, "n": n, "open_s": open_s}
    times, hits = [], 0
    for q, true in zip(queries, truth, strict=True):
        elapsed, found = timed(backend.search, q, K)
        times.append(elapsed)
        hits += len({lb for lb, _ in found} & set(true[:K].tolist()))
    result["unfiltered"] = latency_summary(times) | {"recall_at_10": hits / (K * len(queries))}
    all_vectors = None
    for name, spec in filters(n).items():
        if "folder" in spec:
            folder = f"{root}/{spec['folder']}"
            scope = Scope(folders=(folder,))
            sql = (
                "(f.path = ? OR substr(f.path, 1, ?) = ?)",
                [folder, len(folder) + 1, folder + "/"],
            )
        else:
            scope = Scope(after=spec["after"], before=spec["before"])
            sql = ("f.taken_at >= ? AND f.taken_at < ?", [spec["after"], spec["before"]])
        reader = library.reader()
        allowed_labels = reader.labels_matching(vset.id, *sql)
        subset = np.array(sorted(allowed_labels), dtype=np.int64)
        if all_vectors is None:
            all_vectors = ClipLike(args.seed)
        block = all_vectors.vectors(int(subset.min()), int(subset.max() - subset.min() + 1))
        block = block[subset - subset.min()]
        times, hits = [], 0
        for q in queries:
            exact = subset[np.argsort(-(block @ q))[:K]]
            if milvus:
                elapsed, found = timed(backend.search_scoped, q, K, scope)  # type: ignore[attr-defined]
            else:

                def filtered(q: np.ndarray, sql: tuple[str, list[Any]]) -> list[tuple[int, float]]:
                    allowed = library.reader().labels_matching(vset.id, *sql)
                    return backend.search_among(q, K, allowed)

                elapsed, found = timed(filtered, q, sql)
            times.append(elapsed)
            hits += len({lb for lb, _ in found} & set(exact.tolist()))
        result[name] = latency_summary(times) | {
            "recall_at_10": hits / (K * len(queries)),
            "passing": len(subset),
        }
    result["rss_mb"] = rss_mb()
    result["rss_growth_mb"] = rss_mb() - base_rss
    if args.backend == "server":
        result["server_rss_mb"] = server_rss_mb()
    library.close()
    return result


# -- the driver ---------------------------------------------------------------------------------


def server_rss_mb() -> float:
    """Resident memory of the Milvus server processes on this machine (0 if none is local)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or not (proc / "comm").read_text().startswith("milvus"):
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def upload(home: Path, uri: str, prefix: str) -> dict[str, Any]:
    """Snapfind's move into Milvus, then the wait for its index; leaves hnswlib chosen."""
    from desktop_app.core.db.moving import move_library
    from desktop_app.core.vectors.choice import BackendChoice, save_choice
    from desktop_app.core.vectors.milvus_store import MilvusStore

    choice = BackendChoice.milvus(uri, prefix=prefix)
    store = MilvusStore(choice.target())
    for name in store.client.list_collections():  # a run that stopped: start from nothing
        if name.startswith(prefix + "_"):
            store.client.drop_collection(name)
    store.close()
    start = time.perf_counter()
    for progress in move_library(home, choice):
        if progress.done and progress.done % 50_000 < 2000:
            _log(f"uploaded {progress.done}/{progress.total}")
    upload_s = time.perf_counter() - start
    store = MilvusStore(choice.target())
    name = store.collection(1)
    store.client.flush(name)
    while True:
        info = store.client.describe_index(name, "vector")
        if info.get("pending_index_rows", 0) == 0 and info.get("state", "Finished") == "Finished":
            break
        time.sleep(1)
    indexed_s = time.perf_counter() - start
    store.close()
    save_choice(home, BackendChoice())
    return {"upload_s": upload_s, "upload_and_index_s": indexed_s}


def lite_bytes(lite: Path) -> int:
    return sum(p.stat().st_size for p in lite.rglob("*") if p.is_file())


def run_size(args: argparse.Namespace, n: int) -> dict[str, Any]:
    home = library_home(args.workdir, n, DEFAULT_PARAMS, args.seed)
    _log(f"library of {n} vectors in {home} (built once, then reused)")
    built = build_library(home, n, DEFAULT_PARAMS, args.seed, log=_log)
    gen = ClipLike(args.seed)
    queries = gen.queries(args.queries)
    qpath = args.workdir / f"milvus-queries-q{args.queries}-seed{args.seed}.npy"
    np.save(qpath, queries)
    tpath = args.workdir / f"milvus-truth-{n}-q{args.queries}-seed{args.seed}.npy"
    if not tpath.exists():
        np.save(tpath, exact_top(gen.vectors, n, queries, K))
    lite = args.workdir / f"milvus-lite-{n}-seed{args.seed}.db"
    targets = {"milvus": (str(lite), "bench")}
    if args.server:
        targets["server"] = (args.server, f"bench{n}s{args.seed}")
    out: dict[str, Any] = {
        "n": n,
        "hnswlib_build": {"build_s": built.build_s, "disk_mb": built.index_bytes / 1e6},
    }
    for backend, (uri, prefix) in targets.items():
        marker = args.workdir / f"{backend}-{n}-seed{args.seed}.json"
        if marker.exists():
            out[f"{backend}_build"] = json.loads(marker.read_text())
            continue
        _log(f"moving {n} vectors into {uri}")
        command = [sys.executable, str(Path(__file__).resolve()), "--upload"]
        command += ["--home", str(home), "--uri", uri, "--prefix", prefix]
        done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        out[f"{backend}_build"] = json.loads(done.stdout.strip().splitlines()[-1])  # a Lite
        marker.write_text(json.dumps(out[f"{backend}_build"]))  # file has one process at a time
    out["milvus_build"]["disk_mb"] = lite_bytes(lite) / 1e6
    for backend, (uri, prefix) in [("hnswlib", ("", "")), *targets.items()]:
        _log(f"probing {backend} on {n}")
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--probe",
            *("--backend", backend, "--home", str(home), "--uri", uri, "--prefix", prefix),
            *("--query-file", str(qpath), "--truth", str(tpath), "--seed", str(args.seed)),
        ]
        done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        out[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


NAMES = {"hnswlib": "hnswlib", "milvus": "Milvus Lite", "server": "Milvus server"}


def report(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        for backend in [b for b in NAMES if b in r]:
            p = r[backend]
            build = (
                r["hnswlib_build"]["build_s"]
                if backend == "hnswlib"
                else r[f"{backend}_build"]["upload_and_index_s"]
            )
            memory = f"{p['rss_mb']:.0f} MB"
            if "server_rss_mb" in p:
                memory += f" + server {p['server_rss_mb']:.0f} MB"
            rows.append(
                [
                    f"{r['n']:,}",
                    NAMES[backend],
                    f"{build:.0f} s",
                    f"{p['unfiltered']['p50_ms']:.1f} / {p['unfiltered']['p95_ms']:.1f}",
                    f"{p['date_10pct']['p50_ms']:.1f} / {p['date_10pct']['p95_ms']:.1f}",
                    f"{p['folder_1pct']['p50_ms']:.1f} / {p['folder_1pct']['p95_ms']:.1f}",
                    f"{p['unfiltered']['recall_at_10']:.3f}",
                    f"{p['date_10pct']['recall_at_10']:.3f} / "
                    f"{p['folder_1pct']['recall_at_10']:.3f}",
                    memory,
                    f"{p['open_s']:.1f} s",
                ]
            )
    header = [
        "vectors",
        "backend",
        "build (upload+index)",
        "query ms p50/p95",
        "date filter (10%) p50/p95",
        "folder filter (1%) p50/p95",
        "recall@10",
        "filtered recall@10 (date/folder)",
        "RSS",
        "open",
    ]
    return markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/snapfind-bench"))
    parser.add_argument("--server", help="also a Milvus server at this URI (e.g. its 2.3.5)")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--upload", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--uri", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--truth", help=argparse.SUPPRESS)
    parser.add_argument("--query-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upload:
        print(json.dumps(upload(Path(args.home), args.uri, args.prefix)))
        return
    if args.probe:
        print(json.dumps(probe(args)))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = [run_size(args, n) for n in args.sizes]
    table = report(results)
    print(table)
    sizes = "-".join(str(n) for n in args.sizes)
    write_json({"results": results, "table": table}, HERE / "results" / f"milvus-{sizes}.json")


if __name__ == "__main__":
    main()
