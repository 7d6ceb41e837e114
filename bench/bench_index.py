"""Benchmark Snapfind's indexing and search, end to end, through the real Engine.

What it measures, on a library it generates itself (or on a real folder with ``--folder``):

* the first full index: scan + read/decode + embed + commit, images/s and documents/s;
* a re-scan of the unchanged library (one ``stat`` per file, nothing embedded);
* cold model load (CLIP and the MiniLM document model), and the import of torch/open_clip;
* search latency, p50/p95 after a warm-up: text queries (``Engine.search``), image queries
  (``Engine.search_image`` on a JPEG outside the library) and "more like this"
  (``Engine.similar``);
* a per-stage breakdown of the image path on a sample (decode, prepare, model forward);
* peak and current resident memory of this process;
* how busy other processes kept the machine meanwhile (torch stalls when they take a core,
  so a report with a load warning should be rerun).

Models: ``tiny`` (default) is the test suite's tiny random CLIP of the real open_clip
architecture, written to the work folder and loaded through the app's ``ClipSpec`` /
``OpenClipEncoder`` path. ``vit-b-32-random`` is a randomly initialised ViT-B-32: the same
architecture and compute as the real weights (so the timings stand), but its search results
mean nothing. Any other name is a preset whose weights must already be in the Hugging Face
cache. Documents always use the bundled all-MiniLM-L6-v2.

Results go to stdout as Markdown tables and to a JSON file (``--out``).

    .venv/bin/python bench/bench_index.py --images 1000 --model tiny
    .venv/bin/python bench/bench_index.py --images 200 --model vit-b-32-random
    .venv/bin/python bench/bench_index.py --folder ~/Pictures --model ViT-B-32
"""

import argparse
import random
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bench_env  # first: the repository and tests/ on sys.path, Hugging Face offline
from engine_probes import (
    cycle,
    indexed_files,
    per_second,
    query_latencies,
    run_index,
    stage_breakdown,
)
from library_gen import generate_documents, generate_images, make_photos
from measure import CpuClock, machine_info, peak_rss_mb, rss_mb, timed
from model_setup import TINY, VIT_RANDOM, TimedEncoder, prepare_model
from report import report, write_json

from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.core.kinds.base import TEXT

DEFAULT_OUT = bench_env.REPO / "bench" / "results" / "bench_index.json"
QUERIES = (
    "a dog running on the beach",
    "sunset over the mountains",
    "red car parked in a narrow street",
    "birthday party with a cake and candles",
    "snow covered trees in winter",
    "a plate of pasta with tomato sauce",
    "children playing football in the park",
    "old stone bridge over a river",
    "screenshot of a spreadsheet",
    "blue sky with white clouds",
    "a cat sleeping on a sofa",
    "night city lights and traffic",
    "wedding photo in a church",
    "green field with cows",
    "close-up of a yellow flower",
    "meeting notes about the quarterly budget",
    "recipe for banana bread",
    "how to reset the router password",
    "packing list for the camping trip",
    "ideas for the garden next spring",
    "train timetable from Lyon to Geneva",
    "notes on the database migration plan",
    "book recommendations from Anna",
    "symptoms the doctor asked about",
    "lighthouse on a rocky coast",
    "bicycle leaning against a wall",
    "a crowded market with fruit stalls",
    "foggy forest path in autumn",
    "desk with a laptop and a coffee mug",
    "aerial view of a harbour with boats",
)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if w < 32 or h < 32:
        raise argparse.ArgumentTypeError("width and height must be at least 32")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Benchmark indexing and search through Snapfind's Engine (CPU).",
        epilog="Results: Markdown tables on stdout and a JSON file (--out).",
    )
    parser.add_argument(
        "--images",
        type=int,
        default=1000,
        help="synthetic photos to generate (default: %(default)s)",
    )
    parser.add_argument(
        "--documents",
        type=int,
        default=40,
        help="synthetic notes to generate (default: %(default)s)",
    )
    parser.add_argument(
        "--size",
        type=parse_size,
        default=None,
        metavar="WxH",
        help="fix the photo size (default: mixed, 640x480 to 1600x1200)",
    )
    parser.add_argument(
        "--folder",
        type=Path,
        default=None,
        metavar="PATH",
        help="index this real folder instead (read only: nothing is written there)",
    )
    parser.add_argument(
        "--model",
        default=TINY,
        metavar="NAME",
        help=f"'{TINY}' (default), '{VIT_RANDOM}', or a preset name whose "
        "weights are already cached",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        metavar="PATH",
        help="keep data, weights and the library here and reuse the generated "
        "data next time (default: a temp folder, deleted afterwards)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads, as the 'threads' setting sets them (default: the "
        "app's default, all cores)",
    )
    parser.add_argument(
        "--queries",
        type=int,
        default=30,
        help="timed calls per kind of query (default: %(default)s)",
    )
    parser.add_argument(
        "--rescans",
        type=int,
        default=3,
        help="re-scans of the unchanged library (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for the generated data (default: %(default)s)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="PATH",
        help="JSON results file (default: bench/results/bench_index.json)",
    )
    return parser


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    # 1. Cold imports, then the model: a preset that is not cached fails before any data is made.
    clock = CpuClock.now()
    imports_s, _ = timed(lambda: (__import__("torch"), __import__("open_clip")))
    import torch

    machine = machine_info()
    home = workdir / "home"  # a fresh library every run
    shutil.rmtree(home, ignore_errors=True)
    print(f"model: preparing {args.model}", flush=True)
    choice = prepare_model(args.model, workdir / "models", home, args.threads)

    # 2. Data, made in child processes (not part of any measure), reused from --workdir.
    size_label = f"{args.size[0]}x{args.size[1]}" if args.size else "mixed 640x480..1600x1200"
    if args.folder:
        library = args.folder.expanduser().resolve()
        if not library.is_dir():
            raise SystemExit(f"--folder {library}: not a folder")
        source, size_label = f"real folder {library}", "as found"
    else:
        tag = f"{args.size[0]}x{args.size[1]}" if args.size else "mixed"
        library = workdir / f"library-{args.images}-{args.documents}-{tag}-seed{args.seed}"
        gen_s, written = timed(
            lambda: (
                generate_images(library / "Photos", args.images, args.size, args.seed)
                + generate_documents(library / "Notes", args.documents, args.seed)
            )
        )
        source = f"generated with seed {args.seed}, " + (
            f"{written} files written in {gen_s:.1f} s" if written else "reused from --workdir"
        )
        print(f"data: {library} ({source})", flush=True)
    query_size = args.size or (1600, 1200)
    query_tag = f"{query_size[0]}x{query_size[1]}"
    query_images = [workdir / "queries" / f"query-{query_tag}-{i}.jpg" for i in range(8)]
    make_photos([(str(p), 10_000_000 + i, query_size, True) for i, p in enumerate(query_images)])

    # 3. Both models loaded cold through the Engine, then the first full index.
    timer: list[TimedEncoder] = []

    def clip_loader() -> TimedEncoder:
        timer.append(TimedEncoder(choice.loader()))
        return timer[0]

    engine = Engine(home, clip_loader=clip_loader)
    try:
        clip_s, _ = timed(engine.encoders.clip)
        text_s, _ = timed(engine.encoders.text)
        machine["torch_threads"] = torch.get_num_threads()
        rss_load = peak_rss_mb()
        rss_now_load = rss_mb()
        encoder = timer[0]

        # 4. First full index, then re-scans of the unchanged library.
        engine.add_root(library)
        print("index: first full run", flush=True)
        first = run_index(engine)
        encoder_s, encoder_calls = encoder.image_s, encoder.image_calls
        rss_index = peak_rss_mb()
        rss_now_index = rss_mb()
        index_load = clock.other_load(CpuClock.now(), machine["cores"])
        rescans = [run_index(engine) for _ in range(args.rescans)]
        files = indexed_files(engine)
        images = [r for r in files if r.kind == "image"]
        documents = [r for r in files if r.kind == "document"]
        chunks = sum(
            int(str(v["vectors"])) for v in engine.status().vector_sets if v["space"] == TEXT
        )
        print(f"index: {first.wall_s:.1f} s, {first.message}", flush=True)

        if not images:
            raise SystemExit(f"no image was indexed in {library}; nothing to measure")

        # 5. Image path, stage by stage, on a sample.
        rng = random.Random(args.seed)
        sample = rng.sample(images, min(32, len(images)))
        stages = stage_breakdown(encoder.inner, sample)

        # 6. Query latencies, end to end through the Engine.
        print("queries", flush=True)
        n = args.queries
        picks = [r.id for r in rng.sample(images, min(n + 1, len(images)))]
        queries: dict[str, dict[str, Any]] = {
            "text (images + documents)": query_latencies(engine.search, cycle(QUERIES), n),
            "text → images only": query_latencies(
                lambda t: engine.search(t, kinds=("image",)), cycle(QUERIES[::-1]), n
            ),
            "text → documents only": query_latencies(
                lambda t: engine.search(t, kinds=("document",)), cycle(QUERIES[1::2]), n
            ),
            f"image ({query_size[0]}x{query_size[1]} JPEG)": query_latencies(
                engine.search_image, cycle(query_images), n
            ),
            "similar (indexed image)": query_latencies(engine.similar, cycle(picks), n),
        }
        if documents:
            queries["similar (indexed document)"] = query_latencies(
                engine.similar, cycle([r.id for r in documents]), n
            )
    finally:
        engine.close()
    machine["other_load_during_index"] = index_load
    machine["other_load_during_run"] = clock.other_load(CpuClock.now(), machine["cores"])

    sizes = {(r.width, r.height) for r in images}
    return {
        "machine": machine,
        "config": {
            "model": args.model,
            "model_label": choice.label,
            "model_note": choice.note,
            "model_prepare_s": choice.prepare_s,
            "images": len(images),
            "documents": len(documents),
            "document_chunks": chunks,
            "image_mb": sum(r.size for r in images) / 1e6,
            "document_kb": sum(r.size for r in documents) / 1e3,
            "image_sizes": size_label if sizes else "none",
            "distinct_image_sizes": len(sizes),
            "source": source,
            "argv": sys.argv[1:],
        },
        "model_load": {"imports_s": imports_s, "clip_s": clip_s, "text_s": text_s},
        "index": {
            "wall_s": first.wall_s,
            "phases": first.phases,
            "counts": first.counts,
            "failed": first.failed,
            "encoder_s": encoder_s,
            "encoder_calls": encoder_calls,
            "images_per_s": per_second(first, "images"),
            "documents_per_s": per_second(first, "documents"),
            "message": first.message,
        },
        "rescan": {
            "repeats": len(rescans),
            "median_s": statistics.median(r.wall_s for r in rescans) if rescans else 0.0,
            "all_s": [r.wall_s for r in rescans],
        },
        "stages": stages,
        "queries": queries,
        "rss_mb": {"after_load": rss_load, "after_index": rss_index, "end": peak_rss_mb()},
        "current_rss_mb": {
            "after_load": rss_now_load,
            "after_index": rss_now_index,
            "end": rss_mb(),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.workdir:
        workdir = args.workdir.expanduser().resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="snapfind-bench-"))
    try:
        results = run(args, workdir)
    except KnownError as err:  # e.g. a preset whose weights are not on this computer
        print(f"bench_index: {err}", file=sys.stderr)
        return 2
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(results))
    write_json(results, args.out)
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
