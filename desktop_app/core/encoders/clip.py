"""CLIP through open_clip: the image tower for pictures, the text tower for queries.

Preprocessing is open_clip's own transform for the loaded weights (resize, crop, normalise),
so the embeddings are the ones the published accuracy figures were measured with.
"""

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from desktop_app.core.encoders.base import normalise
from desktop_app.core.errors import KnownError
from desktop_app.core.models import ClipSpec, text_tower_overrides, tokenizer_for


class OpenClipEncoder:
    """An open_clip model in eval mode on the CPU. Calls are serialised by a lock."""

    def __init__(self, spec: ClipSpec, *, threads: int | None = None) -> None:
        import open_clip

        if threads:
            torch.set_num_threads(threads)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                spec.arch,
                pretrained=str(spec.weights),
                weights_only=True,
                **spec.preprocess,
                **text_tower_overrides(spec),
            )
            tokenizer = tokenizer_for(spec)
        except Exception as err:  # whatever is wrong with the file, say so plainly
            raise KnownError(
                f"Could not load the {spec.label} model from {spec.weights}: {err}. "
                "If the file is damaged, download or import it again."
            ) from err
        if spec.arch.startswith("MobileCLIP"):
            from timm.utils.model import reparameterize_model

            model = reparameterize_model(model)
        model.eval()
        self._model: Any = model
        self.preprocess = preprocess
        self._tokenizer = tokenizer
        self._lock = threading.Lock()
        self._model_id = spec.model_id
        self._dim = int(open_clip.get_model_config(spec.arch)["embed_dim"])

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def logit_scale(self) -> float:
        """The temperature CLIP was trained with (about 100), for relevance calibration."""
        return float(self._model.logit_scale.detach().exp())

    def prepare_image(self, image: Image.Image) -> torch.Tensor:
        return self.preprocess(image)

    def embed_prepared(self, prepared: Sequence[torch.Tensor]) -> np.ndarray:
        if not prepared:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock, torch.no_grad():
            features = self._model.encode_image(torch.stack(list(prepared)))
        return normalise(features.float().numpy())

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_prepared([self.prepare_image(img) for img in images])

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        tokens = self._tokenizer(list(texts))
        with self._lock, torch.no_grad():
            features = self._model.encode_text(tokens)
        return normalise(features.float().numpy())
