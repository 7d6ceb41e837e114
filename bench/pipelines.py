"""The indexing pipelines the speed benchmark races: a naive loop, an rclip-style pipeline and
model-only throughput on already-decoded tensors.

Each takes a list of picture files and returns (seconds, embeddings in file order), so the
benchmark can put their speeds side by side and compare their vectors with the fp32 reference.
"""

import hashlib
import os
import sqlite3
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401  (the repository on sys.path)
import numpy as np
import torch
from PIL import Image

RCLIP_BATCH = 8  # rclip's --indexing-batch-size default
RCLIP_LOOKAHEAD_BATCHES = 3  # rclip's RClip.LOOKAHEAD_BATCHES
RCLIP_MAX_WORKERS = 16  # rclip's RClip.MAX_IMAGE_LOADING_WORKERS
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def _db(path: Path) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE images (path TEXT PRIMARY KEY, hash TEXT, vector BLOB)")
    return db


def naive_loop(
    model: Any, preprocess: Any, files: Sequence[Path], db_path: Path
) -> tuple[float, np.ndarray]:
    """What a first attempt looks like: open with PIL, preprocess, encode one picture at a
    time in fp32, insert. No batching, no overlap, no reduced-scale decoding."""
    db = _db(db_path)
    vectors = []
    start = time.perf_counter()
    for path in files:
        image = Image.open(path).convert("RGB")
        with torch.no_grad():
            vector = model.encode_image(preprocess(image).unsqueeze(0))[0].numpy()
        vector = vector / np.linalg.norm(vector)
        db.execute("INSERT INTO images VALUES (?, ?, ?)", (str(path), "", vector.tobytes()))
        vectors.append(vector)
    db.commit()
    seconds = time.perf_counter() - start
    db.close()
    return seconds, np.stack(vectors)


def rclip_preprocess(image: Image.Image, size: int) -> np.ndarray:
    """rclip's pure PIL/numpy CLIP preprocessing: shortest side to ``size`` (bicubic, full
    decode), centre crop, scale, normalise."""
    image = image.convert("RGB")
    w, h = image.size
    new = (size, int(h * size / w)) if w < h else (int(w * size / h), size)
    image = image.resize(new, Image.Resampling.BICUBIC)
    w, h = image.size
    left, top = round((w - size) / 2.0), round((h - size) / 2.0)
    image = image.crop((left, top, left + size, top + size))
    pixels = (np.asarray(image, dtype=np.float32) / 255.0 - CLIP_MEAN) / CLIP_STD
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def _rclip_hash(path: Path) -> str:
    """rclip's rename fingerprint: SHA-256 of the first 1 MB and the last 1 KB."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(1 << 20))
        size = os.fstat(handle.fileno()).st_size
        if size > 1 << 20:
            handle.seek(max(1 << 20, size - 1024))
            digest.update(handle.read())
    return digest.hexdigest()


def _rclip_load(path: Path, size: int) -> tuple[str, np.ndarray]:
    return _rclip_hash(path), rclip_preprocess(Image.open(path), size)


def rclip_session(onnx_fp32: Path) -> Any:
    """An ONNX Runtime fp32 session set up as rclip sets up its own (threads = usable cores,
    the runtime's other defaults)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, len(os.sched_getaffinity(0)))
    return ort.InferenceSession(str(onnx_fp32), options, providers=["CPUExecutionProvider"])


def rclip_style(
    session: Any, size: int, files: Sequence[Path], db_path: Path
) -> tuple[float, np.ndarray]:
    """rclip 3.3's indexing loop, emulated: a thread pool (min(16, cores) workers) reads,
    hashes and preprocesses pictures, keeping three batches of eight in flight ahead of the
    model; each batch runs through the fp32 ONNX session and is inserted into SQLite."""
    db = _db(db_path)
    workers = max(1, min(RCLIP_MAX_WORKERS, os.cpu_count() or 1))
    in_flight_max = max(RCLIP_LOOKAHEAD_BATCHES * RCLIP_BATCH, workers)
    vectors: list[np.ndarray] = []
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        queue: deque[tuple[Path, Future[tuple[str, np.ndarray]]]] = deque()
        todo = iter(files)
        batch: list[tuple[Path, str, np.ndarray]] = []

        def flush() -> None:
            (features,) = session.run(None, {"pixels": np.stack([b[2] for b in batch])})
            features = features / np.linalg.norm(features, axis=1, keepdims=True)
            for (path, digest, _), vector in zip(batch, features, strict=True):
                db.execute("INSERT INTO images VALUES (?, ?, ?)", (str(path), digest, vector))
                vectors.append(vector)
            batch.clear()

        while True:
            while len(queue) < in_flight_max and (path := next(todo, None)) is not None:
                queue.append((path, pool.submit(_rclip_load, path, size)))
            if not queue:
                break
            path, future = queue.popleft()
            digest, pixels = future.result()
            batch.append((path, digest, pixels))
            if len(batch) >= RCLIP_BATCH:
                flush()
        if batch:
            flush()
    db.commit()
    seconds = time.perf_counter() - start
    db.close()
    return seconds, np.stack(vectors)


def model_only(encoder: Any, prepared: Sequence[torch.Tensor], batch: int = 16) -> float:
    """Images/s of the encoder's image tower alone on already-prepared inputs (after one
    warm-up batch): the ceiling the whole pipeline is measured against."""
    encoder.embed_prepared(prepared[:batch])
    start = time.perf_counter()
    for i in range(0, len(prepared), batch):
        encoder.embed_prepared(prepared[i : i + batch])
    return len(prepared) / (time.perf_counter() - start)


def best_model_only(encoder: Any, prepared: Sequence[torch.Tensor]) -> dict[str, float]:
    """Model-only images/s with every core and with one core left free, and the better one.

    Both, because two torch threads stall badly when another process takes a core: on a
    shared machine one thread can beat two, and the ceiling is whichever is faster.
    """
    rates = {}
    all_cores = len(os.sched_getaffinity(0))
    for threads in sorted({all_cores, max(1, all_cores - 1)}):
        encoder.set_threads(threads)
        rates[f"threads_{threads}"] = model_only(encoder, prepared)
    encoder.set_threads(all_cores)
    return {**rates, "best": max(rates.values())}
