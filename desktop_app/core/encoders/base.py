"""The protocols every encoder follows, so the engine can be given small models in tests."""

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image


@runtime_checkable
class TextEncoder(Protocol):
    """Embeds text; ``model_id`` names the weights so a vector set can record what made it."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array (len(texts), dim), each row L2-normalised."""
        ...


@runtime_checkable
class ImageTextEncoder(TextEncoder, Protocol):
    """A joint image/text space (CLIP): a text query finds pictures.

    Preparing a picture (resize, crop, normalise) is split from running the model so the
    indexer can prepare in a worker thread and keep only model-sized inputs in memory, never a
    batch of full-resolution photos.
    """

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """float32 array (len(images), dim) for upright RGB images, rows L2-normalised."""
        ...

    def prepare_image(self, image: Image.Image) -> Any:
        """The model's input for one upright RGB image; thread-safe."""
        ...

    def embed_prepared(self, prepared: Sequence[Any]) -> np.ndarray:
        """Like :meth:`embed_images`, for outputs of :meth:`prepare_image`."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.maximum(norms, 1e-12)
