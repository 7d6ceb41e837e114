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
from desktop_app.core.encoders.image_query import IMAGE_FILE, OnnxImageTower, preprocess
from desktop_app.core.encoders.text_tower import PackedTextEncoder, PackInfo

if TYPE_CHECKING:
    from desktop_app.core.encoders.precision import PrecisionState


class PackedClipEncoder:
    """Words and query pictures from the pack; indexing starts on the pack's fp32 image tower
    and moves to the full model (at the precision the settings chose) once that has loaded in
    the background, so the first pictures are committed while torch is still loading."""

    def __init__(
        self,
        info: PackInfo,
        load_full: Callable[[], ImageTextEncoder],
        load_pictures: Callable[[], ImageTextEncoder | None] = lambda: None,
        *,
        pictures_load_quickly: bool = False,
    ) -> None:
        self._info = info
        self._text = PackedTextEncoder(info)
        self._load_full = load_full
        # The image tower saved at its decided precision (see visual_pack), which loads
        # without open_clip; None when there is none yet (the full model then saves it).
        self._load_pictures = load_pictures
        # With the saved tower, the pack's fp32 ONNX tower embeds only the first batch (the
        # first results a second in); the next waits the second or so the saved tower takes
        # to load, since it then runs about three times as fast. Without it the full model
        # takes seconds to load, and the ONNX tower goes on meanwhile.
        self._quick_pictures = pictures_load_quickly
        self._first_batch_done = False
        self._full: ImageTextEncoder | None = None
        self._threads: int | None = None
        self._lock = threading.Lock()  # guards _full, _threads and _loader
        self._load_lock = threading.Lock()  # one load at a time, foreground or background
        self._loader: threading.Thread | None = None
        self._image_tower: Any = None
        if info.image is not None and (info.folder / IMAGE_FILE).is_file():
            # With the saved tower coming, the ONNX tower's first batch takes one core and
            # leaves the other to torch's import, which the next batch waits for.
            threads = 1 if pictures_load_quickly else 0
            self._image_tower = OnnxImageTower(info.folder / IMAGE_FILE, info.image, threads)

    def _model(self, *, full_only: bool = False) -> ImageTextEncoder:
        """The model for pictures, loaded now (or by the background load under way) if need
        be: the saved image tower if there is one, else the full model (``full_only``: the
        full model, which a precision recheck needs)."""
        with self._load_lock:
            if full_only and self._full is not None and not self._is_full(self._full):
                self._full = None
            if self._full is None:
                full = (None if full_only else self._load_pictures()) or self._load_full()
                with self._lock:
                    if self._threads is not None:
                        full.set_threads(self._threads)
                    self._full = full
            return self._full

    def _load_in_background(self) -> None:
        """Load the full model and decide its precision (the fidelity check, on first use)
        while the pack's tower embeds; a failure leaves indexing on the pack's checked tower."""
        try:
            self._model().resolve_precision()
        except Exception:  # the exported tower, checked against this model, goes on
            with self._lock:
                self._full = None

    def _full_or_start_loading(self) -> ImageTextEncoder | None:
        with self._lock:
            if self._full is None and self._loader is None:
                self._loader = threading.Thread(
                    target=self._load_in_background, name="clip-full-model", daemon=True
                )
                self._loader.start()
            return self._full if self._loader is None or not self._loader.is_alive() else None

    def wait_for_full_model(self, timeout: float | None = None) -> bool:
        """Wait for a background load under way (tests, a clean exit); True if none is left."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout)
        return loader is None or not loader.is_alive()

    @property
    def full_loaded(self) -> bool:
        """Whether the picture model (torch) has been loaded: the full one or the saved
        image tower."""
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
        return self._model(full_only=recheck).resolve_precision(recheck=recheck)

    @staticmethod
    def _is_full(model: ImageTextEncoder) -> bool:
        from desktop_app.core.encoders.visual_pack import VisualEncoder

        return not isinstance(model, VisualEncoder)

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
        """The model input: open_clip's preprocessing redone without torch when the pack has
        the image tower (checked at export to give the same input), else the full model's."""
        if self._image_tower is not None:
            return preprocess(image, self._image_tower.recipe)
        return self._model().prepare_image(image)

    def embed_prepared(self, prepared: Sequence[Any]) -> np.ndarray:
        if not prepared:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._image_tower is None:
            return self._model().embed_prepared(prepared)
        full = self._full_or_start_loading()
        if full is None and self._quick_pictures and self._first_batch_done:
            self.wait_for_full_model()
            full = self._full
        if full is None:
            self._first_batch_done = True
            return normalise(self._image_tower.run(np.stack([np.asarray(p) for p in prepared])))
        import torch  # loaded with the full model already

        return full.embed_prepared([torch.as_tensor(np.asarray(p)) for p in prepared])
