"""The MiniLM document model's forward pass in numpy: a text query on notes without torch.

``import torch`` plus loading sentence-transformers costs 4-5 s, which a one-shot
``snapfind-cli search "words"`` on a library with notes (documents, text in pictures,
transcripts) would pay only to embed a handful of words. This module runs the same BERT on the
query's own tokens (no padding to a batch), reading ``model.safetensors`` memory-mapped: of its
90 MB, the 47 MB word-embedding table is touched only at the rows of the query's tokens.

It follows what the model folder says sentence-transformers does with it: the ``tokenizers``
tokenizer of ``tokenizer.json`` (the one transformers' fast tokenizer wraps), truncated at
``max_seq_length`` of ``sentence_bert_config.json``, BERT with absolute positions and exact
GELU, then the pooling of ``1_Pooling/config.json`` (mean over real tokens) and L2
normalisation. A folder that asks for anything else is refused (:func:`supports`) and the
caller keeps sentence-transformers. Tests hold it to sentence-transformers at cosine ≥ 0.9999.
"""

import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.encoders.base import normalise

WEIGHTS = "model.safetensors"
_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


@dataclass(frozen=True)
class BertRecipe:
    """What the model folder says about the network and its pipeline."""

    layers: int
    heads: int
    hidden: int
    eps: float
    max_seq_length: int  # tokens per input, [CLS] and [SEP] included


def _json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def read_recipe(folder: Path) -> BertRecipe | None:
    """The recipe if this module computes exactly what sentence-transformers does with the
    folder (a BERT, mean pooling, optional normalisation); None otherwise."""
    try:
        modules = [m["type"] for m in _json(folder / "modules.json")]
        pooling = _json(folder / "1_Pooling" / "config.json")
        config = _json(folder / "config.json")
        st_config = _json(folder / "sentence_bert_config.json")
        recipe = BertRecipe(
            layers=int(config["num_hidden_layers"]),
            heads=int(config["num_attention_heads"]),
            hidden=int(config["hidden_size"]),
            eps=float(config["layer_norm_eps"]),
            max_seq_length=min(
                int(st_config["max_seq_length"]), int(config["max_position_embeddings"])
            ),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v is True}
    if (
        modules not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE])
        or modes != {"pooling_mode_mean_tokens"}
        or pooling.get("include_prompt", True) is not True
        or config.get("model_type") != "bert"
        or config.get("hidden_act") != "gelu"
        or config.get("position_embedding_type", "absolute") != "absolute"
        or st_config.get("do_lower_case")  # the tokenizer lowercases; an extra pass is not done
        or not (folder / "tokenizer.json").is_file()
    ):
        return None
    return recipe


def supports(folder: Path) -> bool:
    return read_recipe(folder) is not None


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors file, memory-mapped (read-only views).

    The format is a little-endian u64 header length, a JSON header of name → dtype, shape and
    byte offsets (from the end of the header), then the data. Mapping it, rather than loading
    it with ``safetensors.numpy.load_file`` (a 90 MB copy, about 30 ms), lets the page cache
    serve only what the query touches.
    """
    with open(path, "rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue  # position ids (I64) are not needed: positions count from zero
        start, end = entry["data_offsets"]
        tensors[name] = raw[start:end].view("<f4").reshape(entry["shape"])
    return tensors


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to about 1.5e-7 (Abramowitz & Stegun 7.1.26): numpy has none, and BERT's GELU is
    the exact one, 0.5·x·(1 + erf(x/√2))."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.asarray(np.sign(x) * (1.0 - poly * np.exp(-a * a)), dtype=np.float32)


class NumpyBert:
    """Token ids and their mask in, mean-pooled (not yet normalised) sentence vectors out."""

    def __init__(self, weights: Path, recipe: BertRecipe) -> None:
        self.recipe = recipe
        self._w = read_safetensors(weights)
        self._w = {k.removeprefix("bert."): v for k, v in self._w.items()}

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
        scaled = centred / np.sqrt(var + self.recipe.eps)
        return np.asarray(scaled * self._w[f"{name}.weight"] + self._w[f"{name}.bias"])

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return np.asarray(x @ self._w[f"{name}.weight"].T + self._w[f"{name}.bias"])

    def _attention(self, x: np.ndarray, bias: np.ndarray, prefix: str) -> np.ndarray:
        batch, length, hidden = x.shape
        heads = self.recipe.heads
        width = hidden // heads

        def split(name: str) -> np.ndarray:
            projected = self._dense(x, f"{prefix}.self.{name}")
            return projected.reshape(batch, length, heads, width).transpose(0, 2, 1, 3)

        q, k, v = split("query"), split("key"), split("value")
        scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(math.sqrt(width)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        return self._dense(context, f"{prefix}.output.dense")

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self._w
        length = ids.shape[1]
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(np.asarray(x, dtype=np.float32), "embeddings.LayerNorm")
        # Padding is not attended to: a large negative bias on its keys, as transformers does.
        bias = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min)
        bias = bias.astype(np.float32)
        for layer in range(self.recipe.layers):
            prefix = f"encoder.layer.{layer}"
            attended = self._attention(x, bias, f"{prefix}.attention")
            x = self._norm(x + attended, f"{prefix}.attention.output.LayerNorm")
            h = self._dense(x, f"{prefix}.intermediate.dense")
            h = 0.5 * h * (1.0 + _erf(h / np.float32(math.sqrt(2.0))))
            h = self._dense(h, f"{prefix}.output.dense")
            x = self._norm(x + h, f"{prefix}.output.LayerNorm")
        weights = mask[:, :, None].astype(np.float32)
        summed = (x * weights).sum(axis=1)
        return np.asarray(summed / np.maximum(weights.sum(axis=1), 1e-9), dtype=np.float32)


class NumpyMiniLM:
    """A sentence-transformers BERT folder run in numpy: tokenizer, network, pooling."""

    def __init__(self, folder: Path, recipe: BertRecipe | None = None) -> None:
        from tokenizers import Tokenizer

        recipe = recipe or read_recipe(folder)
        if recipe is None:
            raise ValueError(f"{folder} is not a mean-pooled BERT this module can run")
        self.recipe = recipe
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json carries its own truncation and padding (128, fixed); the
        # sentence-transformers pipeline overrides both at each call, and so does this one.
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._cls = self._special("[CLS]")
        self._sep = self._special("[SEP]")
        self._bert = NumpyBert(folder / WEIGHTS, recipe)

    def _special(self, token: str) -> int:
        token_id = self._tokenizer.token_to_id(token)
        if token_id is None:
            raise ValueError(f"the tokenizer has no {token}")
        return int(token_id)

    @property
    def dim(self) -> int:
        return self.recipe.hidden

    @property
    def max_tokens(self) -> int:
        """Word pieces per input, not counting the [CLS]/[SEP] markers."""
        return self.recipe.max_seq_length - 2

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's ids as the model reads them: [CLS], the first word pieces that fit, [SEP]."""
        # One by one: encode_batch would start the tokenizers' thread pool, whose fork handler
        # then warns in every child process the app starts (and a query is one text anyway).
        encodings = [self._tokenizer.encode(t.strip(), add_special_tokens=False) for t in texts]
        keep = self.max_tokens
        return [[self._cls, *e.ids[:keep], self._sep] for e in encodings]

    def embed_texts(self, texts: Sequence[str], *, batch: int = 16) -> np.ndarray:
        """float32 (len(texts), dim), rows L2-normalised. Texts of like length are run
        together so little is padded; padding changes nothing but the time."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch):
            group = order[start : start + batch]
            width = max(len(ids[i]) for i in group)
            tokens = np.zeros((len(group), width), dtype=np.int64)
            mask = np.zeros((len(group), width), dtype=np.int64)
            for row, i in enumerate(group):
                tokens[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            out[group] = self._bert(tokens, mask)
        return normalise(out)
