"""The engine's models: which CLIP model, precision and speech model a library runs, and
fetching, importing and preparing them. Part of :class:`engine.Engine` (kept apart so the
facade's file stays about the library, indexing and search)."""

import sys
from pathlib import Path

from desktop_app.core.db.library import Library
from desktop_app.core.encoders import catalog as model_catalog
from desktop_app.core.encoders.loaded import LoadedModels
from desktop_app.core.errors import KnownError
from desktop_app.core.kinds.base import CLIP, TEXT
from desktop_app.core.settings import Settings


class EngineModels:
    """The model half of the engine facade; every method is safe from any thread."""

    library: Library
    catalog: model_catalog.ModelCatalog
    settings: Settings
    encoders: LoadedModels
    _settings_path: Path

    def set_model(self, name: str) -> None:
        """Choose the CLIP model; the next index run re-embeds every picture with it."""
        if name not in {p.name for p in model_catalog.PRESETS} | {
            m["name"] for m in self.catalog.imported()
        }:
            model_catalog.preset(name)  # raises a KnownError listing the choices
        self.settings.clip_model = name
        self.settings.save(self._settings_path)
        self.encoders.forget(CLIP)

    def set_precision(self, value: str) -> None:
        """Choose how the image model runs; the model reloads on next use and checks the path.

        Vectors already stored stay valid: a path is only used after its embeddings were
        checked to match fp32 (see :mod:`encoders.precision`), else fp32 runs instead.
        """
        from desktop_app.core.encoders.precision import PRECISIONS

        if value not in PRECISIONS:
            choices = ", ".join(PRECISIONS)
            raise KnownError(f"Unknown precision {value!r}. Choose one of: {choices}.")
        if value != self.settings.precision:
            self.settings.precision = value
            self.settings.save(self._settings_path)
            self.encoders.forget(CLIP)

    def precision_status(self, *, check: bool = False) -> dict[str, object]:
        """The precision setting, the one running (if decided) and the recorded checks.

        ``check`` loads the model and decides now, re-running the checks (slow: seconds, or a
        minute for a first int8 export).
        """
        from desktop_app.core.encoders.precision import ReportCache

        slot = self.encoders.clip
        if check:  # a fresh load: a running fast path has released the fp32 reference
            slot.forget()
        clip = slot() if check else slot.loaded()
        state = None
        if clip is not None:
            state = clip.resolve_precision(recheck=True) if check else clip.precision_state
        # Without loading the model unless checking: the window asks on the UI thread.
        model_id = slot.model_id(load=False) or ""
        reports = ReportCache(self.catalog.models_dir / "fast").reports_for(model_id)
        return {
            "setting": self.settings.precision,
            "active": state.active if state else None,
            "note": state.note if state else "",
            "checks": [r.summary() for r in (state.reports if state else reports)],
        }

    def save_settings(self) -> None:
        """Persist ``self.settings`` after a face changed it; the next index run applies it."""
        self.settings.save(self._settings_path)
        if self.settings.threads and "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(self.settings.threads)

    def model_choices(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for p in model_catalog.PRESETS:
            out.append(
                {
                    "name": p.name,
                    "arch": p.arch,
                    "tag": p.tag,
                    "summary": p.summary,
                    "download_mb": p.download_mb,
                    "imagenet_zero_shot": p.imagenet_zero_shot,
                    "available": model_catalog.cached_weights(p) is not None,
                    "active": p.name == self.settings.clip_model,
                }
            )
        for item in self.catalog.imported():
            out.append(
                {
                    "name": item["name"],
                    "arch": item["arch"],
                    "file": item["file"],
                    "available": True,
                    "active": item["name"] == self.settings.clip_model,
                }
            )
        return out

    def download_model(
        self, name: str | None = None, on_progress: model_catalog.DownloadProgress | None = None
    ) -> Path:
        """Download a preset (default: the chosen one); see :func:`catalog.download`. The
        chosen model is then loaded once to export its text tower for fast queries."""
        path = model_catalog.download(
            model_catalog.preset(name or self.settings.clip_model), on_progress
        )
        if (name or self.settings.clip_model) == self.settings.clip_model:
            self.encoders.forget(CLIP)
            self.prepare_model()
        return path

    def clip_available(self) -> bool:
        """Whether the chosen CLIP model can load without a download."""
        return self.encoders.available(CLIP)

    def import_model(
        self,
        arch: str,
        weights: Path,
        config: Path | None = None,
        text_tower: Path | None = None,
    ) -> str:
        """Copy a local weights file in (with a transformers text tower's config and tokenizer
        folder, for architectures that need one) and make it the active model. It is loaded
        now (to export its text tower for fast queries): a file that cannot be loaded says so
        here, and the model in use stays the one before."""
        previous = self.settings.clip_model
        name = self.catalog.import_file(arch, weights, config, text_tower)
        self.set_model(name)
        try:
            self.prepare_model()
        except KnownError:
            self.set_model(previous)
            raise
        return name

    def prepare_model(self) -> None:
        """Load the chosen CLIP model once, right after it was fetched or imported, and make
        what its later runs start from: the query pack (see :meth:`prepare_text_queries`) and
        the image tower's precision, checked and saved (:mod:`encoders.visual_pack`), so that
        the first index run neither checks nor imports open_clip."""
        if self.prepare_text_queries(load=True):
            return  # no pack: later runs load the full model anyway
        model = self.encoders.clip.loaded()
        if model is not None:
            model.resolve_precision()

    def prepare_text_queries(self, *, load: bool = False) -> str:
        """Export the CLIP model's text tower for torch-free text queries (see
        :mod:`encoders.text_export`), once per weights file; returns why that path is not
        available ("" when it is). Only with the full model loaded (``load`` loads it), since
        exporting needs torch anyway; seconds the first time, then nothing."""
        slot = self.encoders.clip
        if load and slot.available():
            slot()
        model = slot.loaded()
        if model is None or "torch" not in sys.modules:
            return "the model is not loaded"
        from desktop_app.core.encoders.clip import OpenClipEncoder

        if not isinstance(model, OpenClipEncoder):
            return ""  # the text pack is in use already, or a model handed in
        try:
            return model.export_text_pack()
        except OSError as err:  # a full disk, a read-only data folder: queries keep torch
            return f"could not write the export: {err.strerror or err}"

    def set_speech_model(self, name: str) -> None:
        """Choose the speech model; recordings and videos' soundtracks are transcribed again at
        the next index run."""
        from desktop_app.core.encoders import speech_catalog

        speech_catalog.speech_model(self.catalog.models_dir, name)  # raises if unknown/missing
        if name == self.settings.speech_model:
            return
        self.settings.speech_model = name
        self.settings.save(self._settings_path)
        self.encoders.speech.forget()
        # Recordings and videos' soundtracks; videos keep their frames.
        freed = self.library.store.forget_space(("audio", "video"), TEXT)
        self.library.drop_labels(freed)

    def import_speech_model(self, folder: Path) -> str:
        """Copy a CTranslate2 Whisper folder in and make it the speech model."""
        from desktop_app.core.encoders import speech_catalog

        name = speech_catalog.import_speech_folder(self.catalog.models_dir, folder)
        self.set_speech_model(name)
        return name

    def download_speech_model(self, name: str) -> Path:
        from desktop_app.core.encoders import speech_catalog

        return speech_catalog.download_speech(name)

    def speech_choices(self) -> list[dict[str, object]]:
        from desktop_app.core.encoders import speech_catalog

        return speech_catalog.speech_choices(self.catalog.models_dir, self.settings.speech_model)
