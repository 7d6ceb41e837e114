"""Exporting a loaded CLIP model's text tower for the torch-free query path (:mod:`text_tower`).

Runs where torch and the model are loaded anyway (the first text query, or the end of an index
run), once per weights file: the weights of the text transformer are written as one flat
float32 file, beside open_clip's merges file and a manifest. Before the pack is marked usable,
the numpy tower and tokenizer embed a fixed set of phrases and each must match open_clip's own
``encode_text`` on open_clip's own tokens (token ids equal, cosine ≥ MIN_COSINE). A model whose
text tower has a shape the numpy tower does not reproduce (a Hugging Face text tower, a class
token, a padding mask) gets a manifest that says so, and its queries keep the torch tower.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from desktop_app.core.encoders.clip_tokenizer import VOCAB_FILE, default_vocab_file
from desktop_app.core.encoders.text_tower import (
    MANIFEST,
    MIN_COSINE,
    POINTERS,
    RECIPE,
    WEIGHTS,
    PackedTextEncoder,
    pack_folder,
    read_pack,
)
from desktop_app.core.searching.relevance import NEUTRAL_PROMPTS

# Phrases the check embeds both ways: short and long queries, punctuation, accents, scripts,
# HTML entities, and one past the 77-token window (cut the same way by both tokenizers).
CHECK_PHRASES = (
    *NEUTRAL_PROMPTS["clip"],
    "a dog on a beach at sunset",
    "Birthday cake with candles!!",
    "l'été à Paris, café & croissants",
    "東京タワー at night",
    "red 1967 Mustang, parked — rainy street",
    "x",
    "two cats &amp; a dog",
    " ".join(["mountains lake forest"] * 40),
)


class UnsupportedTower(Exception):
    """The text tower has parts the numpy tower does not reproduce."""


def _text_parts(model: Any) -> Any:
    """The module holding the text tower's parameters: the model itself (CLIP) or its
    ``text`` (CustomTextCLIP with open_clip's own TextTransformer)."""
    text = getattr(model, "text", None)
    if text is None:
        if getattr(model, "text_pool_type", "argmax") != "argmax":
            raise UnsupportedTower("pooling other than at the end marker")
        return model
    if type(text).__name__ != "TextTransformer":
        raise UnsupportedTower(f"text tower {type(text).__name__}")
    if text.cls_emb is not None or getattr(text, "use_pad_mask", False):
        raise UnsupportedTower("class token or padding mask")
    if text.pool_type != "argmax":
        raise UnsupportedTower(f"{text.pool_type} pooling")
    return text


def _activation(mlp: Any) -> str:
    act = mlp.gelu
    name = type(act).__name__
    if name == "QuickGELU":
        return "quick_gelu"
    if name == "GELU" and getattr(act, "approximate", "none") == "none":
        return "gelu"
    raise UnsupportedTower(f"activation {name}")


def _tensors(model: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The weights the numpy tower reads (matrices transposed for ``x @ W``), and the shape."""
    text = _text_parts(model)
    out: dict[str, np.ndarray] = {}

    def put(name: str, tensor: torch.Tensor) -> None:
        out[name] = np.ascontiguousarray(tensor.detach().float().cpu().numpy())

    put("token_embedding", text.token_embedding.weight)
    put("positional_embedding", text.positional_embedding)
    blocks = list(text.transformer.resblocks)
    activations = set()
    for i, block in enumerate(blocks):
        attn = block.attn
        if (
            not isinstance(attn, torch.nn.MultiheadAttention)
            or not isinstance(block.ls_1, torch.nn.Identity)
            or not isinstance(block.ls_2, torch.nn.Identity)
            or hasattr(block, "ln_1_kv")
            or attn.in_proj_weight is None
            or attn.in_proj_bias is None
        ):
            raise UnsupportedTower("attention block of another kind")
        names = set(dict(block.mlp.named_children()))
        if names != {"c_fc", "gelu", "c_proj"}:
            raise UnsupportedTower("MLP of another kind")
        activations.add(_activation(block.mlp))
        for norm in (block.ln_1, block.ln_2):
            if getattr(norm, "eps", None) != 1e-5 or norm.weight is None:
                raise UnsupportedTower("layer norm of another kind")
        put(f"{i}.ln_1_w", block.ln_1.weight)
        put(f"{i}.ln_1_b", block.ln_1.bias)
        put(f"{i}.in_w", attn.in_proj_weight.T)
        put(f"{i}.in_b", attn.in_proj_bias)
        put(f"{i}.out_w", attn.out_proj.weight.T)
        put(f"{i}.out_b", attn.out_proj.bias)
        put(f"{i}.ln_2_w", block.ln_2.weight)
        put(f"{i}.ln_2_b", block.ln_2.bias)
        put(f"{i}.fc_w", block.mlp.c_fc.weight.T)
        put(f"{i}.fc_b", block.mlp.c_fc.bias)
        put(f"{i}.proj_w", block.mlp.c_proj.weight.T)
        put(f"{i}.proj_b", block.mlp.c_proj.bias)
    put("ln_final_w", text.ln_final.weight)
    put("ln_final_b", text.ln_final.bias)
    projection = text.text_projection
    if isinstance(projection, torch.nn.Linear):
        put("text_projection", projection.weight.T)
        if projection.bias is not None:
            put("text_projection_b", projection.bias)
    elif projection is not None:
        put("text_projection", projection)
    else:
        raise UnsupportedTower("no text projection")
    if len(activations) != 1:
        raise UnsupportedTower("mixed activations")
    shape = {
        "context_length": int(text.positional_embedding.shape[0]),
        "causal": text.attn_mask is not None,
        "activation": activations.pop(),
        "heads": int(blocks[0].attn.num_heads),
        "layers": len(blocks),
    }
    return out, shape


def _write_weights(tensors: dict[str, np.ndarray], target: Path) -> dict[str, Any]:
    index: dict[str, Any] = {}
    offset = 0
    with open(target, "wb") as handle:
        for name, array in tensors.items():
            handle.write(array.astype(np.float32).tobytes())
            index[name] = [offset, list(array.shape)]
            offset += array.size
    return index


def _check(model: Any, tokenizer: Any, packed: PackedTextEncoder) -> tuple[float, str]:
    """The lowest cosine between open_clip's and the pack's embeddings of the check phrases,
    and why the pack is refused ("" when it is accepted)."""
    phrases = list(CHECK_PHRASES)
    reference_tokens = tokenizer(phrases)
    ours = packed.tokenizer(phrases)
    if not np.array_equal(np.asarray(reference_tokens), ours):
        return 0.0, "the tokenizer gives other token ids than open_clip's"
    with torch.no_grad():
        reference = model.encode_text(reference_tokens).float().numpy()
    # One phrase at a time, as queries run: each at its own length.
    fast = np.concatenate([packed.tower(ours[i : i + 1]) for i in range(len(phrases))])
    ref = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    out = fast / np.linalg.norm(fast, axis=1, keepdims=True)
    cosine = float(np.min(np.sum(ref * out, axis=1)))
    if not cosine >= MIN_COSINE:
        return cosine, f"cosine to open_clip's text tower {cosine:.6f} is below {MIN_COSINE}"
    return cosine, ""


def export_text_pack(
    model: Any,
    tokenizer: Any,
    *,
    cache_dir: Path,
    identity: str,
    model_id: str,
    input_size: int,
    plain_tokenizer: bool,
    transform: Any = None,
) -> str:
    """Export and check the text tower unless a pack for these weights exists; returns why the
    pack is refused ("" when it is usable). Replaces the folder atomically."""
    folder = pack_folder(cache_dir, identity)
    if read_pack(folder, identity) is not None:
        return ""
    existing = _manifest(folder)
    if existing.get("recipe") == RECIPE and existing.get("identity") == identity:
        return str(existing.get("reason", ""))  # refused before: not again at every start
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob("text-*"):  # an earlier export of other weights
        if stale.is_dir() and stale != folder:
            shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".text-export-", dir=cache_dir))
    try:
        manifest: dict[str, Any] = {
            "recipe": RECIPE,
            "identity": identity,
            "model_id": model_id,
            "input_size": input_size,
            "logit_scale": float(model.logit_scale.detach().exp()),
            "accepted": False,
        }
        try:
            if not plain_tokenizer:
                raise UnsupportedTower("a tokenizer other than CLIP's byte-level BPE")
            tensors, shape = _tensors(model)
            manifest["dim"] = int(tensors["text_projection"].shape[1])
            manifest.update(shape)
            manifest["tensors"] = _write_weights(tensors, work / WEIGHTS)
            shutil.copyfile(default_vocab_file(), work / VOCAB_FILE)
            (work / MANIFEST).write_text(json.dumps(manifest), "utf-8")
            info = read_pack(work, identity, checked=False)
            if info is None:
                raise UnsupportedTower("the written pack could not be read back")
            cosine, reason = _check(model, tokenizer, PackedTextEncoder(info))
            manifest.update(min_cosine=cosine, reason=reason, accepted=not reason)
            manifest["image"] = _image_tower(model, transform, work)
        except UnsupportedTower as err:
            (work / WEIGHTS).unlink(missing_ok=True)
            manifest["reason"] = f"not exportable: {err}"
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return str(manifest["reason"])


def _image_tower(model: Any, transform: Any, folder: Path) -> dict[str, Any]:
    """The picture-query tower beside the text pack (see :mod:`image_query`), if the model
    still holds its fp32 image tower (a fast path in use has released it)."""
    from desktop_app.core.encoders.image_query import export_image_tower
    from desktop_app.core.encoders.precision import sample_images

    visual = getattr(model, "visual", None)
    if transform is None or visual is None or isinstance(visual, torch.nn.Identity):
        return {"accepted": False, "reason": "the fp32 image tower is not loaded"}
    try:
        return export_image_tower(visual, transform, folder, sample_images()[:8])
    except Exception as err:  # an export failure only keeps picture queries on torch
        return {"accepted": False, "reason": f"could not export: {err}"}
    finally:
        # The ONNX export leaves the tower in training mode, where attention takes the slow
        # unfused path (and a bf16 copy made after would inherit it).
        visual.eval()


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember_weights(cache_dir: Path, model_name: str, weights: Path, model_id: str) -> None:
    """Record which weights file a model name loads, so the query path finds its pack without
    resolving the name (which needs open_clip)."""
    path = cache_dir / POINTERS
    try:
        pointers = json.loads(path.read_text("utf-8"))
        if not isinstance(pointers, dict):
            pointers = {}
    except (OSError, ValueError):
        pointers = {}
    entry = {"weights": str(weights.resolve()), "model_id": model_id}
    if pointers.get(model_name) == entry:
        return
    pointers[model_name] = entry
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(pointers, indent=2), "utf-8")
    os.replace(tmp, path)
