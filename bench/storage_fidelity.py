"""float16 against float32 on the same CLIP-like vectors: the fidelity half of bench_storage.

Three checks, each against the bar float16 would have to pass to be stored instead of float32:
the cosine of each vector to its rounded self (>= 0.9999), the share of text-like queries whose
exact top-10 stays the same, and the score change of mixed queries ``normalise(a - b)`` built
from two near-identical stored pictures (the query formula is tested to 1e-4).
"""

import sys
import time
from typing import Any

import numpy as np
from scale_data import CHUNK, ClipLike, blocks, exact_top


def _log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {message}\n")
    sys.stderr.flush()


def _as_float16(x: np.ndarray) -> np.ndarray:
    """What a float16 blob gives back: the vector rounded to half precision, read as float32."""
    return x.astype(np.float16).astype(np.float32)


def _normalised(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _burst_pairs(
    gen: ClipLike, n: int, cosine: float, count: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` pairs (a, b) of near-identical pictures: a stored vector and a neighbour of it
    at ``cosine`` (a burst shot, a re-edit), both to be stored as the library stores them."""
    rng = np.random.default_rng([seed, 3, int(cosine * 1e6)])
    first = gen.vectors(0, min(n, CHUNK))  # any stored pictures will do: the first chunk's
    a = first[np.sort(rng.choice(len(first), size=count, replace=False))]
    noise = rng.standard_normal(a.shape).astype(np.float32)
    noise -= (noise * a).sum(axis=1, keepdims=True) * a  # orthogonal to a
    noise = _normalised(noise)
    angle = np.arccos(cosine)
    b = (np.cos(angle) * a + np.sin(angle) * noise).astype(np.float32)
    return a, _normalised(b).astype(np.float32)


class _TopK:
    """The running top-``k`` of each query over blocks of scores, carrying one extra value."""

    def __init__(self, queries: int, k: int) -> None:
        self.k = k
        self.scores = np.full((queries, k), -np.inf, dtype=np.float32)
        self.labels = np.zeros((queries, k), dtype=np.int64)
        self.extra = np.zeros((queries, k), dtype=np.float32)

    def add(self, first: int, scores: np.ndarray, extra: np.ndarray) -> None:
        labels = np.broadcast_to(np.arange(first, first + scores.shape[1]), scores.shape)
        s = np.concatenate([self.scores, scores], axis=1)
        top = np.argpartition(-s, self.k - 1, axis=1)[:, : self.k]
        self.scores = np.take_along_axis(s, top, 1)
        self.labels = np.take_along_axis(np.concatenate([self.labels, labels], 1), top, 1)
        self.extra = np.take_along_axis(np.concatenate([self.extra, extra], 1), top, 1)

    def ordered(self) -> np.ndarray:
        return np.take_along_axis(self.labels, np.argsort(-self.scores, axis=1), 1)


def _same(a: np.ndarray, b: np.ndarray, k: int) -> tuple[float, float]:
    """Share of queries whose top-``k`` is identical: in the same order, and as a set."""
    order = [bool((x[:k] == y[:k]).all()) for x, y in zip(a, b, strict=True)]
    sets = [set(x[:k].tolist()) == set(y[:k].tolist()) for x, y in zip(a, b, strict=True)]
    return float(np.mean(order)), float(np.mean(sets))


def fidelity(gen: ClipLike, n: int, queries: int, pairs: int, seed: int) -> dict[str, Any]:
    """Float16 blobs against float32 on the same ``n`` vectors (streamed chunk by chunk)."""
    min_cos, sum_cos = 1.0, 0.0
    for _, block in blocks(gen, n):
        half = _as_float16(block)
        cos = (block * half).sum(axis=1) / np.linalg.norm(half, axis=1)
        min_cos, sum_cos = min(min_cos, float(cos.min())), sum_cos + float(cos.sum())
    text = gen.queries(queries)
    top32 = exact_top(gen.vectors, n, text, 10)
    top16 = exact_top(lambda s, c: _as_float16(gen.vectors(s, c)), n, text, 10)
    same_order, same_set = _same(top32, top16, 10)
    out: dict[str, Any] = {
        "n": n,
        "min_cosine": min_cos,
        "mean_cosine": sum_cos / n,
        "text_queries": queries,
        "top10_identical_order": same_order,
        "top10_identical_set": same_set,
        "mixed": [],
    }
    for cosine in (0.99, 0.999):
        # q = normalise(a - b), "this photo minus that one", from the vectors as stored.
        a, b = _burst_pairs(gen, n, cosine, pairs, seed)
        q32 = _normalised(a - b)
        q16 = _normalised(_as_float16(a) - _as_float16(b))
        worst = 0.0
        best32, best16 = _TopK(pairs, 20), _TopK(pairs, 20)
        for first, block in blocks(gen, n):
            s32 = q32 @ block.T
            s16 = q16 @ _as_float16(block).T
            change = np.abs(s16 - s32)
            worst = max(worst, float(change.max()))
            best32.add(first, s32, change)
            best16.add(first, s16, change)
        same_order, same_set = _same(best32.ordered(), best16.ordered(), 10)
        pair32 = np.stack([(a * q32).sum(1), (b * q32).sum(1)])
        pair16 = np.stack([(_as_float16(a) * q16).sum(1), (_as_float16(b) * q16).sum(1)])
        out["mixed"].append(
            {
                "pair_cosine": cosine,
                "queries": pairs,
                "max_score_change_any_vector": worst,
                "max_score_change_top20": float(best32.extra.max()),
                "max_score_change_the_pair": float(np.abs(pair16 - pair32).max()),
                "top10_identical_order": same_order,
                "top10_identical_set": same_set,
            }
        )
        _log(f"mixed queries, pairs at cosine {cosine}: largest score change {worst:.1e}")
    return out
