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
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
for _path in (REPO, TESTS):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network mid-benchmark

from imagegen import scene  # type: ignore[import-not-found]  # noqa: E402  (tests/)

from desktop_app.core.decoding import decode_image  # noqa: E402
from desktop_app.core.engine import Engine  # noqa: E402
from desktop_app.core.errors import KnownError  # noqa: E402
from desktop_app.core.store import DOCUMENT, IMAGE, FileRecord  # noqa: E402

DEFAULT_OUT = REPO / "bench" / "results" / "bench_index.json"
TINY, VIT_RANDOM = "tiny", "vit-b-32-random"
MIXED_SIZES = (  # (width, height) of generated photos; portrait ones are added by rotation
    (640, 480),
    (800, 600),
    (1024, 768),
    (1280, 960),
    (1280, 720),
    (1440, 960),
    (1600, 900),
    (1600, 1200),
)
CAMERAS = (("Canon", "Canon EOS 80D"), ("Apple", "iPhone 13"), ("FUJIFILM", "X-T3"), ("", ""))
PLACES = ("beach", "city", "garden", "mountains", "family", "party", "trip", "home")
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
TOPICS: dict[str, tuple[list[str], list[str]]] = {
    # topic: (subjects, predicates) combined into varied sentences
    "meeting": (
        ["The team", "Marta", "Finance", "The vendor", "Our manager", "The design group"],
        [
            "agreed to move the launch to the second week of May",
            "asked for a revised budget before Friday",
            "raised concerns about the database migration",
            "will send the quarterly numbers by email",
            "wants fewer meetings and clearer owners for each task",
            "proposed a pilot with three customers",
        ],
    ),
    "recipe": (
        ["The dough", "Two ripe bananas", "The oven", "A pinch of salt", "The sauce", "Butter"],
        [
            "should rest for at least an hour in a warm place",
            "must be mashed until smooth before adding the flour",
            "needs to be preheated to 180 degrees",
            "brings out the sweetness of the tomatoes",
            "simmers gently for twenty minutes with the lid off",
            "can be replaced by olive oil for a lighter version",
        ],
    ),
    "travel": (
        ["The night train", "Our hostel", "The ferry", "The museum", "The old town", "The guide"],
        [
            "leaves Lyon at 21:40 and reaches Geneva before dawn",
            "is a short walk from the harbour and the fish market",
            "only runs twice a day outside the summer season",
            "is closed on Mondays but free on the first Sunday",
            "is best explored early in the morning before the crowds",
            "recommended a quiet beach north of the lighthouse",
        ],
    ),
    "garden": (
        ["The tomatoes", "The apple tree", "Compost", "The lawn", "Lavender", "The rain barrel"],
        [
            "need more sun than the corner by the fence gets",
            "should be pruned in late winter while it is dormant",
            "improves heavy clay soil within a couple of seasons",
            "turns yellow when it is watered in the midday heat",
            "attracts bees and survives the dry weeks of August",
            "collects enough water for the vegetable beds",
        ],
    ),
    "tech": (
        ["The router", "The backup script", "The laptop", "The printer", "The VPN", "The NAS"],
        [
            "can be reset by holding the button for ten seconds",
            "runs every night at two and keeps thirty snapshots",
            "needs a new battery after four years of daily use",
            "only works after reinstalling the vendor driver",
            "drops the connection when the hotel wifi sleeps",
            "stores the family photos on two mirrored disks",
        ],
    ),
}


# -- small helpers ---------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident set size now (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


@dataclass
class CpuClock:
    """System-wide busy CPU time against this process's own, to detect other load."""

    wall: float
    busy_s: float
    own_s: float

    @classmethod
    def now(cls) -> "CpuClock":
        busy = 0.0
        try:
            ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
            busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # not idle/iowait
        except (OSError, ValueError):
            pass
        return cls(time.perf_counter(), busy, sum(os.times()[:4]))

    def other_load(self, later: "CpuClock", cores: int) -> float:
        """Fraction of the machine that other processes kept busy between two clocks."""
        elapsed = later.wall - self.wall
        if not self.busy_s or elapsed <= 0:
            return 0.0
        other = (later.busy_s - self.busy_s) - (later.own_s - self.own_s)
        return max(0.0, other / (elapsed * max(cores, 1)))


def latency_summary(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean in milliseconds."""
    ms = np.asarray(samples_s, dtype=np.float64) * 1000
    return {
        "n": len(ms),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
        "max_ms": float(ms.max()),
    }


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if w < 32 or h < 32:
        raise argparse.ArgumentTypeError("width and height must be at least 32")
    return w, h


def machine_info() -> dict[str, Any]:
    import open_clip
    import torch

    cpu, flags = platform.processor() or "unknown", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return {
        "cpu": cpu,
        "cores": usable,
        "cpu_flags": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}),
        "memory_gb": round(mem_gb, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "open_clip": open_clip.__version__,
        "gpu": "none used (CPU only)",
    }


# -- synthetic library -----------------------------------------------------------------------


def _photo(task: tuple[str, int, tuple[int, int], bool]) -> int:
    """Write one photo-like JPEG (a seeded scene plus sensor-like grain); returns its bytes."""
    path, seed, size, with_exif = task
    rng = random.Random(seed)
    picture = scene(seed, size)
    grain = np.random.default_rng(seed).integers(-9, 10, size=(size[1], size[0], 1), dtype=np.int16)
    pixels = np.clip(np.asarray(picture, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    picture = Image.fromarray(pixels)
    exif = Image.Exif()
    if with_exif:
        make, model = rng.choice(CAMERAS)
        if make:
            exif[271], exif[272] = make, model  # Make, Model
        day = f"{rng.randint(2012, 2024)}:{rng.randint(1, 12):02d}:{rng.randint(1, 28):02d}"
        hour = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
        exif.get_ifd(0x8769)[36867] = f"{day} {hour}"  # DateTimeOriginal
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = path + ".part"
    picture.save(tmp, "JPEG", quality=rng.choice((85, 90, 92)), exif=exif)
    os.replace(tmp, path)
    return os.path.getsize(path)


def photo_size(rng: random.Random, fixed: tuple[int, int] | None) -> tuple[int, int]:
    if fixed:
        return fixed
    w, h = rng.choice(MIXED_SIZES)
    return (h, w) if rng.random() < 0.25 else (w, h)  # a quarter are portrait


def generate_images(folder: Path, count: int, fixed: tuple[int, int] | None, seed: int) -> int:
    """``count`` photos in dated album folders; existing files are kept. Returns how many were
    written."""
    rng = random.Random(seed)
    tasks = []
    for i in range(count):
        album = f"{2012 + i // 250}/{(i // 50) % 12 + 1:02d}-{PLACES[(i // 50) % len(PLACES)]}"
        size = photo_size(rng, fixed)
        tasks.append((str(folder / album / f"IMG_{i:05d}.jpg"), seed * 1_000_003 + i, size,
                      rng.random() < 0.7))
    return make_photos(tasks)


def make_photos(tasks: list[tuple[str, int, tuple[int, int], bool]]) -> int:
    """Write the photos that do not exist yet, in fresh child processes (one per core)."""
    missing = [t for t in tasks if not os.path.exists(t[0])]
    if missing:
        spawn = multiprocessing.get_context("spawn")  # no fork of a process that holds torch
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=spawn) as pool:
            list(pool.map(_photo, missing, chunksize=4))
    return len(missing)


def _document(rng: random.Random, topic: str, paragraphs: int) -> str:
    subjects, predicates = TOPICS[topic]
    lines = [f"# {topic.capitalize()} notes {rng.randint(1, 99)}", ""]
    for _ in range(paragraphs):
        sentences = [
            f"{rng.choice(subjects)} {rng.choice(predicates)}."
            for _ in range(rng.randint(1, 5))
        ]
        if rng.random() < 0.3:
            lines.append(f"- {' '.join(sentences)}")
        else:
            lines.extend([" ".join(sentences), ""])
    return "\n".join(lines) + "\n"


def generate_documents(folder: Path, count: int, seed: int) -> int:
    """``count`` Markdown and text notes, from a few lines to several model windows long.

    Existing files are kept; returns how many were written."""
    rng = random.Random(seed + 7)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for i in range(count):
        topic = rng.choice(sorted(TOPICS))
        paragraphs = rng.choice((1, 3, 6, 12, 30))  # 30 paragraphs: several chunks
        path = folder / f"{topic}-{i:03d}.{'md' if i % 3 else 'txt'}"
        text = _document(rng, topic, paragraphs)  # always drawn, so the sequence is stable
        if not path.exists():
            path.write_text(text, "utf-8")
            written += 1
    return written


# -- models ----------------------------------------------------------------------------------


@dataclass
class ModelChoice:
    loader: Callable[[], Any]  # builds an OpenClipEncoder
    label: str
    note: str
    prepare_s: float = 0.0


def _write_random_vit(target: str) -> None:
    """In a child process (its memory does not count): a seeded random ViT-B-32 as safetensors."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, target + ".part")
    os.replace(target + ".part", target)


def _preset_preprocess(arch: str, tag: str) -> dict[str, Any]:
    """The preprocessing a preset's weights expect, as ``ModelCatalog.spec`` passes it."""
    import open_clip

    keys = {"mean": "image_mean", "std": "image_std", "interpolation": "image_interpolation",
            "resize_mode": "image_resize_mode"}
    cfg = open_clip.get_pretrained_cfg(arch, tag)
    return {keys[k]: v for k, v in cfg.items() if k in keys}


def prepare_model(name: str, model_dir: Path, home: Path, threads: int | None) -> ModelChoice:
    from desktop_app.core import models
    from desktop_app.core.encoders.clip import OpenClipEncoder
    from desktop_app.core.models import ClipSpec

    start = time.perf_counter()
    model_dir.mkdir(parents=True, exist_ok=True)
    if name == TINY:
        from tiny_model import ARCH, write_tiny_model  # type: ignore[import-not-found]

        _, weights = write_tiny_model(model_dir)
        spec = ClipSpec(f"open_clip:{ARCH}/bench", ARCH, weights, {}, "tiny random test model")
        note = "tiny random CLIP (2 layers, 64 px, dim 64): exercises the pipeline, not the model"
    elif name == VIT_RANDOM:
        weights = model_dir / "vit-b-32-random-seed0.safetensors"
        if not weights.exists():
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                pool.apply(_write_random_vit, (str(weights),))
        spec = ClipSpec(
            "open_clip:ViT-B-32/random-seed0",
            "ViT-B-32",
            weights,
            _preset_preprocess("ViT-B-32", models.PRESETS[0].tag),
            "ViT-B-32 (random init)",
        )
        note = (
            "ViT-B-32 with random weights: same architecture and compute as the real "
            "laion2b weights, so timings hold; search results are meaningless"
        )
    else:
        spec = models.ModelCatalog(home).spec(name)  # raises if the weights are not cached
        note = f"preset {name}, cached weights {spec.weights}"
        return ModelChoice(lambda: OpenClipEncoder(spec, threads=threads), spec.label, note)
    return ModelChoice(lambda: OpenClipEncoder(spec, threads=threads), spec.label, note,
                       time.perf_counter() - start)


class TimedEncoder:
    """Wraps the CLIP encoder to count the time spent running the image model.

    Everything else is passed through, so the wrapper follows the encoder API of the core
    (``embed_images`` and, where the core has it, ``prepare_image`` + ``embed_prepared``).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.image_s = 0.0
        self.image_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _timed(self, method: str, items: Sequence[Any]) -> np.ndarray:
        start = time.perf_counter()
        out: np.ndarray = getattr(self.inner, method)(items)
        self.image_s += time.perf_counter() - start
        self.image_calls += 1
        return out

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self._timed("embed_images", images)

    def embed_prepared(self, prepared: Sequence[Any]) -> np.ndarray:
        return self._timed("embed_prepared", prepared)


# -- measurements ----------------------------------------------------------------------------


@dataclass
class IndexRun:
    wall_s: float
    phases: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    message: str = ""


def run_index(engine: Engine) -> IndexRun:
    """Drive one index run; time each phase from its first progress report to the next's."""
    marks: list[tuple[str, float]] = []
    counts: dict[str, int] = {}
    failed, message = 0, ""
    start = time.perf_counter()
    for report in engine.index():
        if not marks or marks[-1][0] != report.phase:
            marks.append((report.phase, time.perf_counter()))
        if report.phase in (IMAGE + "s", DOCUMENT + "s"):
            counts[report.phase] = report.total
            failed += report.failed if report.done == report.total else 0
        message = report.message or message
    end = time.perf_counter()
    phases: dict[str, float] = {}
    for (phase, at), (_, after) in zip(marks, [*marks[1:], ("end", end)], strict=True):
        phases[phase] = phases.get(phase, 0.0) + after - at
    return IndexRun(end - start, phases, counts, failed, message)


def per_second(run: IndexRun, phase: str) -> float | None:
    """Files of a phase (embedded, reused or failed) per second of that phase."""
    seconds = run.phases.get(phase)
    return run.counts.get(phase, 0) / seconds if seconds else None


def indexed_files(engine: Engine) -> list[FileRecord]:
    reader = engine.library.reader()
    found: list[FileRecord] = []
    for root in reader.roots():
        found.extend(r for r in reader.files_under(root.id).values() if r.status == "indexed")
    return sorted(found, key=lambda r: r.id)


def stage_breakdown(encoder: Any, sample: list[FileRecord], batch: int = 16) -> dict[str, Any]:
    """Per-image milliseconds of each step of the indexer's image path, run one after another.

    As in the indexer, only the model-sized inputs are kept, never a batch of full-size images.
    """
    decode_s = draft_s = prep_s = forward_s = 0.0
    inputs: list[Any] = []
    for record in sample:
        data = Path(record.path).read_bytes()
        seconds, (image, _) = timed(decode_image, data)
        decode_s += seconds
        seconds, _ = timed(decode_image, data, draft_size=224)
        draft_s += seconds
        seconds, prepared = timed(encoder.prepare_image, image)
        prep_s += seconds
        inputs.append(prepared)
        del image
    encoder.embed_prepared(inputs[:batch])  # warm-up
    for i in range(0, len(inputs), batch):
        seconds, _ = timed(encoder.embed_prepared, inputs[i : i + batch])
        forward_s += seconds
    n = len(sample)
    ms = {k: v / n * 1000 for k, v in
          {"decode": decode_s, "draft": draft_s, "prep": prep_s, "forward": forward_s}.items()}
    worker_ms = ms["decode"] + ms["prep"]  # the indexer's decode worker does both
    return {
        "sample": n,
        "batch": batch,
        "mean_megapixels": float(np.mean([(r.width or 0) * (r.height or 0) for r in sample]) / 1e6),
        "decode_ms": ms["decode"],
        "decode_draft224_ms": ms["draft"],
        "preprocess_ms": ms["prep"],
        "forward_ms": ms["forward"],
        "worker_ms": worker_ms,
        "model_thread_ms": ms["forward"],
        "serial_images_per_s": 1000 / max(worker_ms + ms["forward"], 1e-9),
        "overlap_images_per_s": 1000 / max(worker_ms, ms["forward"], 1e-9),
    }


def query_latencies(run: Callable[[Any], object], args: Iterator[Any], n: int) -> dict[str, Any]:
    """One warm-up call (reported as ``first_ms``), then ``n`` timed calls."""
    first_s, _ = timed(run, next(args))
    samples = [timed(run, next(args))[0] for _ in range(n)]
    return {"first_ms": first_s * 1000, **latency_summary(samples)}


def cycle(items: Sequence[Any]) -> Iterator[Any]:
    while True:
        yield from items


# -- report ----------------------------------------------------------------------------------


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    fmt = "| " + " | ".join(f"{{:{w}}}" for w in widths) + " |"
    lines = [fmt.format(*header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines.extend(fmt.format(*row) for row in rows)
    return "\n".join(lines)


def report(results: dict[str, Any]) -> str:
    m, c, ix = results["machine"], results["config"], results["index"]
    load, rescan = results["model_load"], results["rescan"]
    q, st = results["queries"], results["stages"]
    out = [
        f"Machine: {m['cpu']}, {m['cores']} cores ({', '.join(m['cpu_flags']) or 'no AVX-512'}), "
        f"{m['memory_gb']} GB; {m['os']}; Python {m['python']}, torch {m['torch']} "
        f"({m['torch_threads']} threads), open_clip {m['open_clip']}; {m['gpu']}",
        f"Load from other processes: {100 * m['other_load_during_index']:.0f}% of the machine "
        f"during the first index, {100 * m['other_load_during_run']:.0f}% over the whole run"
        + (" — WARNING: timings are disturbed" if m["other_load_during_run"] > 0.1 else ""),
        f"Model: {c['model_label']} — {c['model_note']}",
        f"Library: {c['images']} images ({c['image_mb']:.0f} MB, {c['image_sizes']}), "
        f"{c['documents']} documents ({c['document_kb']:.0f} KB); source: {c['source']}",
        "",
    ]
    images, docs = ix["counts"].get("images", 0), ix["counts"].get("documents", 0)
    img_s, doc_s = ix["phases"].get("images", 0.0), ix["phases"].get("documents", 0.0)
    img_rate, doc_rate = ix["images_per_s"] or 0.0, ix["documents_per_s"] or 0.0
    rows = [
        ("import torch + open_clip", f"{load['imports_s']:.2f} s"),
        ("CLIP model load (cold)", f"{load['clip_s']:.2f} s"),
        ("MiniLM document model load (cold)", f"{load['text_s']:.2f} s"),
        ("first full index, wall (models loaded)", f"{ix['wall_s']:.1f} s"),
        ("  scan", f"{ix['phases'].get('scanning', 0.0):.2f} s"),
        ("  documents (read + chunk + embed + commit)",
         f"{doc_s:.2f} s → {doc_rate:.1f} documents/s "
         f"({c['document_chunks']} chunks)"),
        ("  images (read + decode + embed + commit)",
         f"{img_s:.1f} s → {img_rate:.1f} images/s"),
        ("  time inside the CLIP image model", f"{ix['encoder_s']:.1f} s "
         f"({100 * ix['encoder_s'] / img_s if img_s else 0:.0f}% of the image phase)"),
        ("  overall", f"{(images + docs) / ix['wall_s']:.1f} files/s; {ix['failed']} failed"),
        ("re-scan, unchanged library (median of "
         f"{rescan['repeats']})", f"{rescan['median_s'] * 1000:.0f} ms"),
        ("peak RSS after model load / index / all", f"{results['rss_mb']['after_load']:.0f} / "
         f"{results['rss_mb']['after_index']:.0f} / {results['rss_mb']['end']:.0f} MB"),
        ("current RSS after model load / index / all",
         f"{results['current_rss_mb']['after_load']:.0f} / "
         f"{results['current_rss_mb']['after_index']:.0f} / "
         f"{results['current_rss_mb']['end']:.0f} MB"),
    ]
    out += [markdown_table(("measure", "value"), rows), ""]
    qrows = [
        (name, f"{v['first_ms']:.1f}", f"{v['p50_ms']:.1f}", f"{v['p95_ms']:.1f}", str(v["n"]))
        for name, v in q.items()
    ]
    out += [markdown_table(("query (k=20)", "first ms", "p50 ms", "p95 ms", "n"), qrows), ""]
    srows = [
        ("decode_image, full size (as the indexer)", f"{st['decode_ms']:.1f}"),
        ("decode_image(draft_size=224) (for comparison)", f"{st['decode_draft224_ms']:.1f}"),
        ("CLIP prepare_image (resize, crop, normalise)", f"{st['preprocess_ms']:.1f}"),
        (f"model forward (embed_prepared, batch {st['batch']})", f"{st['forward_ms']:.1f}"),
        ("decode worker (decode + prepare)", f"{st['worker_ms']:.1f}"),
        ("model thread (forward)", f"{st['model_thread_ms']:.1f}"),
    ]
    out.append(markdown_table(
        (f"image path, ms per image ({st['sample']} images, {st['mean_megapixels']:.1f} MP avg)",
         "ms"), srows))
    out.append(
        f"From these: {st['serial_images_per_s']:.1f} images/s one step after another, "
        f"{st['overlap_images_per_s']:.1f} images/s if decode and model overlapped perfectly "
        "(optimistic: the forward above had every core to itself)."
    )
    return "\n".join(out)


# -- main ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Benchmark indexing and search through Snapfind's Engine (CPU).",
        epilog="Results: Markdown tables on stdout and a JSON file (--out).",
    )
    parser.add_argument("--images", type=int, default=1000,
                        help="synthetic photos to generate (default: %(default)s)")
    parser.add_argument("--documents", type=int, default=40,
                        help="synthetic notes to generate (default: %(default)s)")
    parser.add_argument("--size", type=parse_size, default=None, metavar="WxH",
                        help="fix the photo size (default: mixed, 640x480 to 1600x1200)")
    parser.add_argument("--folder", type=Path, default=None, metavar="PATH",
                        help="index this real folder instead (read only: nothing is written there)")
    parser.add_argument("--model", default=TINY, metavar="NAME",
                        help=f"'{TINY}' (default), '{VIT_RANDOM}', or a preset name whose "
                        "weights are already cached")
    parser.add_argument("--workdir", type=Path, default=None, metavar="PATH",
                        help="keep data, weights and the library here and reuse the generated "
                        "data next time (default: a temp folder, deleted afterwards)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads, as the 'threads' setting sets them (default: the "
                        "app's default, all cores)")
    parser.add_argument("--queries", type=int, default=30,
                        help="timed calls per kind of query (default: %(default)s)")
    parser.add_argument("--rescans", type=int, default=3,
                        help="re-scans of the unchanged library (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for the generated data (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="PATH",
                        help="JSON results file (default: bench/results/bench_index.json)")
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
        gen_s, written = timed(lambda: (
            generate_images(library / "Photos", args.images, args.size, args.seed)
            + generate_documents(library / "Notes", args.documents, args.seed)
        ))
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
        clip_s, _ = timed(engine.clip)
        text_s, _ = timed(engine.text_model)
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
        images = [r for r in files if r.kind == IMAGE]
        documents = [r for r in files if r.kind == DOCUMENT]
        chunks = sum(
            int(str(v["vectors"])) for v in engine.status().vector_sets
            if v["modality"] == DOCUMENT
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
                lambda t: engine.search(t, kinds=(IMAGE,)), cycle(QUERIES[::-1]), n),
            "text → documents only": query_latencies(
                lambda t: engine.search(t, kinds=(DOCUMENT,)), cycle(QUERIES[1::2]), n),
            f"image ({query_size[0]}x{query_size[1]} JPEG)": query_latencies(
                engine.search_image, cycle(query_images), n),
            "similar (indexed image)": query_latencies(engine.similar, cycle(picks), n),
        }
        if documents:
            queries["similar (indexed document)"] = query_latencies(
                engine.similar, cycle([r.id for r in documents]), n)
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
        "current_rss_mb": {"after_load": rss_now_load, "after_index": rss_now_index,
                           "end": rss_mb()},
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), "utf-8")
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
