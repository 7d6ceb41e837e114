"""The image tower at its chosen precision, saved so that indexing runs it without open_clip.

``import open_clip`` (torchvision, timm and every model family it knows) and building the
whole model from the 600 MB weights file take about 3 s of CPU more than ``import torch``
alone, and a ``snapfind-cli index`` pays them before the fast picture path starts. Once the
precision is decided (see :mod:`precision`), the plain ViT image towers (every preset's
architecture) are saved here, at that precision, beside the text pack; the next run rebuilds
the same tower from ``torch.nn`` parts and those weights. Before it is saved, the rebuilt tower
must give the open_clip tower's features on the fidelity sample (cosine ≥ :data:`MIN_COSINE`),
so its vectors are the ones the precision check accepted. Any other tower (CNNs, attention
pooling, layer scale) is simply not saved, and loads through open_clip as before.
"""

import contextlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from PIL import Image

from desktop_app.core.encoders.base import normalise
from desktop_app.core.encoders.image_query import preprocess
from desktop_app.core.encoders.precision import FidelityReport, PrecisionState
from desktop_app.core.encoders.text_tower import VISUAL_MANIFEST

# Bump when the saved format or the rebuilt tower changes: older saves are then ignored.
RECIPE = "torch-vit-v1"
MIN_COSINE = 0.9999  # bf16 rounds differently between kernels; fp32 agrees to 1e-7
MANIFEST, WEIGHTS = VISUAL_MANIFEST, "visual.safetensors"
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class Words(NamedTuple):
    """How the model embeds text (the text pack) and the scale it was trained with."""

    embed: Callable[[Sequence[str]], np.ndarray]
    logit_scale: float


class UnsupportedVisual(Exception):
    """The tower is not a plain ViT this module can rebuild."""


def _shape(visual: Any) -> dict[str, Any]:
    """The numbers that rebuild ``visual``; raises :class:`UnsupportedVisual` for anything but
    a plain ViT (class token pooled after the final norm, no extras)."""
    if type(visual).__name__ != "VisionTransformer":
        raise UnsupportedVisual(type(visual).__name__)
    blocks = list(visual.transformer.resblocks)
    plain = (
        visual.pool_type == "tok"
        and not visual.final_ln_after_pool
        and visual.attn_pool is None
        and not visual.output_tokens
        and visual.proj is not None
        and visual.conv1.bias is None
        and visual.transformer.batch_first
        and type(visual.patch_dropout).__name__ == "Identity"
        and all(
            type(b).__name__ == "ResidualAttentionBlock"
            and type(b.ls_1).__name__ == type(b.ls_2).__name__ == "Identity"
            and not hasattr(b, "ln_1_kv")
            and list(b.mlp._modules) == ["c_fc", "gelu", "c_proj"]
            and type(b.mlp.gelu).__name__ in ("GELU", "QuickGELU")
            and b.attn.batch_first
            for b in blocks
        )
    )
    if not plain or not blocks:
        raise UnsupportedVisual("not a plain ViT")
    first = blocks[0]
    return {
        "width": int(visual.conv1.out_channels),
        "patch": int(visual.conv1.kernel_size[0]),
        "layers": len(blocks),
        "heads": int(first.attn.num_heads),
        "mlp_width": int(first.mlp.c_fc.out_features),
        "quick_gelu": type(first.mlp.gelu).__name__ == "QuickGELU",
        "eps": float(first.ln_1.eps),
        "tokens": int(visual.positional_embedding.shape[0]),
        "output_dim": int(visual.proj.shape[1]),
    }


class _QuickGELU(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class _Block(torch.nn.Module):
    """One pre-norm transformer block; ``nn.MultiheadAttention`` as open_clip uses it, so the
    same fused attention kernel runs."""

    def __init__(self, shape: dict[str, Any]) -> None:
        super().__init__()
        width, eps = shape["width"], shape["eps"]
        self.ln_1 = torch.nn.LayerNorm(width, eps=eps)
        self.attn = torch.nn.MultiheadAttention(width, shape["heads"], batch_first=True)
        self.ln_2 = torch.nn.LayerNorm(width, eps=eps)
        gelu = _QuickGELU() if shape["quick_gelu"] else torch.nn.GELU()
        self.mlp = torch.nn.Sequential(
            OrderedDict(
                c_fc=torch.nn.Linear(width, shape["mlp_width"]),
                gelu=gelu,
                c_proj=torch.nn.Linear(shape["mlp_width"], width),
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class _Blocks(torch.nn.Module):
    def __init__(self, shape: dict[str, Any]) -> None:
        super().__init__()
        self.resblocks = torch.nn.ModuleList(_Block(shape) for _ in range(shape["layers"]))


class PlainViT(torch.nn.Module):
    """open_clip's ``VisionTransformer`` forward pass for the plain case, with the same
    parameter names, so its state dict loads as it is."""

    def __init__(self, shape: dict[str, Any]) -> None:
        super().__init__()
        width, eps = shape["width"], shape["eps"]
        self.conv1 = torch.nn.Conv2d(3, width, shape["patch"], shape["patch"], bias=False)
        self.class_embedding = torch.nn.Parameter(torch.empty(width))
        self.positional_embedding = torch.nn.Parameter(torch.empty(shape["tokens"], width))
        self.ln_pre = torch.nn.LayerNorm(width, eps=eps)
        self.transformer = _Blocks(shape)
        self.ln_post = torch.nn.LayerNorm(width, eps=eps)
        self.proj = torch.nn.Parameter(torch.empty(width, shape["output_dim"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        token = self.class_embedding.to(x.dtype).view(1, 1, -1).expand(x.shape[0], -1, -1)
        x = torch.cat([token, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        for block in self.transformer.resblocks:
            x = block(x)
        return self.ln_post(x)[:, 0] @ self.proj


def save_visual(
    visual: torch.nn.Module,
    state: PrecisionState,
    folder: Path,
    model_id: str,
    sample: torch.Tensor,
) -> bool:
    """Save the tower that runs at ``state.active`` into the pack ``folder`` if it rebuilds
    exactly; True if saved. ``visual`` is the tower at that precision, ``sample`` prepared
    fidelity-check pixels (fp32)."""
    from safetensors.torch import save_file

    dtype = DTYPES.get(state.active)
    if dtype is None or not folder.is_dir():
        return False
    try:
        shape = _shape(visual)
    except (UnsupportedVisual, AttributeError):
        return False
    visual.eval()
    rebuilt = _build(shape, dtype)
    weights = {k: v.detach().to(dtype).contiguous() for k, v in visual.state_dict().items()}
    rebuilt.load_state_dict(weights, strict=True)
    with torch.no_grad():
        theirs = visual(sample.to(dtype)).float()
        ours = rebuilt(sample.to(dtype)).float()
    cosine = float(torch.nn.functional.cosine_similarity(ours, theirs).min())
    if not cosine >= MIN_COSINE:
        return False
    part = folder / (WEIGHTS + ".part")
    save_file(weights, str(part))
    os.replace(part, folder / WEIGHTS)
    manifest = {
        "recipe": RECIPE,
        "torch": torch.__version__,
        "model_id": model_id,
        "shape": shape,
        "min_cosine": cosine,
        "state": asdict(state),
    }
    (folder / (MANIFEST + ".part")).write_text(json.dumps(manifest, indent=1), "utf-8")
    os.replace(folder / (MANIFEST + ".part"), folder / MANIFEST)
    return True


def saved_for(folder: Path, state: PrecisionState) -> bool:
    """Whether the tower decided by ``state`` is saved in ``folder`` already."""
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
        return bool(
            data["recipe"] == RECIPE
            and data["torch"] == torch.__version__
            and data["state"]["requested"] == state.requested
            and data["state"]["active"] == state.active
            and (folder / WEIGHTS).is_file()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _build(shape: dict[str, Any], dtype: torch.dtype) -> PlainViT:
    return PlainViT(shape).to(dtype).eval()


def load_visual(
    folder: Path, requested: str, recipe: dict[str, Any], words: Words
) -> "VisualEncoder | None":
    """The saved tower if it was saved for the precision setting ``requested``, by this recipe
    and this torch, with ``words`` (the text pack) for text; None otherwise (the caller loads
    through open_clip)."""
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
        state = PrecisionState(
            data["state"]["requested"],
            data["state"]["active"],
            [FidelityReport(**report) for report in data["state"]["reports"]],
        )
        shape, model_id = dict(data["shape"]), str(data["model_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if (
        data.get("recipe") != RECIPE
        or data.get("torch") != torch.__version__
        or state.requested != requested
        or state.active not in DTYPES
    ):
        return None
    from safetensors.torch import load_file

    dtype = DTYPES[state.active]
    try:
        weights = load_file(str(folder / WEIGHTS))
        if any(tensor.dtype != dtype for tensor in weights.values()):
            return None
        # Built without initialising 88 M parameters only to overwrite them (0.4 s): the
        # module's tensors are the loaded ones.
        with torch.device("meta"):
            tower = PlainViT(shape)
        tower.load_state_dict(weights, strict=True, assign=True)
        tower.eval()
    except (OSError, RuntimeError, KeyError, TypeError, ValueError):
        return None
    return VisualEncoder(tower, dtype, state, model_id, recipe, words)


class VisualEncoder:
    """A CLIP model without open_clip: pictures through the saved tower (see the module
    docstring), words through the text pack."""

    def __init__(
        self,
        tower: PlainViT,
        dtype: torch.dtype,
        state: PrecisionState,
        model_id: str,
        recipe: dict[str, Any],
        words: Words,
    ) -> None:
        self._words = words
        self._tower = tower
        self._dtype = dtype
        self._state = state
        self._model_id = model_id
        self._recipe = recipe
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return int(self._tower.proj.shape[1])

    @property
    def logit_scale(self) -> float:
        return self._words.logit_scale

    @property
    def draft_size(self) -> int:
        return int(self._recipe["crop"])

    @property
    def precision_state(self) -> PrecisionState:
        return self._state

    def resolve_precision(self, *, recheck: bool = False) -> PrecisionState:
        if recheck:
            raise RuntimeError("a recheck needs the fp32 tower: load the full model")
        return self._state

    def set_threads(self, threads: int) -> None:
        with self._lock:
            torch.set_num_threads(max(1, threads))

    def embed_prepared(self, prepared: Sequence[Any]) -> np.ndarray:
        if not prepared:
            return np.zeros((0, self.dim), dtype=np.float32)
        pixels = torch.stack([torch.as_tensor(np.asarray(p)) for p in prepared])
        with self._lock, torch.no_grad():  # not inference_mode: bf16 there is slower
            features = self._tower(pixels.to(self._dtype)).float().numpy()
        return normalise(np.asarray(features, dtype=np.float32))

    def prepare_image(self, image: Image.Image) -> np.ndarray:
        return preprocess(image, self._recipe)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_prepared([self.prepare_image(image) for image in images])

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self._words.embed(texts)


def save_quietly(*args: Any) -> bool:
    """:func:`save_visual`, where a full disk or a read-only data folder only means the next
    run loads through open_clip again."""
    with contextlib.suppress(OSError):
        return save_visual(*args)
    return False
