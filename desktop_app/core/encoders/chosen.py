"""The models a library runs with: those the person chose in the settings, or those handed in.

The loaders read the settings when they run, not when they are made, so a change of model or
precision applies at the next load (after :meth:`LoadedModels.forget`).
"""

from collections.abc import Callable

from desktop_app.core.encoders.base import DocumentTextEncoder, ImageTextEncoder
from desktop_app.core.encoders.catalog import ModelCatalog
from desktop_app.core.encoders.loaded import LoadedModels, Loader
from desktop_app.core.encoders.speech_catalog import chosen_speech
from desktop_app.core.encoders.text import MINILM_ID, SentenceTransformerEncoder
from desktop_app.core.kinds.speech import Transcriber
from desktop_app.core.settings import Settings


def chosen_clip(catalog: ModelCatalog, settings: Settings) -> Loader[ImageTextEncoder]:
    """The CLIP model named in the settings, at the precision and thread count set there."""

    def load() -> ImageTextEncoder:
        from desktop_app.core.encoders.clip import OpenClipEncoder  # imports torch: seconds

        return OpenClipEncoder(
            catalog.spec(settings.clip_model),
            threads=settings.threads or None,
            precision=settings.precision,
            cache_dir=catalog.models_dir / "fast",
        )

    return Loader(load, lambda: catalog.spec(settings.clip_model).model_id)


def models_in_use(
    catalog: ModelCatalog,
    settings: Settings,
    *,
    clip: Callable[[], ImageTextEncoder] | None = None,
    text: Callable[[], DocumentTextEncoder] | None = None,
    speech: Callable[[], Transcriber] | None = None,
) -> LoadedModels:
    """The loaders handed in (tests' small models), else the chosen CLIP model, the bundled
    MiniLM document model and the chosen speech model (the bundled Whisper tiny.en)."""
    return LoadedModels(
        clip=Loader(clip) if clip else chosen_clip(catalog, settings),
        text=Loader(text) if text else Loader(SentenceTransformerEncoder, lambda: MINILM_ID),
        speech=Loader(speech) if speech else chosen_speech(catalog.models_dir, settings),
    )
