"""Search by text, by image and by example, against real files and real models."""

from pathlib import Path

import pytest
from conftest import run_index
from imagegen import save_scene, scene

from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.core.kinds.base import CLIP, TEXT
from desktop_app.core.searching.filters import Filters

DOCUMENTS = {
    "recipe.md": "# Lasagne\nLayer pasta sheets with tomato sauce, minced beef and cheese.\n"
    "Bake in the oven for forty minutes.\n",
    "taxes.txt": "Quarterly tax return: invoices, VAT receipts and the accountant's fees.\n",
    "hike.md": "We climbed the mountain trail at dawn and camped by an alpine lake.\n",
    "garden.txt": "Plant the tomatoes in spring; water the roses and prune the apple tree.\n",
}


@pytest.fixture
def library(engine: Engine, tmp_path: Path) -> Path:
    root = tmp_path / "library"
    for i in range(12):
        save_scene(root / "photos" / f"img{i:02d}.jpg", seed=i, size=(400, 300))
    # A resized, re-encoded copy of img03: should rank right after the exact duplicate.
    scene(3, (400, 300)).resize((200, 150)).save(root / "photos" / "img03-small.png")
    for name, text in DOCUMENTS.items():
        (root / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / name).write_text(text, "utf-8")
    engine.add_root(root)
    run_index(engine)
    return root


def test_image_query_finds_duplicate_then_resized_copy(
    engine: Engine, library: Path, tmp_path: Path
) -> None:
    outside = save_scene(tmp_path / "query.jpg", seed=3, size=(400, 300))
    names = [Path(h.path).name for h in engine.search_image(outside, k=3)]
    assert names[:2] == ["img03.jpg", "img03-small.png"]
    from_bytes = engine.search_image(outside.read_bytes(), k=1)
    assert Path(from_bytes[0].path).name == "img03.jpg"
    assert from_bytes[0].score == pytest.approx(1.0, abs=1e-3)


def test_more_like_this_uses_stored_vector_and_excludes_itself(
    engine: Engine, library: Path
) -> None:
    hits = engine.similar(library / "photos" / "img03.jpg", k=3)
    assert Path(hits[0].path).name == "img03-small.png"
    assert all(Path(h.path).name != "img03.jpg" for h in hits)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how long to cook the pasta bake", "recipe.md"),
        ("paperwork for the tax office", "taxes.txt"),
        ("outdoor adventure in the mountains", "hike.md"),
        ("growing vegetables and flowers", "garden.txt"),
    ],
)
def test_text_finds_the_right_document_first(
    engine: Engine, library: Path, query: str, expected: str
) -> None:
    hits = engine.search(query, k=3, kinds=("document",))
    assert Path(hits[0].path).name == expected
    assert hits[0].snippet and hits[0].line_start == 1


def test_merged_results_carry_kind_rank_and_metadata(engine: Engine, library: Path) -> None:
    hits = engine.search("a mountain lake", k=8)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert {h.kind for h in hits} == {"image", "document"}
    relevances = [round(h.relevance, 3) for h in hits]  # ties to 3 decimals go by cosine
    assert relevances == sorted(relevances, reverse=True)
    image = next(h for h in hits if h.kind == "image")
    assert (image.width, image.height) in {(400, 300), (200, 150)}
    assert image.taken_at is not None


def test_k_and_empty_queries(engine: Engine, library: Path) -> None:
    assert len(engine.search("anything", k=5, kinds=("image",))) == 5
    assert engine.search("   ") == []


def test_bad_query_image_is_a_known_error(engine: Engine, library: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_text("nope")
    with pytest.raises(KnownError, match="Cannot search by"):
        engine.search_image(bad)
    with pytest.raises(KnownError, match="Cannot read"):
        engine.search_image(tmp_path / "missing.jpg")


def test_long_document_is_chunked_with_line_ranges(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    filler = [
        f"Line {i}: minutes of the committee about the budget and staffing." for i in range(200)
    ]
    filler[150] = "The cat chased a red laser pointer around the living room sofa."
    (root / "long.md").write_text("\n".join(filler), "utf-8")
    (root / "other.md").write_text("A note about car insurance renewals.", "utf-8")
    engine.add_root(root)
    run_index(engine)
    (hit,) = engine.search("a kitten playing with a laser", k=1, kinds=("document",))
    assert Path(hit.path).name == "long.md"
    assert hit.line_start is not None and hit.line_end is not None
    assert hit.line_start <= 151 <= hit.line_end and hit.line_end - hit.line_start < 100


def test_search_while_indexing_sees_committed_files(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "photos"
    for i in range(40):
        save_scene(root / f"{i:02d}.jpg", seed=i, size=(96, 96))
    engine.add_root(root)
    seen = []
    for progress in engine.index():
        if progress.phase == "images" and 0 < progress.done < progress.total:
            seen.append(len(engine.search_image(root / "00.jpg", k=100)))
    assert seen and seen[0] < 40 and seen == sorted(seen)
    assert len(engine.search_image(root / "00.jpg", k=100)) == 40


def test_reader_engine_in_another_process_sees_saved_state(make_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    writer = make_engine()
    root = tmp_path / "photos"
    for i in range(5):
        save_scene(root / f"{i}.jpg", seed=i)
    writer.add_root(root)
    run_index(writer)
    reader = make_engine(writer=False)
    assert len(reader.search_image(root / "0.jpg", k=10)) == 5


def test_folder_filter_returns_top_k_of_the_subset(engine: Engine, tmp_path: Path) -> None:
    """A narrow folder filter still fills k results: filtering happens inside the search."""
    big, small = tmp_path / "big", tmp_path / "small"
    for i in range(60):
        save_scene(big / f"b{i:02d}.jpg", seed=i, size=(96, 96))
    for i in range(4):
        save_scene(small / f"s{i}.jpg", seed=100 + i, size=(96, 96))
    engine.add_root(big)
    engine.add_root(small)
    run_index(engine)
    hits = engine.search_image(big / "b00.jpg", k=3, filters=Filters(folders=(str(small),)))
    assert len(hits) == 3 and all(Path(h.path).parent == small for h in hits)
    everything = engine.search_image(big / "b00.jpg", k=100)
    expected = [h.path for h in everything if Path(h.path).parent == small][:3]
    assert [h.path for h in hits] == expected
    docs_only = engine.search(
        "anything", k=5, filters=Filters(folders=(str(small),)), kinds=("image",)
    )
    assert {Path(h.path).parent for h in docs_only} == {small}


def test_warm_up_loads_what_the_first_query_needs(
    make_engine, engine: Engine, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    reader = make_engine(writer=False)
    reader.warm_up()
    assert reader.encoders.loaded(CLIP) is not None and reader.encoders.loaded(TEXT) is not None
    from desktop_app.core.vectors.hnsw import HnswBackend

    monkeypatch.setattr(HnswBackend, "load", lambda _: pytest.fail("index loaded by the query"))
    assert reader.search("red", k=3)
