"""CLIP through open_clip: the image tower for pictures, the text tower for queries.

Preprocessing is open_clip's own transform for the loaded weights (resize, crop, normalise),
so the embeddings are the ones the published accuracy figures were measured with. The image
tower runs at the precision chosen in the settings (see :mod:`precision`), decided on the first
picture embedded so that loading the model for a text query costs nothing extra; the text
tower always runs in fp32 (one query at a time, where latency, not throughput, matters).
"""

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from desktop_app.core.encoders import precision as fast_paths
from desktop_app.core.encoders.base import normalise
from desktop_app.core.encoders.catalog import ClipSpec, text_tower_overrides, tokenizer_for
from desktop_app.core.encoders.identity import weights_identity
from desktop_app.core.encoders.towers import FP32, TorchTower, Tower
from desktop_app.core.errors import KnownError


class OpenClipEncoder:
    """An open_clip model in eval mode on the CPU. Calls are serialised by a lock.

    ``precision`` is one of :data:`precision.PRECISIONS`; fast paths other than fp32 need a
    ``cache_dir`` (in the data folder) for their check results and exports. Once a fast path
    is accepted the fp32 image tower is released, so switching back means loading again.
    """

    def __init__(
        self,
        spec: ClipSpec,
        *,
        threads: int | None = None,
        precision: str = FP32,
        cache_dir: Path | None = None,
    ) -> None:
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
        self._identity = weights_identity(spec.weights, spec.model_id)
        self._requested = precision
        self._cache_dir = cache_dir
        self._threads = threads or torch.get_num_threads()
        self._tower: Tower | None = None
        self._state: fast_paths.PrecisionState | None = None
        self.input_size = int(preprocess(Image.new("RGB", (32, 32))).shape[-1])
        self._plain_tokenizer = spec.text_tower is None and _is_plain_clip_tokenizer(tokenizer)

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

    @property
    def draft_size(self) -> int:
        """The short side a JPEG may be decoded at (DCT scaling) without changing the input
        the model sees beyond the fidelity bound measured in the benchmark."""
        return self.input_size

    @property
    def precision_state(self) -> fast_paths.PrecisionState | None:
        """How the image tower runs, once decided (None before the first picture)."""
        return self._state

    def resolve_precision(self, *, recheck: bool = False) -> fast_paths.PrecisionState:
        """Decide the image tower's precision now, running the fidelity check if needed."""
        with self._lock:
            if recheck and self._state is not None and self._state.active != FP32:
                raise RuntimeError("the fp32 tower was released: load the model again to recheck")
            if recheck or self._tower is None:
                self._resolve(recheck=recheck)
            assert self._state is not None
            return self._state

    def _resolve(self, *, recheck: bool = False) -> Tower:
        source = fast_paths.TowerSource(
            self._model.visual,
            self._sample_pixels(2),
            self._cache_dir,
            self._identity,
            self._threads,
        )
        tower, state = fast_paths.resolve(
            self._requested, source, self._model_id, self._sample_pixels, recheck=recheck
        )
        self._save_for_next_runs(tower, state)
        if state.active != FP32:
            self._model.visual = torch.nn.Identity()  # the fast tower replaces it: free it
        self._tower, self._state = tower, state
        return tower

    def _save_for_next_runs(self, tower: Tower, state: fast_paths.PrecisionState) -> None:
        """Save the decided tower beside the text pack, so that the next runs index without
        open_clip (see :mod:`visual_pack`); only where the text pack exists, since that is
        the encoder that loads it."""
        from desktop_app.core.encoders import visual_pack
        from desktop_app.core.encoders.text_tower import pack_folder

        folder = pack_folder(self._cache_dir, self._identity) if self._cache_dir else None
        if folder is None or not isinstance(tower, TorchTower) or not folder.is_dir():
            return
        if visual_pack.saved_for(folder, state):
            return
        visual_pack.save_quietly(
            tower.visual, state, folder, self._model_id, self._sample_pixels(8)
        )

    def export_text_pack(self) -> str:
        """Export and check the text tower for the torch-free query path (see
        :mod:`text_export`) unless done for these weights; returns why it is refused ("" when
        usable). Takes seconds once per weights file; a no-op after that, or without a cache."""
        if self._cache_dir is None:
            return "no data folder to keep the export in"
        from desktop_app.core.encoders.text_export import export_text_pack

        with self._lock:
            return export_text_pack(
                self._model,
                self._tokenizer,
                cache_dir=self._cache_dir,
                identity=self._identity,
                model_id=self._model_id,
                input_size=self.input_size,
                plain_tokenizer=self._plain_tokenizer,
                transform=self.preprocess,
            )

    def _sample_pixels(self, count: int = fast_paths.SAMPLE_SIZE) -> torch.Tensor:
        return torch.stack([self.preprocess(i) for i in fast_paths.sample_images()[:count]])

    def set_threads(self, threads: int) -> None:
        """Run the image tower on ``threads`` CPU threads from the next batch on."""
        with self._lock:
            self._threads = max(1, threads)
            if self._tower is not None:
                self._tower.set_threads(self._threads)
            else:
                torch.set_num_threads(self._threads)

    def prepare_image(self, image: Image.Image) -> torch.Tensor:
        return self.preprocess(image)

    def embed_prepared(self, prepared: Sequence[torch.Tensor]) -> np.ndarray:
        if not prepared:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:
            tower = self._tower or self._resolve()
            features = tower(torch.stack(list(prepared)))
        return normalise(features)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_prepared([self.prepare_image(img) for img in images])

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        tokens = self._tokenizer(list(texts))
        with self._lock, torch.no_grad():
            features = self._model.encode_text(tokens)
        return normalise(features.float().numpy())


def _is_plain_clip_tokenizer(tokenizer: Any) -> bool:
    """open_clip's byte-level BPE with its default cleaning, which :mod:`clip_tokenizer`
    reproduces (other cleanings, reductions and Hugging Face tokenizers it does not)."""
    clean = getattr(tokenizer, "clean_fn", None)
    return (
        type(tokenizer).__name__ == "SimpleTokenizer"
        and getattr(clean, "__name__", "") == "_clean_lower"
        and getattr(tokenizer, "reduction_fn", None) is None
    )
