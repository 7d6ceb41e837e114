"""The CLIP model a benchmark run uses, made ready before anything is timed.

Turns ``--model`` into an encoder loader the Engine can call: the tests' tiny random CLIP, a
random-weight ViT-B-32 (the real architecture and compute, without a download) or a cached
preset. ``TimedEncoder`` wraps the loaded encoder so the report can tell time spent in the image
model from the rest of the indexing pipeline.
"""

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401  (puts tests/ on sys.path for tiny_model)
import numpy as np
from PIL import Image

TINY, VIT_RANDOM = "tiny", "vit-b-32-random"


@dataclass
class ModelChoice:
    loader: Callable[[], Any]  # builds an OpenClipEncoder
    label: str
    note: str
    prepare_s: float = 0.0
    spec: Any = None  # the ClipSpec, for building encoders at other precisions


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


def prepare_model(name: str, model_dir: Path, home: Path, threads: int | None) -> ModelChoice:
    from desktop_app.core.encoders import catalog as models
    from desktop_app.core.encoders.catalog import ClipSpec
    from desktop_app.core.encoders.clip import OpenClipEncoder

    start = time.perf_counter()
    model_dir.mkdir(parents=True, exist_ok=True)
    if name == TINY:
        from tiny_model import ARCH, write_tiny_model  # type: ignore[import-not-found, unused-ignore]

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
            models.preset_preprocess(models.PRESETS[0]),
            "ViT-B-32 (random init)",
        )
        note = (
            "ViT-B-32 with random weights: same architecture and compute as the real "
            "laion2b weights, so timings hold; search results are meaningless"
        )
    else:
        spec = models.ModelCatalog(home).spec(name)  # raises if the weights are not cached
        note = f"preset {name}, cached weights {spec.weights}"
        return ModelChoice(
            lambda: OpenClipEncoder(spec, threads=threads), spec.label, note, spec=spec
        )
    return ModelChoice(
        lambda: OpenClipEncoder(spec, threads=threads),
        spec.label,
        note,
        time.perf_counter() - start,
        spec,
    )


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
