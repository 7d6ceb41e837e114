"""A CLIP model whose words (and query pictures) run from the exported pack, and which loads
the full model only when pictures are indexed.

What a one-shot ``snapfind-cli search "words"`` meets: no torch, no open_clip, no 600 MB of
weights, so the whole command takes a fraction of a second. The pack was checked against the
full model's text tower when it was made (see :mod:`text_export`), so its query vectors are
the full model's, and relevance calibration (which uses the same logit scale) is unchanged.
"""

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from desktop_app.core.encoders.base import ImageTextEncoder, normalise
from desktop_app.core.encoders.image_query import IMAGE_FILE, OnnxImageTower
from desktop_app.core.encoders.text_tower import PackedTextEncoder, PackInfo

if TYPE_CHECKING:
    from desktop_app.core.encoders.precision import PrecisionState


class PackedClipEncoder:
    """Words from the pack, pictures from the full model (loaded on first need, once)."""

    def __init__(self, info: PackInfo, load_full: Callable[[], ImageTextEncoder]) -> None:
        self._info = info
        self._text = PackedTextEncoder(info)
        self._load_full = load_full
        self._full: ImageTextEncoder | None = None
        self._threads: int | None = None
        self._lock = threading.Lock()
        self._image_tower: Any = None
        if info.image is not None and (info.folder / IMAGE_FILE).is_file():
            self._image_tower = OnnxImageTower(info.folder / IMAGE_FILE, info.image)

    def _model(self) -> ImageTextEncoder:
        with self._lock:
            if self._full is None:
                self._full = self._load_full()
                if self._threads is not None:
                    self._full.set_threads(self._threads)
            return self._full

    @property
    def full_loaded(self) -> bool:
        """Whether the full model (torch) has been loaded for pictures."""
        return self._full is not None

    @property
    def model_id(self) -> str:
        return self._info.model_id

    @property
    def dim(self) -> int:
        return self._info.dim

    @property
    def logit_scale(self) -> float:
        return self._info.logit_scale

    @property
    def draft_size(self) -> int:
        return self._info.input_size

    @property
    def precision_state(self) -> "PrecisionState | None":
        return self._full.precision_state if self._full is not None else None

    def resolve_precision(self, *, recheck: bool = False) -> "PrecisionState":
        return self._model().resolve_precision(recheck=recheck)

    def set_threads(self, threads: int) -> None:
        """Applied to the full model now if it is loaded, else when it loads: a run that
        embeds no picture must not load it."""
        with self._lock:
            self._threads = threads
            full = self._full
        if full is not None:
            full.set_threads(threads)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self._text.embed_texts(texts)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """A query's pictures: through the exported fp32 tower (checked against the full
        model's, no torch) while the full model is not loaded, else through the full model."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._image_tower is not None and self._full is None:
            return normalise(self._image_tower(list(images)))
        return self._model().embed_images(images)

    def prepare_image(self, image: Image.Image) -> Any:
        return self._model().prepare_image(image)

    def embed_prepared(self, prepared: Sequence[Any]) -> np.ndarray:
        return self._model().embed_prepared(prepared)
