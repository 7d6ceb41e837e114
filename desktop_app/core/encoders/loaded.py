"""The models in use, one lazy slot per embedding space (see :mod:`kinds.base`).

A model loads on first use and stays warm: loading takes seconds, a query must not pay it
twice. All slots share one lock, so two threads asking at once load a model once, and two
models never load at the same time (each wants every core and a peak of memory). A slot can
also say which model it would load without loading it, for the window (which asks on the UI
thread) and for the indexer's check that the chosen model has changed. A change of model or
precision forgets the model; the next use loads the new one.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from desktop_app.core.encoders.base import DocumentTextEncoder, ImageTextEncoder, TextEncoder
from desktop_app.core.errors import KnownError
from desktop_app.core.kinds.base import CLIP, TEXT
from desktop_app.core.kinds.speech import Transcriber


class Named(Protocol):
    """A model that says which weights it runs (encoders and the speech model)."""

    @property
    def model_id(self) -> str: ...


# Covariant, so that the slots of different encoders fit in one table by space.
M = TypeVar("M", bound=Named, covariant=True)


@dataclass(frozen=True)
class Loader(Generic[M]):
    """How a slot gets its model.

    ``chosen_id`` gives the id of the model ``load`` would give, read from the settings without
    loading anything; it raises :class:`KnownError` when that model cannot load without a
    download. A loader handed in (a test's small model) has none: its id is known by loading.
    """

    load: Callable[[], M]
    chosen_id: Callable[[], str] | None = None


class Slot(Generic[M]):
    """One space's model: called, it returns the model, loading it the first time."""

    def __init__(self, loader: Loader[M], lock: threading.Lock) -> None:
        self._loader = loader
        self._lock = lock
        self._model: M | None = None

    def __call__(self) -> M:
        with self._lock:
            if self._model is None:
                self._model = self._loader.load()
            return self._model

    def loaded(self) -> M | None:
        """The model if it is loaded already; never loads, nor waits for a load under way."""
        return self._model

    def forget(self) -> None:
        """Drop the model; the next call loads it again (with the settings of then)."""
        with self._lock:
            self._model = None

    def available(self) -> bool:
        """Whether the model can load without a download; a loader handed in always can."""
        if self._model is not None or self._loader.chosen_id is None:
            return True
        try:
            self._loader.chosen_id()
        except KnownError:
            return False
        return True

    def model_id(self, *, load: bool = True) -> str | None:
        """The id of the model this slot gives: the loaded one's, else the chosen one's, else
        (a loader handed in) the model's, loaded for it only if ``load``. None when it is not
        known that way, or when the model cannot load now (not downloaded)."""
        model = self._model
        if model is not None:
            return model.model_id
        try:
            if self._loader.chosen_id is None:
                return self().model_id if load else None
            return self._loader.chosen_id()
        except KnownError:
            return None


class LoadedModels:
    """The model of each embedding space, by space name or through a typed slot
    (``models.clip()`` is an :class:`ImageTextEncoder`). Safe to use from any thread."""

    def __init__(
        self,
        *,
        clip: Loader[ImageTextEncoder],
        text: Loader[DocumentTextEncoder],
        speech: Loader[Transcriber],
    ) -> None:
        lock = threading.Lock()
        self.clip = Slot(clip, lock)
        self.text = Slot(text, lock)
        # Not an embedding space: the speech model makes text units for the text space.
        self.speech = Slot(speech, lock)
        self._slots: dict[str, Slot[TextEncoder]] = {CLIP: self.clip, TEXT: self.text}

    def get(self, space: str) -> TextEncoder:
        """The space's model, loaded now if it is not yet."""
        return self._slots[space]()

    def loaded(self, space: str) -> TextEncoder | None:
        """The space's model if it is loaded already; never loads (the UI thread may ask)."""
        return self._slots[space].loaded()

    def forget(self, space: str) -> None:
        """Drop the space's model, after a change of model or precision."""
        self._slots[space].forget()

    def available(self, space: str) -> bool:
        """Whether the space's model can load without a download."""
        return self._slots[space].available()

    def model_id(self, space: str) -> str | None:
        """The id of the space's model, loading it only when that is the only way to know;
        None when the chosen model cannot load without a download."""
        return self._slots[space].model_id()
