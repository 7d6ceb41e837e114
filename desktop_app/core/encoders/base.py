"""The protocols every encoder follows, so the engine can be given small models in tests.

They name every member the core uses, so that a caller asks the model and never probes it; a
test double implements them all.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

if TYPE_CHECKING:  # precision imports torch, which only a loaded CLIP model needs
    from desktop_app.core.encoders.precision import PrecisionState


@runtime_checkable
class TextEncoder(Protocol):
    """Embeds text; ``model_id`` names the weights so a vector set can record what made it."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def logit_scale(self) -> float:
        """The similarity scale the model was trained with (about 100 for CLIP, 20 for
        sentence-transformers), which turns its cosines into relevances."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array (len(texts), dim), each row L2-normalised."""
        ...


@runtime_checkable
class DocumentTextEncoder(TextEncoder, Protocol):
    """Embeds documents, cut into chunks that fit the model's token window."""

    @property
    def max_tokens(self) -> int:
        """Tokens one input may hold, special markers not counted."""
        ...

    def count_tokens(self, text: str) -> int: ...


@runtime_checkable
class ImageTextEncoder(TextEncoder, Protocol):
    """A joint image/text space (CLIP): a text query finds pictures.

    Preparing a picture (resize, crop, normalise) is split from running the model so the
    indexer can prepare in a worker thread and keep only model-sized inputs in memory, never a
    batch of full-resolution photos.
    """

    @property
    def draft_size(self) -> int:
        """The short side a JPEG may be decoded at (DCT scaling) for this model; a query picture
        is read the same way, so a picture in the library embeds as it was indexed."""
        ...

    @property
    def precision_state(self) -> "PrecisionState | None":
        """How the image tower runs, once decided (None before the first picture)."""
        ...

    def resolve_precision(self, *, recheck: bool = False) -> "PrecisionState":
        """Decide the image tower's precision now, running the fidelity check if needed."""
        ...

    def set_threads(self, threads: int) -> None:
        """Run the image tower on ``threads`` CPU threads from the next batch on."""
        ...

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
