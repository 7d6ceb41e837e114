"""Media kinds: the registry, a kind added by a test alone, per-space status, one hit per file.

The two kinds defined here live only in this file: registering one must be enough for the
scanner, the indexer, search, filters and status to handle its files, without a change to any
core module.
"""

import io
import itertools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from imagegen import save_scene
from PIL import Image, PngImagePlugin

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError, ModelNotAvailableError
from desktop_app.core.indexing.indexer import SpaceModels
from desktop_app.core.kinds import registry
from desktop_app.core.kinds.base import (
    CLIP,
    TEXT,
    DecodeError,
    Extracted,
    Pass,
    Source,
    Span,
    Unit,
    UnitModels,
)
from desktop_app.core.kinds.document import decode_text
from desktop_app.core.kinds.image import decode_image
from desktop_app.core.progress import Control
from desktop_app.core.searching.filters import Filters


class RecipeExtractor:
    """Recipe cards: one text unit per ``## `` section, with its lines."""

    name = "recipe"
    label = "recipes"
    extensions = frozenset({".recipe"})
    file_types: Mapping[str, Sequence[str]] = {"recipe": (".recipe",)}
    spaces = (TEXT,)
    passes = (Pass("recipes", spaces),)
    typical_units = 2

    def sniff(self, head: bytes) -> bool:
        return False

    def extract(self, source: Source, models: UnitModels) -> Extracted:
        lines = decode_text(source.read()).splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("## ")] + [len(lines)]
        units = [
            Unit(TEXT, text="\n".join(lines[a:b]), span=Span(a + 1, b, "line"))
            for a, b in itertools.pairwise(starts)
        ]
        return Extracted({"taken_at": 0.0}, units)


class PostcardExtractor:
    """A PNG with a caption in its metadata: a picture unit and a text unit, in two spaces."""

    name = "postcard"
    label = "postcards"
    extensions = frozenset({".postcard"})
    file_types: Mapping[str, Sequence[str]] = {"postcard": (".postcard",)}
    spaces = (CLIP, TEXT)
    passes = (Pass("postcards", spaces),)
    typical_units = 1

    def sniff(self, head: bytes) -> bool:
        return False

    def extract(self, source: Source, models: UnitModels) -> Extracted:
        data = source.read()
        try:
            caption = Image.open(io.BytesIO(data)).text.get("Caption", "")  # type: ignore[attr-defined]
        except OSError as err:
            raise DecodeError(f"not a postcard ({err})") from None
        units = []
        if models.wants(CLIP):
            prepare, draft = models.picture_input(CLIP)
            picture, _ = decode_image(data, draft_size=draft)
            units.append(Unit(CLIP, pixels=prepare(picture)))
        if models.wants(TEXT) and caption:
            units.append(Unit(TEXT, text=caption))
        return Extracted({"taken_at": 0.0}, units)


class SlowCaptionPostcardExtractor(PostcardExtractor):
    """Postcards whose captions are read in a later pass, as OCR and speech are."""

    passes = (Pass("postcards", (CLIP,)), Pass("postcard captions", (TEXT,), later=True))


RECIPES = {
    "cake.recipe": "## Chocolate cake\nMelt dark chocolate with butter.\nFold in eggs and flour.\n"
    "## Serving\nDust with icing sugar and serve with cream.\n",
    "soup.recipe": "## Tomato soup\nRoast tomatoes and garlic, then blend with stock.\n",
}


@pytest.fixture
def recipes() -> Iterator[None]:
    with registry.registered(RecipeExtractor()):
        yield


@pytest.fixture
def postcards() -> Iterator[None]:
    with registry.registered(PostcardExtractor()):
        yield


def _postcard(path: Path, caption: str, seed: int) -> Path:
    scene = path.with_suffix(".jpg")
    save_scene(scene, seed=seed, size=(96, 72))
    info = PngImagePlugin.PngInfo()
    info.add_text("Caption", caption)
    with Image.open(scene) as picture:
        picture.save(path, "PNG", pnginfo=info)
    scene.unlink()
    return path


def test_registry_lists_kinds_spaces_and_file_types() -> None:
    assert registry.names() == ("image", "document", "raw", "video", "audio")
    assert registry.spaces() == (CLIP, TEXT)
    assert registry.kinds_in(CLIP) == ("image", "raw", "video")
    assert registry.kinds_in(TEXT) == ("image", "document", "video", "audio")
    assert registry.kind_of_type("m4a") == "audio"
    assert registry.kind_of("/x/memo.M4A", "memo.M4A") == "audio"
    assert registry.file_types()["jpeg"] == (".jpg", ".jpeg", ".jpe", ".jfif")
    assert registry.kind_of_type("markdown") == "document"
    assert registry.kind_of("/x/a.JPG", "a.JPG") == "image"
    assert registry.kind_of("/x/notes.md", "notes.md") == "document"
    assert registry.kind_of("/x/a.xyz", "a.xyz") is None


def test_a_registered_kind_is_gone_after_its_block() -> None:
    with registry.registered(RecipeExtractor()):
        assert registry.names() == ("image", "document", "raw", "video", "audio", "recipe")
        assert registry.kind_of("/x/cake.recipe", "cake.recipe") == "recipe"
    assert registry.names() == ("image", "document", "raw", "video", "audio")
    assert registry.kind_of("/x/cake.recipe", "cake.recipe") is None


def test_a_kind_defined_in_a_test_is_indexed_searched_and_filtered(
    recipes: None, engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "kitchen"
    folder.mkdir()
    for name, text in RECIPES.items():
        (folder / name).write_text(text, "utf-8")
    (folder / "shopping.txt").write_text("Buy milk, bread and batteries.\n", "utf-8")
    engine.add_root(folder)
    phases = [p.phase for p in engine.index()]
    assert "recipes" in phases and phases[-1] == "done"
    status = engine.status()
    assert status.counts["recipe"] == {"indexed": 2}
    assert status.counts["document"] == {"indexed": 1}

    hits = engine.search("serve it with whipped cream", k=5)
    best = hits[0]
    assert (Path(best.path).name, best.kind) == ("cake.recipe", "recipe")
    assert best.span == Span(4, 5, "line")  # the "Serving" section, not the cake's first one
    assert best.snippet == "## Serving Dust with icing sugar and serve with cream."
    assert len({h.file_id for h in hits}) == len(hits), "a file appears once"

    only = engine.search("serve it with whipped cream", k=5, filters=Filters(types=("recipe",)))
    assert {Path(h.path).name for h in only} == {"cake.recipe", "soup.recipe"}
    notes = engine.search("serve it with whipped cream", k=5, kinds=("document",))
    assert [Path(h.path).name for h in notes] == ["shopping.txt"]


def _loader_failing() -> SentenceTransformerEncoder:
    raise ModelNotAvailableError("The text model is not installed yet.")


def test_a_space_whose_model_is_missing_does_not_hold_up_the_others(
    postcards: None,
    home: Path,
    tmp_path: Path,
    tiny_clip: OpenClipEncoder,
    minilm: SentenceTransformerEncoder,
    picture_batches: list[int],
) -> None:
    """Per (file, vector set) status: pictures done while the text space waits."""
    folder = tmp_path / "cards"
    folder.mkdir()
    card = _postcard(folder / "harbour.postcard", "Greetings from the lighthouse by the sea", 1)
    _postcard(folder / "city.postcard", "Busy market square at noon", 2)
    with Engine(home, clip_loader=lambda: tiny_clip, text_loader=_loader_failing) as engine:
        engine.add_root(folder)
        with pytest.raises(KnownError, match="not installed"):
            list(engine.index())
        assert engine.status().counts["postcard"] == {"pending": 2}
        hits = engine.search_image(str(card), k=2)  # searchable by look already
        assert Path(hits[0].path).name == "harbour.postcard"
        store = engine.library.reader()
        (clip_set,) = store.vector_sets(CLIP)
        assert clip_set.state == "ready"
        assert store.vector_sets(TEXT) == []

    picture_batches.clear()
    with Engine(home, clip_loader=lambda: tiny_clip, text_loader=lambda: minilm) as engine:
        assert list(engine.index())[-1].phase == "done"
        assert picture_batches == [], "pictures already embedded were embedded again"
        assert engine.status().counts["postcard"] == {"indexed": 2}
        hits = engine.search("a lighthouse on the coast", k=5)
        assert [Path(h.path).name for h in hits].count("harbour.postcard") == 1
        best = hits[0]
        assert Path(best.path).name == "harbour.postcard"
        assert best.snippet == "Greetings from the lighthouse by the sea"


def test_a_space_embeds_pictures_and_words_of_one_batch_in_order(
    tiny_clip: OpenClipEncoder, tmp_path: Path
) -> None:
    """A space may hold both (a video's frames and captions in CLIP's): each unit goes through
    its own tower and keeps its place."""
    models = SpaceModels({CLIP: tiny_clip})
    prepare, draft = models.picture_input(CLIP)
    scene = save_scene(tmp_path / "scene.jpg", seed=4, size=(96, 72))
    pixels = prepare(decode_image(scene.read_bytes(), draft_size=draft)[0])
    units = [Unit(CLIP, pixels=pixels), Unit(CLIP, text="a red boat"), Unit(CLIP, pixels=pixels)]
    vectors = models.embed(CLIP, units)
    picture = tiny_clip.embed_prepared([pixels])[0]
    np.testing.assert_allclose(vectors[0], picture, atol=1e-5)
    np.testing.assert_allclose(vectors[2], picture, atol=1e-5)
    np.testing.assert_allclose(vectors[1], tiny_clip.embed_texts(["a red boat"])[0], atol=1e-5)


def test_a_later_pass_runs_after_every_quick_one_and_resumes_after_a_cancel(
    home: Path,
    tmp_path: Path,
    tiny_clip: OpenClipEncoder,
    minilm: SentenceTransformerEncoder,
    picture_batches: list[int],
) -> None:
    """Slow units (OCR, speech) wait until every kind's quick units are in: a library is
    searchable by look first; stopping in the slow pass keeps what the quick ones did."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    card = _postcard(folder / "harbour.postcard", "Greetings from the lighthouse by the sea", 1)
    _postcard(folder / "city.postcard", "Busy market square at noon", 2)
    save_scene(folder / "beach.jpg", seed=3, size=(96, 72))
    (folder / "shopping.txt").write_text("Buy milk, bread and batteries.\n", "utf-8")
    with (
        registry.registered(SlowCaptionPostcardExtractor()),
        Engine(home, clip_loader=lambda: tiny_clip, text_loader=lambda: minilm) as engine,
    ):
        engine.add_root(folder)
        control = Control()
        phases = []
        for progress in engine.index(control):
            if progress.phase == "postcard captions":
                control.cancel()
            if not phases or phases[-1] != progress.phase:
                phases.append(progress.phase)
        assert phases == [
            "scanning",
            "images",
            "documents",
            "postcards",
            "text in images",
            "postcard captions",
            "cancelled",
        ]
        assert engine.status().counts["postcard"] == {"pending": 2}
        (root,) = engine.root_status()
        assert (root.pending, root.searchable) == (2, 2), "found by look, captions to come"
        hits = engine.search_image(str(card), k=3)  # searchable by look already
        assert Path(hits[0].path).name == "harbour.postcard"
        assert engine.status().counts["document"] == {"indexed": 1}

        picture_batches.clear()
        phases = list(dict.fromkeys(p.phase for p in engine.index()))
        assert phases == ["scanning", "postcard captions", "done"]
        assert picture_batches == [], "pictures already embedded were embedded again"
        assert engine.status().counts["postcard"] == {"indexed": 2}
        best = engine.search("a lighthouse on the coast", k=5)[0]
        assert (Path(best.path).name, best.snippet) == (
            "harbour.postcard",
            "Greetings from the lighthouse by the sea",
        )
