"""Keyword search and its fusion with meaning: speed at 100k files, and ranking quality.

Speed (``--part speed``): a synthetic 100k-picture library (scale_data.py: CLIP-like vectors,
names ``IMG_0012345.jpg`` in numbered folders) is copied or built in the work folder; its
pictures get tags (names, places, part numbers) and 20,000 notes of three chunks each are added
with their words (a text vector set of random 384-d vectors: the words are what is measured).
The keyword part alone (``keywords.search``, as the runner calls it) and the whole query
(``Engine.search``: meaning in both spaces with ViT-B-32 (random weights, real compute) and
MiniLM, keywords, fusion) are timed per query, medians over repeated runs:

    .venv/bin/python bench/bench_keywords.py --part speed --workdir /tmp/kw-bench \
        [--from-library /tmp/bench-work/scale-100000-m16-efc128-seed0]

Quality (``--part mrr``): a small labelled library built here (drawn receipts and screenshots
with telling names, tagged photos with XMP keywords, notes with part numbers and names) and
queries each with the one file a person means. Mean reciprocal rank (first 10) of fused,
meaning-only and keyword-only rankings, for pictures (tiny random CLIP: meaning is noise there)
and for documents (the real MiniLM):

    .venv/bin/python bench/bench_keywords.py --part mrr
"""

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401  (puts the repository and tests/ on sys.path)
import numpy as np
from library_gen import TOPICS
from model_setup import TINY, VIT_RANDOM, prepare_model

from desktop_app.core.db.library import Library
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import TEXT
from desktop_app.core.searching import keywords
from desktop_app.core.searching.runner import QueryRunner
from desktop_app.core.searching.terms import Query, text

NAMES = ["Margarethe", "Theodor", "Ines", "Kofi", "Yuki", "Anneliese", "Ravi", "Oksana"]
PLACES = ["Lisbon", "Porto", "Kyoto", "Accra", "Bergen", "Tbilisi", "Cusco", "Hanoi"]
EVENTS = ["birthday", "wedding", "graduation", "hike", "concert", "picnic", "regatta"]
SPEED_QUERIES = [
    "IMG_0042",  # a file name, half typed
    "Margarethe birthday",  # a person and an event in tags
    "XK-4471",  # a part number in notes
    "invoice",  # a common word
    "the night train to Geneva",  # a description
    '"revised budget"',  # a phrase
    "name:IMG_00999",
    "tag:Kyoto",
    "a dog on a beach at sunset",  # words that match little: meaning decides
    "recei",  # typed so far
]


def _log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {message}\n")


# -- speed ---------------------------------------------------------------------------------


def enrich(home: Path, notes: int, seed: int = 0) -> None:
    """Tags on every picture and ``notes`` three-chunk notes with words, once."""
    library = Library(home)
    store = library.store
    if store.conn.execute("SELECT COUNT(*) FROM files WHERE kind = 'document'").fetchone()[0]:
        library.close()
        return
    rng = random.Random(seed)
    root = store.roots()[0]
    start = time.perf_counter()
    with store.transaction() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM files WHERE kind = 'image'")]
        conn.executemany(
            "UPDATE files SET tags = ? WHERE id = ?",
            (
                (
                    f"{rng.choice(NAMES)} · {rng.choice(PLACES)} · {rng.choice(EVENTS)}",
                    fid,
                )
                for fid in ids
            ),
        )
    _log(f"tags on {len(ids)} pictures in {time.perf_counter() - start:.1f} s")
    model_id = SentenceTransformerEncoder().model_id
    vset = store.ensure_vector_set(TEXT, model_id, 384)
    vectors = np.random.default_rng(seed).standard_normal((notes * 3, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sentences = [f"{s} {p}." for s_list, p_list in TOPICS.values() for s in s_list for p in p_list]
    first_id = max(ids) + 1
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO files (id, root_id, path, size, mtime_ns, hash, kind, taken_at, status,"
            " updated_at) VALUES (?, ?, ?, 2000, 0, ?, 'document', 0, 'indexed', 0)",
            (
                (
                    first_id + i,
                    root.id,
                    f"{root.path}/notes/{i // 500:03d}/note-{i:05d}.md",
                    f"n{i:031x}",
                )
                for i in range(notes)
            ),
        )
        rows = []
        for i in range(notes):
            for chunk in range(3):
                label = i * 3 + chunk
                words = " ".join(rng.choice(sentences) for _ in range(4))
                if rng.random() < 0.01:
                    words += f" Part XK-{rng.randrange(10000):04d} ordered."
                if rng.random() < 0.05:
                    words += f" Invoice {rng.randrange(100000)} for {rng.choice(NAMES)}."
                rows.append(
                    (
                        vset.id,
                        label,
                        first_id + i,
                        chunk * 10 + 1,
                        chunk * 10 + 10,
                        "line",
                        words,
                        vectors[label].tobytes(),
                    )
                )
        conn.executemany(
            "INSERT INTO units (set_id, label, file_id, span_start, span_end, span_unit, text,"
            " vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO embedded (set_id, file_id) VALUES (?, ?)",
            ((vset.id, first_id + i) for i in range(notes)),
        )
        conn.execute("UPDATE vector_sets SET next_label = ? WHERE id = ?", (notes * 3, vset.id))
    library.finish_set(vset)
    _log(f"{notes} notes in {time.perf_counter() - start:.1f} s; building their index")
    library.index_for(store.vector_sets(TEXT)[0])
    library.close()
    _log(f"enriched in {time.perf_counter() - start:.1f} s")


def speed(args: argparse.Namespace) -> None:
    home = args.workdir / "lib100k"
    if not home.exists():
        if args.from_library is None:
            raise SystemExit("give --from-library (a bench_scale.py 100k library) to copy")
        shutil.copytree(args.from_library, home, ignore=shutil.ignore_patterns("writer.lock"))
    enrich(home, args.notes)
    model = prepare_model(VIT_RANDOM, args.workdir / "models", home, threads=args.threads)
    minilm = SentenceTransformerEncoder()
    engine = Engine(home, writer=False, clip_loader=model.loader, text_loader=lambda: minilm)
    conn = engine.library.reader().conn
    files = conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    texts = conn.execute("SELECT COUNT(*) FROM units WHERE text IS NOT NULL").fetchone()[0]
    print(f"library: {files} files, {texts} text units")
    engine.warm_up()
    for query in SPEED_QUERIES:  # warm caches and the index loads
        engine.search(query, k=20)
    # The meaning search's own time (the models, the ANN, its calibration) is measured by
    # bench_scale.py; what this issue adds is everything else, timed as whole minus meaning.
    meaning_s: list[float] = []
    inner = QueryRunner._meaning

    def timed_meaning(self: QueryRunner, *args: Any) -> Any:
        start = time.perf_counter()
        result = inner(self, *args)
        meaning_s.append(time.perf_counter() - start)
        return result

    QueryRunner._meaning = timed_meaning  # type: ignore[method-assign]
    print("| query | keyword part p50 (ms) | outside meaning p50 (ms) | whole p50 (ms) | top hit |")
    print("|---|---|---|---|---|")
    all_kw, all_outside, all_whole = [], [], []
    for query in SPEED_QUERIES:
        parsed = keywords.parse(query)
        kw, outside, whole = [], [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            keywords.search(conn, parsed, 28)
            kw.append(time.perf_counter() - start)
            meaning_s.clear()
            start = time.perf_counter()
            hits = engine.search(query, k=20)
            whole.append(time.perf_counter() - start)
            outside.append(whole[-1] - sum(meaning_s))
        all_kw += kw
        all_outside += outside
        all_whole += whole
        top = Path(hits[0].path).name if hits else "-"
        print(f"| `{query}` | {_ms(kw)} | {_ms(outside)} | {_ms(whole)} | {top} |")
    print(
        f"\nall queries, p50 (p90): keyword part {_ms(all_kw)} ({_ms(all_kw, 0.9)}) ms; "
        f"outside the meaning search {_ms(all_outside)} ({_ms(all_outside, 0.9)}) ms; "
        f"whole query {_ms(all_whole)} ({_ms(all_whole, 0.9)}) ms"
    )
    engine.close()


def _ms(samples: list[float], quantile: float = 0.5) -> str:
    ordered = sorted(samples)
    return f"{1000 * ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]:.2f}"


# -- ranking quality -------------------------------------------------------------------------


def _mrr(engine: Engine, cases: list[tuple[str, str]], mode: str) -> float:
    total = 0.0
    for query, wanted in cases:
        hits = engine.query(Query((text(query),)), 10, mode=mode)
        names = [Path(h.path).name for h in hits]
        total += 1.0 / (names.index(wanted) + 1) if wanted in names else 0.0
    return total / len(cases)


def mrr(args: argparse.Namespace) -> None:
    from keyword_cases import DOCUMENT_CASES, PICTURE_CASES, build_labelled_library

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        build_labelled_library(base / "library")
        model = prepare_model(TINY, base / "models", base / "home", threads=1)
        minilm = SentenceTransformerEncoder()
        with Engine(base / "home", clip_loader=model.loader, text_loader=lambda: minilm) as engine:
            engine.add_root(base / "library")
            list(engine.index())
            print("| set | queries | fused | meaning only | keywords only |")
            print("|---|---|---|---|---|")
            for label, cases in (
                ("pictures (tiny random CLIP)", PICTURE_CASES),
                ("documents (real MiniLM)", DOCUMENT_CASES),
                ("all", PICTURE_CASES + DOCUMENT_CASES),
            ):
                scores = [_mrr(engine, cases, m) for m in ("fused", "meaning", "keywords")]
                print(
                    f"| {label} | {len(cases)} | " + " | ".join(f"{s:.3f}" for s in scores) + " |"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["speed", "mrr"], default="mrr")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/kw-bench"))
    parser.add_argument("--from-library", type=Path)
    parser.add_argument("--notes", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1, help="CLIP text tower threads")
    args = parser.parse_args()
    sqlite3.enable_callback_tracebacks(True)
    (speed if args.part == "speed" else mrr)(args)


if __name__ == "__main__":
    main()
