"""Searches from several threads while the library is indexing, and while a model change
re-embeds every picture; and a second app on the same data folder."""

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import pytest
import torch
from imagegen import save_scene
from safetensors.torch import save_file
from tiny_model import CONFIG

from desktop_app import cli
from desktop_app.core.encoders.catalog import ClipSpec
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import MiniLMEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.errors import LibraryBusyError
from desktop_app.core.searching.ranking import Hit

PHOTOS = 48
SEARCHERS = 3
OTHER_ARCH = "snapfind-test-tiny-32"


@pytest.fixture(scope="module")
def other_clip(tmp_path_factory: pytest.TempPathFactory) -> OpenClipEncoder:
    """A second tiny model with another embedding size: a model change to a new space."""
    folder = tmp_path_factory.mktemp("other-model")
    config = folder / f"{OTHER_ARCH}.json"
    config.write_text(json.dumps({**CONFIG, "embed_dim": 32}), "utf-8")
    open_clip.add_model_config(config)
    torch.manual_seed(1)
    model = open_clip.create_model(OTHER_ARCH, pretrained=None)
    weights = folder / f"{OTHER_ARCH}.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    spec = ClipSpec(f"open_clip:{OTHER_ARCH}/test", OTHER_ARCH, weights, {}, "second test model")
    return OpenClipEncoder(spec)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    for i in range(PHOTOS):
        save_scene(folder / f"p{i:02d}.jpg", 1200 + i, (64, 64), quality=90)
    (folder / "notes").mkdir()
    (folder / "notes" / "trip.md").write_text("# Trip\nWe hiked to the lake.\n", "utf-8")
    return folder


def _while_indexing(engine: Engine, search: Callable[[], list[Hit]]) -> list[list[Hit]]:
    """Run the index to the end in one thread while SEARCHERS threads search in a loop;
    returns every answer and re-raises the first error of any thread."""
    done = threading.Event()
    answers: list[list[Hit]] = []
    errors: list[BaseException] = []

    def index() -> None:
        try:
            for _ in engine.index():
                pass
        except BaseException as err:
            errors.append(err)
        finally:
            done.set()

    def searcher() -> None:
        try:
            while not done.is_set():
                answers.append(search())
            answers.append(search())
        except BaseException as err:
            errors.append(err)
            done.set()

    threads = [threading.Thread(target=index, name="test-index")]
    threads += [
        threading.Thread(target=searcher, name=f"test-search-{i}") for i in range(SEARCHERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    assert not any(t.is_alive() for t in threads)
    return answers


def _mixed_search(engine: Engine, photos: Path) -> Callable[[], list[Hit]]:
    def search() -> list[Hit]:
        hits = engine.search("a lake", k=5)
        hits += engine.search_image(photos / "p00.jpg", k=5)
        with_vector = (
            engine.library.reader()
            .conn.execute(
                "SELECT path FROM files WHERE status = 'indexed' AND kind = 'image' LIMIT 1"
            )
            .fetchone()
        )
        if with_vector:
            hits += engine.similar(with_vector[0], k=5)
        return hits

    return search


def _assert_sane(answers: list[list[Hit]], photos: Path) -> None:
    assert answers
    for hits in answers:
        for hit in hits:
            assert hit.path.startswith(str(photos))
            assert -1.0 - 1e-5 <= hit.score <= 1.0 + 1e-5 and np.isfinite(hit.score)


def test_searches_from_threads_while_indexing(
    make_engine: Callable[..., Engine], photos: Path
) -> None:
    engine = make_engine()
    engine.add_root(photos)
    answers = _while_indexing(engine, _mixed_search(engine, photos))
    _assert_sane(answers, photos)
    assert engine.status().counts["image"] == {"indexed": PHOTOS}
    final = [h.path for h in engine.search_image(photos / "p05.jpg", k=5)]
    assert final[0] == str(photos / "p05.jpg")
    assert [h.path for h in answers[-1][:5]] == [h.path for h in engine.search("a lake", k=5)]


def test_searches_from_threads_while_a_model_change_reembeds(
    home: Path,
    photos: Path,
    tiny_clip: OpenClipEncoder,
    other_clip: OpenClipEncoder,
    minilm: MiniLMEncoder,
) -> None:
    """Queries embedded by the new model are never compared with the old model's vectors
    (another space, here even another size): they search what is re-embedded so far."""
    with Engine(home, clip_loader=lambda: tiny_clip, text_loader=lambda: minilm) as first:
        first.add_root(photos)
        list(first.index())
    with Engine(home, clip_loader=lambda: other_clip, text_loader=lambda: minilm) as engine:
        answers = _while_indexing(engine, _mixed_search(engine, photos))
        _assert_sane(answers, photos)
        sets = engine.status().vector_sets
        assert [(s["model_id"], s["state"]) for s in sets if s["space"] == "clip"] == [
            (other_clip.model_id, "ready")
        ]
        assert engine.search_image(photos / "p07.jpg", k=1)[0].path == str(photos / "p07.jpg")


def test_second_writer_is_refused_with_a_clear_message_and_readers_still_work(
    make_engine: Callable[..., Engine], photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = make_engine()
    first.add_root(photos)
    with pytest.raises(LibraryBusyError, match="Another Snapfind is updating the library"):
        make_engine()
    reader = make_engine(writer=False)
    assert reader.roots() == first.roots()
    capsys.readouterr()
    assert cli.main(["--home", str(first.home), "index"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("snapfind: Another Snapfind is updating the library") and "Wait" in err
    assert cli.main(["--home", str(first.home), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["roots"][0]["path"] == str(photos)


def test_desktop_app_refuses_a_busy_library_with_a_message(
    make_engine: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch, qapp: Any
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from desktop_app.gui import app

    first = make_engine()
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    assert app.main(["--home", str(first.home)]) == 1
    assert len(shown) == 1 and shown[0].startswith("Another Snapfind is updating the library")
