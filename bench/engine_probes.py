"""Measurements taken through the real Engine: an index run phase by phase, the image path
stage by stage, and query latencies.

They drive the same public calls the app makes, so the numbers are what a user would see; the
generic timing and statistics tools they use live in ``measure``.
"""

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401  (the repository on sys.path)
import numpy as np
from measure import latency_summary, timed

from desktop_app.core.db.records import FileRecord
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.image import decode_image


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
        if report.phase in ("images", "documents"):
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
    ms = {
        k: v / n * 1000
        for k, v in {
            "decode": decode_s,
            "draft": draft_s,
            "prep": prep_s,
            "forward": forward_s,
        }.items()
    }
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
