"""Turning raw cosine similarities into a relevance in [0, 1] that means the same for every query.

CLIP cosines are not comparable across queries: "a dog" may top out at 0.30 while "a photo of
a red 1967 Mustang" tops out at 0.22, and both lists always have a "best" match even when
nothing in the library fits. Two calibrations, chosen by the kind of query:

* **Words only** (the usual case): each hit is classified zero-shot, the way CLIP was trained,
  between the query and ten neutral prompts ("a photo.", "an image." …). Relevance is the
  softmax probability of the query,

      relevance = exp(s·t) / (exp(s·t) + Σₙ exp(s·nₙ))

  where ``t`` is the hit's cosine to the query, ``nₙ`` its cosines to the neutral prompts and
  ``s`` the model's logit scale (100 for CLIP, 20 for MiniLM, its training scale). A picture
  that matches the query better than it matches "a photo" scores near 1; one that is merely
  the least bad of a library of unrelated pictures scores near 0. Documents use neutral
  sentences ("some text.", "a note." …) the same way.

* **Pictures and mixed queries** (a photo, "more like this", "beach" + photo − "people"): the
  query's cosines to a fixed sample of the library give the typical level ``μ`` (median) and
  spread ``σ`` (from the median absolute deviation, so the near-copies of the query that a
  small library may hold do not inflate it); relevance is a logistic curve of the z-score,
  ``1 / (1 + exp(−1.5·(z − 2.5)))``: 0.5 at two and a half spreads above typical, 0.95 at
  four and a half. With real CLIP weights unrelated photos sit around cosine 0.5 ± 0.1, so a
  near-copy (0.95+) scores about 1 and a picture of the same kind of subject (0.75) about 0.5.

Results at or above :data:`CUTOFF` count as good matches; the faces hide the rest unless asked.
"""

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from desktop_app.core.encoders.base import TextEncoder
from desktop_app.core.kinds.base import CLIP, TEXT

CUTOFF = 0.5
# Ten generic descriptions per embedding space: with fewer, a query that fits nothing still wins
# against the few (measured with MiniLM on notes: nonsense queries reached 0.49 with five
# document prompts and stay under 0.33 with these ten, while fitting notes stay above 0.7).
NEUTRAL_PROMPTS = {
    CLIP: (
        "a photo.",
        "an image.",
        "a picture.",
        "a snapshot.",
        "a photo of something.",
        "a photo of an object.",
        "a photo of a scene.",
        "a close-up photo.",
        "a blurry photo.",
        "a photo of a thing.",
    ),
    TEXT: (
        "some text.",
        "a note.",
        "a document.",
        "a few words.",
        "notes.",
        "something.",
        "a thing.",
        "stuff.",
        "a topic.",
        "information.",
    ),
}
_Z_MIDPOINT = 2.5
_Z_SLOPE = 1.5
_MIN_SPREAD = 1e-3  # a library of identical pictures: do not divide by zero
_MAD_TO_SIGMA = 1.4826  # median absolute deviation → standard deviation, for normal data


class NeutralVectors:
    """The neutral prompts' embeddings, per space and model, kept in ``folder``.

    They are the same for every query, so a one-shot search reads them (a few kilobytes)
    instead of running the text model on ten more phrases. The file name hashes the space, the
    model id (which names the weights, as for vector sets) and the prompts, so a change of any
    of them computes and stores them again. A folder that cannot be written only costs the
    computation.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._known: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def _path(self, space: str, model_id: str) -> Path | None:
        if self.folder is None:
            return None
        text = "\n".join((space, model_id, *NEUTRAL_PROMPTS[space]))
        return self.folder / f"{space}-{hashlib.sha256(text.encode()).hexdigest()[:20]}.npy"

    def get(self, space: str, model: TextEncoder) -> np.ndarray:
        key = (space, model.model_id)
        with self._lock:
            if key in self._known:
                return self._known[key]
        path = self._path(space, model.model_id)
        vectors = _read(path, (len(NEUTRAL_PROMPTS[space]), model.dim))
        if vectors is None:
            vectors = model.embed_texts(list(NEUTRAL_PROMPTS[space]))
            if path is not None:
                _write(path, vectors)
        with self._lock:
            self._known[key] = vectors
        return vectors


def _read(path: Path | None, shape: tuple[int, int]) -> np.ndarray | None:
    if path is None:
        return None
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if vectors.shape != shape or vectors.dtype != np.float32:
        return None
    return np.asarray(vectors)


def _write(path: Path, vectors: np.ndarray) -> None:
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npy")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(tmp, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def against_neutral(
    scores: np.ndarray, hit_vectors: np.ndarray, neutral: np.ndarray, logit_scale: float
) -> np.ndarray:
    """Zero-shot probability of the query against the neutral prompts, per hit."""
    if len(scores) == 0:
        return np.zeros(0, dtype=np.float32)
    logits = logit_scale * np.column_stack([scores, hit_vectors @ neutral.T])
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return np.asarray(weights[:, 0] / weights.sum(axis=1), dtype=np.float32)


def against_library(scores: np.ndarray, query: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Logistic z-score of each hit's cosine within the query's cosines to a library sample."""
    if len(scores) == 0:
        return np.zeros(0, dtype=np.float32)
    if len(sample) == 0:
        typical, spread = 0.0, 1.0
    else:
        levels = sample @ query
        typical = float(np.median(levels))
        spread = max(_MAD_TO_SIGMA * float(np.median(np.abs(levels - typical))), _MIN_SPREAD)
    z = (np.asarray(scores, dtype=np.float32) - typical) / spread
    # Clipped: a library of near-copies has a tiny spread, and exp would overflow far below
    # the level where the relevance is 0 or 1 to float32 anyway.
    logit = np.clip(_Z_SLOPE * (z - _Z_MIDPOINT), -60.0, 60.0)
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float32)
