"""How big the library database is per stored vector, by page size and vector precision.

A float32 CLIP vector is 2 KB at 512-d. In a database of 4 KB pages (every library made before
schema 3) a row that large is more than a third of a page, so each row filled a page of its own
and a 1M-picture library held a 4.5 GB database for 2 GB of vectors. Two ways out were weighed:
bigger pages (rows share them) or float16 blobs (half the bytes, but rounded). This bench
measures both on the same synthetic CLIP-like vectors (``scale_data.ClipLike``):

- **size**: one library per layout, built through the real ``Store`` and its migrations (the
  page size is ``desktop_app.core.db.store.PAGE_SIZE``, monkeypatched per layout; schema 2 is
  the first two migrations of ``MIGRATIONS``), filled with ``executemany`` in one transaction
  as ``scale_data.build_library`` does (a files row, a unit and an ``embedded`` row per
  picture). Reported: database bytes (``library.db`` + ``-wal`` after the last connection
  closed), bytes per vector, the ratio to the raw float32 vectors, and the units table's share
  (SQLite's ``dbstat``). Also: a schema 2 library after migration 3, which keeps its page size
  (SQLite cannot change it in WAL mode); migration 3 alters its ``vectors`` table in place.
- **fidelity of float16** against float32 on the same data: cosine of each vector to its
  rounded self (min / mean), the share of 200 text-like queries whose exact top-10 is the same
  (same order, and same set), and mixed queries ``normalise(a - b)`` built from two stored,
  near-identical pictures (burst shots: cosine 0.99 and 0.999): the largest change of any
  stored vector's score, and of a top-20 hit's. The query formula is tested to 1e-4
  (tests/test_query.py), which is the bar here.

    .venv/bin/python bench/bench_storage.py                    # 100,000 vectors, a few minutes
    .venv/bin/python bench/bench_storage.py --sizes 100000 1000000 --workdir /tmp/bench-storage

Markdown on stdout, JSON in bench/results/. Each database is deleted once measured.
"""

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401  (puts the repository on sys.path)
from measure import CpuClock, machine_info
from report import markdown_table, write_json
from scale_data import DIM, MODEL_ID, ClipLike, blocks
from storage_fidelity import fidelity

from desktop_app.core.db import store as store_module
from desktop_app.core.db.migrations import MIGRATIONS
from desktop_app.core.db.store import Store
from desktop_app.core.kinds.base import CLIP

HERE = Path(__file__).resolve().parent
RAW_BYTES = DIM * 4  # one float32 vector


@dataclass(frozen=True)
class Layout:
    name: str
    schema: int  # 2: the `vectors` table (before); 3: `units` + `embedded`
    page_size: int
    dtype: str  # how the vector blob is stored: 'float32' or 'float16'
    note: str = ""


LAYOUTS = [
    Layout("s2-4k-f32", 2, 4096, "float32", "libraries made before (schema 2)"),
    Layout("s3-4k-f32", 3, 4096, "float32", "schema 3 alone, old page size"),
    Layout("s3-8k-f32", 3, 8192, "float32"),
    Layout("s3-16k-f32", 3, 16384, "float32"),
    Layout("s3-32k-f32", 3, 32768, "float32"),
    Layout("s3-4k-f16", 3, 4096, "float16", "float16 blobs"),
    Layout("s3-16k-f16", 3, 16384, "float16", "float16 blobs, for context"),
]


def _log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {message}\n")


def _files_rows(root_id: int, root: str, first: int, count: int) -> Iterator[tuple[Any, ...]]:
    """Files rows shaped like scale_data's (a real library's rows for 12 MP photos)."""
    for i in range(first, first + count):
        yield (
            i + 1,
            root_id,
            f"{root}/{i // 1000:04d}/IMG_{i:07d}.jpg",
            3_000_000 + i % 997,
            1_600_000_000_000_000_000 + i,
            f"{i:032x}",
            1.6e9 + i,
        )


_INSERT_FILES = (
    "INSERT INTO files (id, root_id, path, size, mtime_ns, hash, kind, width, height, taken_at,"
    " camera, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'image', 4000, 3000, ?, 'Synthetic',"
    " 'indexed', 0)"
)


def _open_schema2(db_path: Path) -> sqlite3.Connection:
    """A schema 2 database as Snapfind made it: 4 KB pages, WAL, the first two migrations."""
    conn = store_module.connect(db_path)  # PAGE_SIZE is patched to the layout's by the caller
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return conn


def _fill_schema2(db_path: Path, gen: ClipLike, n: int, dtype: str) -> None:
    conn = _open_schema2(db_path)
    conn.execute("INSERT INTO roots (id, path, added_at) VALUES (1, '/photos', 0)")
    conn.execute(
        "INSERT INTO vector_sets (id, modality, model_id, dim, index_file, state, next_label,"
        " created_at) VALUES (1, 'image', ?, ?, 'image-1.hnsw', 'ready', ?, 0)",
        (MODEL_ID, DIM, n),
    )
    conn.execute("BEGIN")
    for first, block in blocks(gen, n):
        conn.executemany(_INSERT_FILES, _files_rows(1, "/photos", first, len(block)))
        conn.executemany(
            "INSERT INTO vectors (set_id, label, file_id, vector) VALUES (1, ?, ?, ?)",
            ((first + j, first + j + 1, v.astype(dtype).tobytes()) for j, v in enumerate(block)),
        )
    conn.execute("COMMIT")
    conn.close()


def _fill_schema3(db_path: Path, gen: ClipLike, n: int, dtype: str) -> None:
    store = Store(db_path)  # the real connection and migrations, at the patched PAGE_SIZE
    root = store.add_root("/photos")
    vset = store.ensure_vector_set(CLIP, MODEL_ID, DIM)
    with store.transaction() as conn:
        for first, block in blocks(gen, n):
            conn.executemany(_INSERT_FILES, _files_rows(root.id, root.path, first, len(block)))
            conn.executemany(
                "INSERT INTO units (set_id, label, file_id, vector) VALUES (?, ?, ?, ?)",
                (
                    (vset.id, first + j, first + j + 1, v.astype(dtype).tobytes())
                    for j, v in enumerate(block)
                ),
            )
            conn.executemany(
                "INSERT INTO embedded (set_id, file_id) VALUES (?, ?)",
                ((vset.id, first + j + 1) for j in range(len(block))),
            )
        conn.execute("UPDATE vector_sets SET next_label = ? WHERE id = ?", (n, vset.id))
    store.mark_ready(vset.id)
    store.conn.close()


def _database_bytes(db_path: Path) -> int:
    return sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))


def _describe(db_path: Path) -> dict[str, Any]:
    """Page size, pages, free pages, and the bytes each table and index takes (``dbstat``)."""
    conn = sqlite3.connect(db_path)
    try:
        info: dict[str, Any] = {
            "page_size": conn.execute("PRAGMA page_size").fetchone()[0],
            "pages": conn.execute("PRAGMA page_count").fetchone()[0],
            "free_pages": conn.execute("PRAGMA freelist_count").fetchone()[0],
            "schema": conn.execute("PRAGMA user_version").fetchone()[0],
        }
        try:
            rows = conn.execute(
                "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            ).fetchall()
            info["objects"] = {name: int(size) for name, size in rows}
        except sqlite3.OperationalError:  # SQLite built without dbstat
            info["objects"] = {}
    finally:
        conn.close()
    return info


def measure_layout(layout: Layout, gen: ClipLike, n: int, workdir: Path) -> dict[str, Any]:
    """Build one library of ``n`` vectors in this layout and measure its database."""
    folder = workdir / f"storage-{n}-{layout.name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    db_path = folder / "library.db"
    saved = store_module.PAGE_SIZE
    store_module.PAGE_SIZE = layout.page_size
    try:
        start = time.perf_counter()
        fill = _fill_schema2 if layout.schema == 2 else _fill_schema3
        fill(db_path, gen, n, layout.dtype)
        fill_s = time.perf_counter() - start
    finally:
        store_module.PAGE_SIZE = saved
    size = _database_bytes(db_path)
    info = _describe(db_path)
    vectors_table = "vectors" if layout.schema == 2 else "units"
    out: dict[str, Any] = asdict(layout) | {
        "n": n,
        "fill_s": fill_s,
        "database_bytes": size,
        "bytes_per_vector": size / n,
        "ratio_to_float32_vectors": size / (n * RAW_BYTES),
        "vector_table_bytes": info["objects"].get(vectors_table, 0),
        "describe": info,
    }
    if layout.schema == 2:
        out["after_migration_3"] = _migrated(db_path)
    _log(f"{layout.name} n={n}: {size / 1e6:.0f} MB, {size / n:.0f} B/vector, fill {fill_s:.1f} s")
    shutil.rmtree(folder)
    return out


def _migrated(db_path: Path) -> dict[str, Any]:
    """Open a schema 2 library with today's ``Store``: migration 3 runs, the page size stays."""
    start = time.perf_counter()
    store = Store(db_path)
    store.conn.close()
    seconds = time.perf_counter() - start
    return {
        "migrate_s": seconds,
        "database_bytes": _database_bytes(db_path),
        "describe": _describe(db_path),
    }


# -- fidelity of float16 -----------------------------------------------------------------------


def _is_default(layout: dict[str, Any]) -> bool:
    """The layout a new library gets today (schema 3, float32, ``store.PAGE_SIZE``)."""
    return (layout["schema"], layout["dtype"], layout["page_size"]) == (
        3,
        "float32",
        store_module.PAGE_SIZE,
    )


def conclusion(results: dict[str, Any]) -> str:
    """One paragraph: what the figures say about page size against float16."""
    n, layouts = max(results["sizes"].items(), key=lambda item: int(item[0]))
    by = {x["name"]: x for x in layouts}
    before = by["s2-4k-f32"]
    f = results["fidelity"]
    worst_mixed = max(x["max_score_change_any_vector"] for x in f["mixed"])
    text_same = f["top10_identical_order"]
    f16_ok = f["min_cosine"] >= 0.9999 and text_same == 1.0 and worst_mixed <= 1e-4
    parts = [
        f"At {int(n):,} vectors a schema 2 library (4 KB pages) holds "
        f"{before['bytes_per_vector']:,.0f} bytes per vector, "
        f"{before['ratio_to_float32_vectors']:.2f}x the raw float32 vectors: every 2 KB row "
        "fills a page of its own."
    ]
    chosen = next((x for x in layouts if _is_default(x)), None)
    if chosen:
        parts.append(
            f"With {chosen['page_size'] // 1024} KB pages (today's PAGE_SIZE) rows share pages: "
            f"{chosen['bytes_per_vector']:,.0f} bytes per vector "
            f"({chosen['ratio_to_float32_vectors']:.2f}x raw, "
            f"{chosen['database_bytes'] / before['database_bytes']:.2f}x the old size), with the "
            "vectors bit for bit as the model gave them."
        )
    if "s3-4k-f16" in by:
        half = by["s3-4k-f16"]
        parts.append(
            f"float16 blobs would give {half['bytes_per_vector']:,.0f} bytes per vector at 4 KB "
            f"pages ({half['ratio_to_float32_vectors']:.2f}x raw)"
        )
    parts[-1] += (
        f"; their cosine to float32 is at least {f['min_cosine']:.7f}, but "
        f"{100 * (1 - text_same):.1f}% of text-like queries change their top-10 (order) and "
        f"mixed queries normalise(a − b) of near-identical pictures move scores by up to "
        f"{worst_mixed:.1e}, above the 1e-4 the query formula is tested to."
        if not f16_ok
        else f"; they pass every fidelity check here (cosine ≥ {f['min_cosine']:.7f}, identical "
        f"top-10s, mixed-query scores within {worst_mixed:.1e})."
    )
    parts.append(
        "So: float32 with bigger pages."
        if not f16_ok
        else "float16 would be acceptable on these checks; weigh the extra halving against it."
    )
    if "after_migration_3" in before:
        mig = before["after_migration_3"]
        d = mig["describe"]
        parts.append(
            f"An existing library keeps its 4 KB pages (SQLite cannot change them in WAL mode); "
            f"migration 3 alters its vectors table in place, so the upgraded database is "
            f"{mig['database_bytes'] / before['database_bytes']:.2f}x its size before "
            f"({d['free_pages'] * d['page_size'] / 1e6:,.0f} MB of free pages)."
        )
    return " ".join(parts)


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    out = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; {m['os']}; "
        f"Python {m['python']}, SQLite {sqlite3.sqlite_version}",
        "",
    ]
    for n, layouts in results["sizes"].items():
        base = next(x for x in layouts if x["name"] == "s2-4k-f32")["database_bytes"]
        rows: list[tuple[str, ...]] = []
        for x in layouts:
            rows.append(
                (
                    x["name"],
                    str(x["schema"]),
                    f"{x['page_size'] // 1024} KB",
                    x["dtype"],
                    f"{x['database_bytes'] / 1e6:,.0f} MB",
                    f"{x['bytes_per_vector']:,.0f}",
                    f"{x['ratio_to_float32_vectors']:.2f}",
                    f"{x['vector_table_bytes'] / 1e6:,.0f} MB",
                    f"{x['database_bytes'] / base:.2f}",
                    f"{x['fill_s']:.1f} s",
                    "new libraries (PAGE_SIZE)" if _is_default(x) else x["note"],
                )
            )
            if "after_migration_3" in x:
                mig = x["after_migration_3"]
                d = mig["describe"]
                rows.append(
                    (
                        "  → migration 3",
                        "3",
                        f"{d['page_size'] // 1024} KB",
                        x["dtype"],
                        f"{mig['database_bytes'] / 1e6:,.0f} MB",
                        f"{mig['database_bytes'] / int(n):,.0f}",
                        f"{mig['database_bytes'] / (int(n) * RAW_BYTES):.2f}",
                        f"{d['objects'].get('units', 0) / 1e6:,.0f} MB",
                        f"{mig['database_bytes'] / base:.2f}",
                        f"{mig['migrate_s']:.1f} s",
                        f"the same library upgraded: {d['free_pages'] * d['page_size'] / 1e6:,.0f}"
                        " MB of it free pages",
                    )
                )
        header: tuple[str, ...] = (
            "layout",
            "schema",
            "page",
            "blob",
            "database",
            "bytes/vector",
            "÷ raw f32",
            "vector table",
            "÷ before",
            "fill",
            "note",
        )
        out += [
            f"{int(n):,} vectors of {DIM} dims (raw float32: {int(n) * RAW_BYTES / 1e6:,.0f} MB)",
            "",
            markdown_table(header, rows),
            "",
        ]
    f = results["fidelity"]
    out.append(
        f"float16 against float32, {f['n']:,} vectors: cosine to itself min {f['min_cosine']:.7f}, "
        f"mean {f['mean_cosine']:.7f}; {f['text_queries']} text-like queries with an identical "
        f"top-10: {100 * f['top10_identical_order']:.1f}% in the same order, "
        f"{100 * f['top10_identical_set']:.1f}% as a set"
    )
    out.append("")
    mixed = [
        (
            f"{x['pair_cosine']}",
            str(x["queries"]),
            f"{x['max_score_change_any_vector']:.1e}",
            f"{x['max_score_change_top20']:.1e}",
            f"{x['max_score_change_the_pair']:.1e}",
            f"{100 * x['top10_identical_order']:.0f}% / {100 * x['top10_identical_set']:.0f}%",
        )
        for x in f["mixed"]
    ]
    header = (
        "mixed query normalise(a − b), a·b =",
        "queries",
        "max Δscore, any vector",
        "top-20 hits",
        "a and b",
        "top-10 identical (order / set)",
    )
    out += [markdown_table(header, mixed), ""]
    load = results["other_load"]
    out.append(f"Load from other processes: {100 * load:.0f}% of the machine during the run")
    out += ["", conclusion(results)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument(
        "--layouts",
        nargs="+",
        choices=[x.name for x in LAYOUTS],
        default=[x.name for x in LAYOUTS],
        help="which layouts to build (default: all; s2-4k-f32 is the baseline and always built)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="where the databases are built (default: a temp folder)"
    )
    parser.add_argument("--queries", type=int, default=200, help="text-like queries")
    parser.add_argument("--pairs", type=int, default=100, help="mixed queries per pair cosine")
    parser.add_argument(
        "--fidelity-size", type=int, help="vectors for the fidelity checks (default: largest size)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, help="JSON file (default: bench/results/storage-*.json)"
    )
    args = parser.parse_args()
    chosen = {"s2-4k-f32", *args.layouts}
    layouts = [x for x in LAYOUTS if x.name in chosen]
    gen = ClipLike(args.seed)
    clock = CpuClock.now()
    cores = machine_info()["cores"]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="snapfind-storage-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        sizes = {str(n): [measure_layout(x, gen, n, workdir) for x in layouts] for n in args.sizes}
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    fid_n = args.fidelity_size or max(args.sizes)
    _log(f"fidelity of float16 on {fid_n} vectors")
    results: dict[str, Any] = {
        "machine": machine_info(),
        "config": vars(args) | {"workdir": str(args.workdir)},
        "sizes": sizes,
        "fidelity": fidelity(gen, fid_n, args.queries, args.pairs, args.seed),
    }
    results["other_load"] = clock.other_load(CpuClock.now(), cores)
    print(report(results))
    out = args.out or HERE / "results" / f"storage-{time.strftime('%Y%m%d-%H%M%S')}.json"
    write_json(results, out)


if __name__ == "__main__":
    main()
