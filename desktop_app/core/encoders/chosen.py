"""The models a library runs with: those the person chose in the settings, or those handed in.

The loaders read the settings when they run, not when they are made, so a change of model or
precision applies at the next load (after :meth:`LoadedModels.forget`).

The CLIP loader prefers the model's exported text pack when one was made from the current
weights file: a text query then runs without torch (see :mod:`packed_clip`), and the full
model loads only when a picture is embedded.
"""

import contextlib
from collections.abc import Callable

from desktop_app.core.encoders.base import DocumentTextEncoder, ImageTextEncoder
from desktop_app.core.encoders.catalog import ModelCatalog
from desktop_app.core.encoders.loaded import LoadedModels, Loader
from desktop_app.core.encoders.speech_catalog import chosen_speech
from desktop_app.core.encoders.text import MINILM_ID, MiniLMEncoder
from desktop_app.core.kinds.speech import Transcriber
from desktop_app.core.settings import Settings


def chosen_clip(catalog: ModelCatalog, settings: Settings) -> Loader[ImageTextEncoder]:
    """The CLIP model named in the settings, at the precision and thread count set there."""
    cache_dir = catalog.models_dir / "fast"

    def load_full() -> ImageTextEncoder:
        from desktop_app.core.encoders.clip import OpenClipEncoder  # imports torch: seconds
        from desktop_app.core.encoders.text_export import remember_weights

        spec = catalog.spec(settings.clip_model)
        encoder = OpenClipEncoder(
            spec,
            threads=settings.threads or None,
            precision=settings.precision,
            cache_dir=cache_dir,
        )
        with contextlib.suppress(OSError):  # a read-only data folder: queries keep torch
            remember_weights(cache_dir, settings.clip_model, spec.weights, spec.model_id)
        return encoder

    def load() -> ImageTextEncoder:
        from desktop_app.core.encoders.text_tower import VISUAL_MANIFEST, find_pack

        info = find_pack(cache_dir, settings.clip_model)
        if info is None:
            return load_full()
        from desktop_app.core.encoders.packed_clip import PackedClipEncoder

        # The image tower saved at its decided precision: whether it is there is known without
        # importing torch, which only loading it needs.
        saved = info.image is not None and (info.folder / VISUAL_MANIFEST).is_file()

        def load_pictures() -> ImageTextEncoder | None:
            if not saved or info.image is None:
                return None
            from desktop_app.core.encoders.text_tower import PackedTextEncoder
            from desktop_app.core.encoders.visual_pack import Words, load_visual  # torch

            words = Words(PackedTextEncoder(info).embed_texts, info.logit_scale)
            encoder = load_visual(info.folder, settings.precision, info.image, words)
            if encoder is not None and settings.threads:
                encoder.set_threads(settings.threads)
            return encoder

        return PackedClipEncoder(info, load_full, load_pictures, pictures_load_quickly=saved)

    def chosen_id() -> str:
        from desktop_app.core.encoders.text_tower import find_pack

        info = find_pack(cache_dir, settings.clip_model)
        return info.model_id if info else catalog.spec(settings.clip_model).model_id

    return Loader(load, chosen_id)


def models_in_use(
    catalog: ModelCatalog,
    settings: Settings,
    *,
    clip: Callable[[], ImageTextEncoder] | None = None,
    text: Callable[[], DocumentTextEncoder] | None = None,
    speech: Callable[[], Transcriber] | None = None,
) -> LoadedModels:
    """The loaders handed in (tests' small models), else the chosen CLIP model, the bundled
    MiniLM document model (queries without torch, see :class:`MiniLMEncoder`) and the chosen
    speech model (the bundled Whisper tiny.en)."""
    cache_dir = catalog.models_dir / "fast"  # where the weights' passed hash check is kept
    return LoadedModels(
        clip=Loader(clip) if clip else chosen_clip(catalog, settings),
        text=(
            Loader(text)
            if text
            else Loader(lambda: MiniLMEncoder(cache_dir=cache_dir), lambda: MINILM_ID)
        ),
        speech=Loader(speech) if speech else chosen_speech(catalog.models_dir, settings),
    )
