"""The models in use: loaded once on first use, kept warm, forgotten on a change of model."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from desktop_app.core.encoders.loaded import LoadedModels, Loader
from desktop_app.core.errors import KnownError, ModelNotAvailableError
from desktop_app.core.kinds.base import CLIP, TEXT


class _Model:
    """Stands in for an encoder: only its id is asked for here."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id


class _Counting:
    """A loader that counts its loads, each taking ``seconds``."""

    def __init__(self, name: str, seconds: float = 0.0) -> None:
        self.name = name
        self.seconds = seconds
        self.loads = 0

    def __call__(self) -> Any:
        self.loads += 1
        time.sleep(self.seconds)
        return _Model(f"{self.name}-{self.loads}")


def _models(
    clip: _Counting, text: _Counting, chosen: Callable[[], str] | None = None
) -> LoadedModels:
    return LoadedModels(
        clip=Loader(clip, chosen), text=Loader(text), speech=Loader(_Counting("speech"))
    )


def test_nothing_loads_until_asked_and_then_once() -> None:
    clip, text = _Counting("clip"), _Counting("text")
    models = _models(clip, text)
    assert models.loaded(CLIP) is None and models.text.loaded() is None
    assert (clip.loads, text.loads) == (0, 0)
    first = models.get(CLIP)
    assert models.clip() is first and models.loaded(CLIP) is first
    assert (clip.loads, text.loads) == (1, 0)
    assert models.text().model_id == "text-1"
    assert (clip.loads, text.loads) == (1, 1)


def test_two_threads_asking_at_once_load_once() -> None:
    clip = _Counting("clip", seconds=0.2)
    models = _models(clip, _Counting("text"))
    start = threading.Barrier(2)

    def ask(_: int) -> Any:
        start.wait()
        return models.get(CLIP)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(ask, range(2))
    assert first is second
    assert clip.loads == 1


def test_loaded_never_waits_for_a_load_under_way() -> None:
    clip = _Counting("clip", seconds=0.5)
    models = _models(clip, _Counting("text"))
    with ThreadPoolExecutor(1) as pool:
        loading = pool.submit(models.clip)
        while not clip.loads:
            time.sleep(0.01)
        start = time.monotonic()
        assert models.loaded(CLIP) is None
        assert time.monotonic() - start < 0.25
        assert loading.result() is models.loaded(CLIP)


def test_forget_then_get_reloads_only_that_space() -> None:
    clip, text = _Counting("clip"), _Counting("text")
    models = _models(clip, text)
    before, words = models.clip(), models.text()
    models.forget(CLIP)
    assert models.loaded(CLIP) is None and models.loaded(TEXT) is words
    after = models.get(CLIP)
    assert after is not before and after.model_id == "clip-2"
    assert (clip.loads, text.loads) == (2, 1)


def test_model_ids_come_from_the_settings_without_loading() -> None:
    clip, text = _Counting("clip"), _Counting("text")
    chosen = "open_clip:chosen/test"
    models = _models(clip, text, lambda: chosen)
    assert models.available(CLIP) and models.model_id(CLIP) == chosen
    assert models.clip.model_id(load=False) == chosen
    assert clip.loads == 0
    # A loader handed in names its model only once loaded, and only when loading is allowed.
    assert models.text.model_id(load=False) is None and text.loads == 0
    assert models.model_id(TEXT) == "text-1" and text.loads == 1


def test_a_model_that_needs_a_download_is_not_available() -> None:
    def not_downloaded() -> str:
        raise ModelNotAvailableError("download it first")

    clip = _Counting("clip")
    models = _models(clip, _Counting("text"), not_downloaded)
    assert not models.available(CLIP)
    assert models.model_id(CLIP) is None
    assert clip.loads == 0
    models.clip()  # a loaded model is available whatever the settings say
    assert models.available(CLIP) and models.model_id(CLIP) == "clip-1"


def test_a_failed_load_is_tried_again_next_time() -> None:
    attempts: list[int] = []

    def broken() -> Any:
        attempts.append(1)
        raise KnownError("the weights are damaged")

    models = LoadedModels(
        clip=Loader(broken), text=Loader(_Counting("text")), speech=Loader(_Counting("speech"))
    )
    for _ in range(2):
        with pytest.raises(KnownError, match="damaged"):
            models.clip()
    assert len(attempts) == 2 and models.loaded(CLIP) is None
