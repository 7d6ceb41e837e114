"""Choosing how the image tower runs, and refusing a fast path that changes the results.

A fast path (bf16 weights, ONNX Runtime int8) is used only after a check on a fixed sample of
generated pictures shows it gives the fp32 reference's embeddings: mean cosine at least 0.99
*and* an error under a fifth of the distance between two different pictures (random and
real weights alike put different pictures at cosine 0.9 or more, so a cosine alone says little),
and that it is actually faster here (bf16 is slow on CPUs without bf16 instructions). The check
runs once per weights file, precision and software version; its result is kept in the data
folder so the GUI and CLI can show why a path was refused. A refused path falls back to fp32,
so every vector in a set comes from a path that passed, and a change of precision never needs a
re-index.
"""

import functools
import json
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from desktop_app.core.encoders.towers import (
    BF16,
    EXPORT_RECIPE,
    FP32,
    ONNX_INT8,
    TorchTower,
    Tower,
    bf16_tower,
    onnx_int8_tower,
)

AUTO = "auto"
PRECISIONS = (AUTO, FP32, BF16, ONNX_INT8)
# What ``auto`` tries, in order; the first that passes wins, else fp32. int8 is not among them:
# on real transformer weights dynamic int8 loses too much (see README, "Speed").
AUTO_ORDER = (BF16,)
MIN_MEAN_COSINE = 0.99
MAX_RELATIVE_ERROR = 0.2
MIN_SPEEDUP = 1.1
SAMPLE_SIZE = 32
TOP_K = 10
REPORTS_FILE = "precision.json"


@dataclass
class TowerSource:
    """What a fast path is built from."""

    visual: torch.nn.Module
    example: torch.Tensor  # a prepared batch: the input shape for an export
    cache_dir: Path | None
    identity: str  # of the weights file, see identity.weights_identity
    threads: int


def _onnx(source: TowerSource) -> Tower:
    if source.cache_dir is None:
        raise RuntimeError("no data folder to keep the exported model in")
    return onnx_int8_tower(
        source.visual, source.example[:1], source.cache_dir, source.identity, source.threads
    )


BUILDERS: dict[str, Callable[[TowerSource], Tower]] = {
    BF16: lambda source: bf16_tower(source.visual),
    ONNX_INT8: _onnx,
}


@dataclass
class FidelityReport:
    """One path's check against fp32 on the sample; ``reason`` says why it was refused."""

    precision: str
    model_id: str
    accepted: bool
    reason: str = ""
    sample: int = 0
    min_cosine: float | None = None
    mean_cosine: float | None = None
    relative_error: float | None = None  # mean ‖fast − ref‖ / median ‖ref_i − ref_j‖
    max_relative_error: float | None = None
    top_k_overlap: float | None = None  # mean share of each picture's top-k neighbours kept
    speedup: float | None = None  # fp32 time / this path's time, same batch, interleaved

    def summary(self) -> str:
        if self.mean_cosine is None:
            return f"{self.precision}: refused ({self.reason})"
        verdict = "passed" if self.accepted else f"refused: {self.reason}"
        return (
            f"{self.precision}: {verdict} — cosine to fp32 mean {self.mean_cosine:.5f}, "
            f"min {self.min_cosine:.5f}; error {100 * (self.relative_error or 0):.1f}% of the "
            f"gap between pictures; top-{TOP_K} overlap {100 * (self.top_k_overlap or 0):.0f}%; "
            f"{self.speedup or 0:.2f}× fp32 speed"
        )


@dataclass
class PrecisionState:
    """The precision asked for, the one running, and the checks behind the choice."""

    requested: str
    active: str
    reports: list[FidelityReport]

    @property
    def note(self) -> str:
        if self.requested in (self.active, AUTO):
            return ""
        refused = [r for r in self.reports if not r.accepted]
        why = refused[-1].reason if refused else "not available"
        return f"{self.requested} refused ({why}); using {self.active}"


@functools.lru_cache(maxsize=2)
def sample_images(count: int = SAMPLE_SIZE, seed: int = 1234) -> list[Image.Image]:
    """Deterministic picture-like images (gradients, shapes, texture) for the fidelity check.

    Generated, so the check needs no files and gives the same answer on every computer.
    """
    rng = random.Random(seed)
    pictures = []
    for _ in range(count):
        w, h = rng.choice(((320, 240), (240, 320), (300, 300)))
        image = Image.linear_gradient("L").resize((w, h)).rotate(rng.randrange(360))
        top, bottom = ([rng.randrange(256) for _ in range(3)] for _ in range(2))
        bands = [
            image.point(lambda v, a=a, b=b: a + (b - a) * v // 255)
            for a, b in zip(top, bottom, strict=True)
        ]
        image = Image.merge("RGB", bands)
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(4, 12)):
            x, y = rng.randrange(w), rng.randrange(h)
            box = (x, y, x + rng.randint(10, w // 2), y + rng.randint(10, h // 2))
            fill = tuple(rng.randrange(256) for _ in range(3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
        noise = np.random.default_rng(rng.randrange(1 << 30)).integers(-12, 13, (h, w, 1))
        pixels = np.clip(np.asarray(image, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
        pictures.append(Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(0.6)))
    return pictures


def compare(reference: np.ndarray, fast: np.ndarray, k: int = TOP_K) -> dict[str, float]:
    """Cosines, error relative to the spread of the data, and top-k neighbour agreement."""
    ref = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    out = fast / np.maximum(np.linalg.norm(fast, axis=1, keepdims=True), 1e-12)
    cosines = np.sum(ref * out, axis=1)
    n = len(ref)
    pair_gaps = np.linalg.norm(ref[:, None, :] - ref[None, :, :], axis=-1)[np.triu_indices(n, 1)]
    spread = float(np.median(pair_gaps)) if n > 1 else 1.0
    errors = np.linalg.norm(out - ref, axis=1) / max(spread, 1e-12)
    k = max(1, min(k, n - 1))
    sims_ref, sims_out = ref @ ref.T, out @ out.T
    np.fill_diagonal(sims_ref, -np.inf)
    np.fill_diagonal(sims_out, -np.inf)
    top_ref = np.argsort(-sims_ref, axis=1)[:, :k]
    top_out = np.argsort(-sims_out, axis=1)[:, :k]
    overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(top_ref, top_out, strict=True)])
    return {
        "min_cosine": float(cosines.min()),
        "mean_cosine": float(cosines.mean()),
        "relative_error": float(errors.mean()),
        "max_relative_error": float(errors.max()),
        "top_k_overlap": float(overlap),
    }


def _best_time(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def check(
    precision: str, model_id: str, reference: Tower, fast: Tower, pixels: torch.Tensor
) -> FidelityReport:
    """Compare ``fast`` with ``reference`` on the prepared sample ``pixels``."""
    metrics = compare(reference(pixels), fast(pixels))
    batch = pixels[:8]
    ref_s, fast_s = [], []
    for _ in range(3):  # interleaved, best of three: other load hits both alike
        ref_s.append(_best_time(lambda: reference(batch)))
        fast_s.append(_best_time(lambda: fast(batch)))
    speedup = min(ref_s) / max(min(fast_s), 1e-9)
    report = FidelityReport(
        precision,
        model_id,
        True,
        sample=len(pixels),
        speedup=speedup,
        min_cosine=metrics["min_cosine"],
        mean_cosine=metrics["mean_cosine"],
        relative_error=metrics["relative_error"],
        max_relative_error=metrics["max_relative_error"],
        top_k_overlap=metrics["top_k_overlap"],
    )
    if metrics["mean_cosine"] < MIN_MEAN_COSINE:
        report.reason = (
            f"mean cosine to fp32 {metrics['mean_cosine']:.4f} is below {MIN_MEAN_COSINE}"
        )
    elif metrics["relative_error"] > MAX_RELATIVE_ERROR:
        report.reason = (
            f"error {100 * metrics['relative_error']:.0f}% of the gap between pictures is above "
            f"{100 * MAX_RELATIVE_ERROR:.0f}%"
        )
    elif speedup < MIN_SPEEDUP:
        report.reason = f"not faster than fp32 on this CPU ({speedup:.2f}×)"
    report.accepted = not report.reason
    return report


def _environment() -> str:
    """What a cached check depends on besides the weights: CPU and library versions."""
    import onnxruntime

    return (
        f"{platform.machine()}|{_cpu_name()}|torch {torch.__version__}|"
        f"ort {onnxruntime.__version__}|{EXPORT_RECIPE}"
    )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


class ReportCache:
    """Check results in ``<cache_dir>/precision.json``, keyed by path, weights and software."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / REPORTS_FILE if cache_dir else None

    def _load(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> FidelityReport | None:
        raw = self._load().get(key)
        try:
            return FidelityReport(**raw) if isinstance(raw, dict) else None
        except TypeError:  # written by another version
            return None

    def put(self, key: str, report: FidelityReport) -> None:
        if self.path is None:
            return
        data = self._load()
        data[key] = asdict(report)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2), "utf-8")
        os.replace(tmp, self.path)

    def reports_for(self, model_id: str) -> list[FidelityReport]:
        """Every recorded check of this model, latest software last (for display)."""
        found = []
        for raw in self._load().values():
            if isinstance(raw, dict) and raw.get("model_id") == model_id:
                try:
                    found.append(FidelityReport(**raw))
                except TypeError:
                    continue
        return found


def resolve(
    requested: str,
    source: TowerSource,
    model_id: str,
    sample: Callable[[], torch.Tensor],
    *,
    recheck: bool = False,
) -> tuple[Tower, PrecisionState]:
    """The tower to run for ``requested``, checking fast paths on first use.

    ``sample`` makes the prepared fidelity sample; it is only called when a check must run.
    """
    reference = TorchTower(source.visual)
    reference.set_threads(source.threads)
    candidates: Sequence[str] = AUTO_ORDER if requested == AUTO else (requested,)
    if requested == FP32:
        candidates = ()
    cache = ReportCache(source.cache_dir)
    reports: list[FidelityReport] = []
    pixels: torch.Tensor | None = None
    for precision in candidates:
        key = f"{precision}|{source.identity}|{_environment()}"
        known = None if recheck else cache.get(key)
        if known is not None and not known.accepted:
            reports.append(known)
            continue
        try:
            tower = BUILDERS[precision](source)
        except Exception as err:  # an export or runtime failure refuses the path, with why
            report = FidelityReport(precision, model_id, False, reason=f"could not build: {err}")
            cache.put(key, report)
            reports.append(report)
            continue
        if known is None:
            if pixels is None:
                pixels = sample()
            known = check(precision, model_id, reference, tower, pixels)
            cache.put(key, known)
        reports.append(known)
        if known.accepted:
            tower.set_threads(source.threads)
            return tower, PrecisionState(requested, precision, reports)
    return reference, PrecisionState(requested, FP32, reports)
