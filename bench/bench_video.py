"""Benchmark video indexing: speed as a multiple of real time, and frames kept per minute.

It writes a set of 1080p H.264 clips (PyAV's libx264; a keyframe every 2 s as phones write;
a new scene every few seconds, slowly panning), then indexes them with the real Engine, end to
end (scan, keyframe decode scaled in the decoder, change detection, model, commit), and reports:

* real-time multiple: seconds of video indexed per second of wall time (goal: at least 20x);
* the sampling alone (no model): its own real-time multiple, to show where the time goes;
* frames kept per minute of video, and the memory peak;
* pooling: whether the mean of a shot's kept frames finds the shot better than its best single
  frame, by querying with each shot's picture as it appears mid-shot (another pan position).

The default model is a randomly initialised ViT-B-32 (the default model's architecture and
compute, so timings hold; its rankings mean nothing, so the pooling figure is only meaningful
with real weights: ``--model ViT-B-32`` when they are cached).

    .venv/bin/python bench/bench_video.py                      # 3 clips of 20 s, ViT-B-32
    .venv/bin/python bench/bench_video.py --clips 2 --seconds 20 --model tiny
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_env
import numpy as np
from imagegen import scene
from measure import CpuClock, peak_rss_mb
from model_setup import TINY, VIT_RANDOM, prepare_model
from videogen import write_video

from desktop_app.core.engine import Engine
from desktop_app.core.kinds import video_frames
from desktop_app.core.kinds.base import CLIP

DEFAULT_OUT = bench_env.REPO / "bench" / "results" / "bench_video.json"
SIZE = (1920, 1080)
FPS = 30
SHOT_S = 5.0


def make_clips(folder: Path, clips: int, seconds: float) -> list[tuple[Path, list[int]]]:
    """``clips`` 1080p clips of ``seconds``, each shot ``SHOT_S`` long: (path, shot seeds)."""
    made = []
    for c in range(clips):
        seeds = [1000 + c * 100 + s for s in range(max(1, round(seconds / SHOT_S)))]
        path = write_video(
            folder / f"clip{c:02d}.mp4",
            [(seed, SHOT_S) for seed in seeds],
            size=SIZE,
            fps=FPS,
            gop=2 * FPS,
        )
        made.append((path, seeds))
    return made


def sampling_only(paths: list[Path], short_side: int) -> tuple[float, int]:
    """Wall seconds to sample every clip without a model, and the frames kept."""
    start, kept = time.perf_counter(), 0
    for path in paths:
        kept += len(video_frames.sample(str(path), short_side).frames)
    return time.perf_counter() - start, kept


def pooling(engine: Engine, clips: list[tuple[Path, list[int]]]) -> dict[str, Any]:
    """Top-1 shot accuracy for queries made of each shot's picture mid-shot (panned 20 px):
    best single frame of a shot against the mean of its frames."""
    reader = engine.library.reader()
    vset = engine.library.searchable_set(CLIP)
    assert vset is not None
    shots: list[tuple[str, int, np.ndarray]] = []  # (clip, shot index, unit vectors)
    for path, seeds in clips:
        record = engine.file(path)
        spans = reader.spans_of_file(vset.id, record.id)
        vectors = reader.vectors_of_file(vset.id, record.id)
        for index in range(len(seeds)):
            inside = [
                v
                for span, v in zip(spans, vectors, strict=True)
                if index * SHOT_S <= span.start < (index + 1) * SHOT_S
            ]
            if inside:
                shots.append((path.name, index, np.stack(inside)))
    model = engine.encoders.get(CLIP)
    single_right = pooled_right = 0
    for name, index, _ in shots:
        seed = next(s for p, seeds in clips if p.name == name for s in [seeds[index]])
        big = scene(seed, (SIZE[0] + 40, SIZE[1] + 40))
        query = model.embed_images([big.crop((20, 20, 20 + SIZE[0], 20 + SIZE[1]))])[0]
        single = [float(np.max(vectors @ query)) for _, _, vectors in shots]
        mean = [float(_unit(vectors.mean(axis=0)) @ query) for _, _, vectors in shots]
        target = next(i for i, (n, j, _) in enumerate(shots) if (n, j) == (name, index))
        single_right += int(np.argmax(single) == target)
        pooled_right += int(np.argmax(mean) == target)
    return {
        "shots": len(shots),
        "frames_per_shot": statistics.mean(len(v) for _, _, v in shots) if shots else 0,
        "single_frame_top1": single_right / max(1, len(shots)),
        "pooled_top1": pooled_right / max(1, len(shots)),
    }


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each clip")
    parser.add_argument("--model", default=VIT_RANDOM, help=f"{VIT_RANDOM} (default), {TINY}")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="snapfind-bench-video-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        clips = make_clips(work / "videos", args.clips, args.seconds)
        generate_s = time.perf_counter() - start
        footage_s = sum(video_frames.probe(str(p)).duration or 0 for p, _ in clips)
        choice = prepare_model(args.model, work / "model", work / "home", args.threads)
        encoder = choice.loader()
        sample_s, sampled = sampling_only([p for p, _ in clips], encoder.draft_size)
        with Engine(work / "home", clip_loader=lambda: encoder) as engine:
            engine.add_root(work / "videos")
            encoder.embed_texts(["warm up"])
            encoder.resolve_precision()  # once per model load, not per video
            clock = CpuClock.now()
            start = time.perf_counter()
            progress = list(engine.index())
            index_s = time.perf_counter() - start
            other = clock.other_load(CpuClock.now(), len(os.sched_getaffinity(0)))
            assert progress[-1].phase == "done", progress[-1]
            status = engine.status()
            frames = sum(s["vectors"] for s in status.vector_sets if s["space"] == CLIP)
            pooled = pooling(engine, clips)
    results = {
        "model": choice.label,
        "clips": args.clips,
        "clip_seconds": args.seconds,
        "size": f"{SIZE[0]}x{SIZE[1]} H.264 {FPS} fps, keyframe every 2 s",
        "footage_s": round(footage_s, 1),
        "generate_s": round(generate_s, 1),
        "index_s": round(index_s, 2),
        "realtime_multiple": round(footage_s / index_s, 1),
        "sampling_only_s": round(sample_s, 2),
        "sampling_realtime_multiple": round(footage_s / sample_s, 1),
        "frames_kept": frames,
        "frames_sampled_check": sampled,
        "frames_per_minute": round(frames / (footage_s / 60), 1),
        "peak_rss_mb": round(peak_rss_mb()),
        "other_load": round(other, 2),
        "pooling": pooled,
    }
    print(json.dumps(results, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
