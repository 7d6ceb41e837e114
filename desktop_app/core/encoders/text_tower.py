"""CLIP's text tower in numpy, from weights exported once: a text query without torch.

``import torch`` and loading the whole CLIP model take 5-6 s, which is most of a one-shot
``snapfind-cli search``; ONNX Runtime would still cost about 0.3 s (its import, and a session
that copies 250 MB of weights). This tower reads the exported weights memory-mapped and runs
the transformer on the query's own tokens only: with a causal mask, the features at the end
marker do not depend on the padding after it, so a 9-token query costs 9 positions, not 77.

The export (:mod:`text_export`) writes the weights, the tokenizer's merges file and a manifest
into ``<cache>/text-<weights identity>/``, after checking on a fixed set of phrases that this
tower and tokenizer give open_clip's embeddings (cosine ≥ :data:`MIN_COSINE`). A pack whose
check failed, or that was made from other weights or by another recipe, is never used.
"""

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.encoders.clip_tokenizer import VOCAB_FILE, ClipTokenizer
from desktop_app.core.encoders.identity import weights_identity

# Bump when the export format or the numpy forward pass changes: old packs are then rebuilt.
RECIPE = "numpy-text-v2"
MIN_COSINE = 0.9999
MANIFEST, WEIGHTS = "manifest.json", "text-weights.bin"
POINTERS = "query-pointers.json"  # model name → where its weights and pack are
# The image tower saved beside the pack at its decided precision (see visual_pack, which needs
# torch; the name is here so that whether it exists is known without torch).
VISUAL_MANIFEST = "visual.json"


def pack_folder(cache_dir: Path, identity: str) -> Path:
    return cache_dir / f"text-{identity}"


@dataclass(frozen=True)
class PackInfo:
    """What the manifest says about an exported text tower."""

    folder: Path
    model_id: str
    dim: int
    logit_scale: float
    input_size: int  # the image tower's input side, for draft decoding of query pictures
    context_length: int
    causal: bool
    activation: str  # "gelu" or "quick_gelu"
    heads: int
    layers: int
    tensors: dict[str, Any]  # name → [offset, shape]
    image: dict[str, Any] | None = None  # the picture-query tower's recipe, if accepted


def read_pack(folder: Path, identity: str, *, checked: bool = True) -> PackInfo | None:
    """The pack's description if it is complete, checked (unless ``checked`` is False: the
    export's own check), and made from these weights by this recipe; None otherwise (the
    caller then runs the torch tower)."""
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("recipe") != RECIPE
        or data.get("identity") != identity
        or (checked and not data.get("accepted"))
        or not (folder / WEIGHTS).is_file()
        or not (folder / VOCAB_FILE).is_file()
    ):
        return None
    try:
        return PackInfo(
            folder,
            str(data["model_id"]),
            int(data["dim"]),
            float(data["logit_scale"]),
            int(data["input_size"]),
            int(data["context_length"]),
            bool(data["causal"]),
            str(data["activation"]),
            int(data["heads"]),
            int(data["layers"]),
            dict(data["tensors"]),
            _image_entry(data.get("image")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _image_entry(entry: Any) -> dict[str, Any] | None:
    if isinstance(entry, dict) and entry.get("accepted") and isinstance(entry.get("recipe"), dict):
        return dict(entry["recipe"])
    return None


def find_pack(cache_dir: Path, model_name: str) -> PackInfo | None:
    """The checked pack of the model named ``model_name`` in the settings, found without
    torch or open_clip: a pointer file records which weights file the name loaded last time,
    and the pack is used only if that file is unchanged (same identity)."""
    try:
        pointers = json.loads((cache_dir / POINTERS).read_text("utf-8"))
        entry = pointers[model_name]
        weights, model_id = Path(entry["weights"]), str(entry["model_id"])
        identity = weights_identity(weights, model_id)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return read_pack(pack_folder(cache_dir, identity), identity)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to about 1e-7 (Abramowitz & Stegun 7.1.26), which numpy lacks; far below the
    float32 noise the fidelity check allows."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)), dtype=x.dtype)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return np.asarray(centred / np.sqrt(var + 1e-5) * weight + bias, dtype=np.float32)


class NumpyTextTower:
    """Token ids in, unnormalised text features out, as ``model.encode_text`` computes them."""

    def __init__(self, info: PackInfo) -> None:
        self.info = info
        raw = np.memmap(info.folder / WEIGHTS, dtype=np.float32, mode="r")
        self._w = {
            name: raw[offset : offset + math.prod(shape)].reshape(shape)
            for name, (offset, shape) in info.tensors.items()
        }

    def _activation(self, x: np.ndarray) -> np.ndarray:
        if self.info.activation == "quick_gelu":
            return np.asarray(x / (1.0 + np.exp(-1.702 * x)), dtype=np.float32)
        return np.asarray(0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))), dtype=np.float32)

    def _attention(self, x: np.ndarray, layer: int) -> np.ndarray:
        w, heads = self._w, self.info.heads
        batch, length, width = x.shape
        qkv = x @ w[f"{layer}.in_w"] + w[f"{layer}.in_b"]
        qkv = qkv.reshape(batch, length, 3, heads, width // heads).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q / math.sqrt(width // heads)) @ k.transpose(0, 1, 3, 2)
        if self.info.causal:
            scores = scores + np.triu(np.full((length, length), -np.inf, np.float32), 1)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        out = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        return np.asarray(out @ w[f"{layer}.out_w"] + w[f"{layer}.out_b"], dtype=np.float32)

    def __call__(self, tokens: np.ndarray) -> np.ndarray:
        w = self._w
        ends = tokens.argmax(axis=1)  # the end marker has the highest id
        # Causal: positions after the last end marker change nothing that is read.
        length = int(ends.max()) + 1 if self.info.causal else tokens.shape[1]
        tokens = tokens[:, :length]
        x = np.asarray(w["token_embedding"][tokens] + w["positional_embedding"][:length])
        for layer in range(self.info.layers):
            h = _layer_norm(x, w[f"{layer}.ln_1_w"], w[f"{layer}.ln_1_b"])
            x = x + self._attention(h, layer)
            h = _layer_norm(x, w[f"{layer}.ln_2_w"], w[f"{layer}.ln_2_b"])
            h = self._activation(h @ w[f"{layer}.fc_w"] + w[f"{layer}.fc_b"])
            x = x + (h @ w[f"{layer}.proj_w"] + w[f"{layer}.proj_b"])
        x = _layer_norm(x, w["ln_final_w"], w["ln_final_b"])
        pooled = x[np.arange(len(tokens)), ends]
        projected = pooled @ w["text_projection"]
        if "text_projection_b" in w:
            projected = projected + w["text_projection_b"]
        return np.asarray(projected, dtype=np.float32)


class PackedTextEncoder:
    """The text side of a CLIP model from its pack: tokenizer plus numpy tower."""

    def __init__(self, info: PackInfo) -> None:
        self.info = info

    # Made on first use: a picture query or an index run embeds no words (50 ms saved).
    @functools.cached_property
    def tokenizer(self) -> ClipTokenizer:
        return ClipTokenizer(self.info.folder / VOCAB_FILE, self.info.context_length)

    @functools.cached_property
    def tower(self) -> NumpyTextTower:
        return NumpyTextTower(self.info)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        from desktop_app.core.encoders.base import normalise

        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        return normalise(self.tower(self.tokenizer(list(texts))))
