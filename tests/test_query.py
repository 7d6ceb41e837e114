"""Mixed and negative queries, calibrated relevance and filters, through the real engine."""

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import run_index
from imagegen import save_exif_scene, save_scene

from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.core.searching import terms as q
from desktop_app.core.searching.filters import Filters, parse_date
from desktop_app.core.searching.relevance import (
    CUTOFF,
    NEUTRAL_PROMPTS,
    against_library,
    against_neutral,
)

NOTES = {
    "bread.md": "Sourdough bread: feed the starter, knead the dough, let it rise overnight and "
    "bake it in a hot oven.",
    "taxes.txt": "Quarterly tax return: invoices, VAT receipts and the accountant's fees.",
    "bikes.md": "Fixing a bicycle: patch the inner tube, true the wheel, oil the chain.",
}


@pytest.fixture
def library(engine: Engine, tmp_path: Path) -> Path:
    root = tmp_path / "library"
    save_exif_scene(
        root / "2019" / "wide.jpg", 1, (480, 240), "2019:07:14 18:30:05", "Canon EOS 80D"
    )
    save_exif_scene(
        root / "2019" / "tall.jpg", 2, (240, 480), "2019:12:31 23:00:00", "Canon EOS 80D"
    )
    save_exif_scene(root / "2021" / "box.jpg", 3, (300, 300), "2021:03:01 09:00:00", "NIKON D750")
    save_exif_scene(root / "2021" / "tiny.jpg", 4, (120, 90), "2021:06:01 09:00:00", "NIKON D750")
    save_scene(root / "2021" / "shot.png", seed=5, size=(640, 480))
    for i in range(6, 12):
        save_scene(root / "misc" / f"m{i}.jpg", seed=i, size=(320, 240))
    for name, text in NOTES.items():
        (root / "notes").mkdir(parents=True, exist_ok=True)
        (root / "notes" / name).write_text(text, "utf-8")
    engine.add_root(root)
    run_index(engine)
    return root


def _names(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [Path(h.path).name for h in hits]


# -- the compact syntax -----------------------------------------------------------------------


def test_parse_weights_signs_and_pictures(tmp_path: Path) -> None:
    photo = save_scene(tmp_path / "ref.jpg", seed=1)
    query = q.parse("2:golden retriever + ref.jpg - 0.5:people - fruit", base=tmp_path)
    assert [(t.kind, t.weight) for t in query.terms] == [
        ("text", 2.0),
        ("image", 1.0),
        ("text", -0.5),
        ("text", -1.0),
    ]
    assert query.terms[1].value == str(photo)
    assert [t.value for t in q.parse("t-shirt +shirt").terms] == ["t-shirt +shirt"]
    assert q.parse("").is_empty and q.parse("- cats").is_empty
    assert q.parse("- cats + dogs").terms[0].weight == -1.0
    with pytest.raises(KnownError, match="No such picture"):
        q.parse("beach + ./missing.jpg")


def _stored(engine: Engine, path: Path) -> np.ndarray:
    vset = engine.library.searchable_set("clip")
    assert vset is not None
    (vector,) = engine.library.reader().vectors_of_file(vset.id, engine.file(path).id)
    return vector


def test_weighted_terms_follow_the_documented_formula(engine: Engine, library: Path) -> None:
    """q = normalise(Σ wᵢ · normalise(eᵢ)): every hit's score is its cosine to that q."""
    a, b = library / "misc" / "m6.jpg", library / "misc" / "m7.jpg"
    alone = engine.query(q.Query((q.image(a),)), k=3)
    assert _names(alone)[0] == "m6.jpg" and alone[0].score == pytest.approx(1.0, abs=1e-4)
    expected = 3 * _stored(engine, a) + _stored(engine, b)
    expected /= np.linalg.norm(expected)
    leaning = engine.query(q.Query((q.image(a, 3.0), q.image(b))), k=8)
    assert _names(leaning)[0] == "m6.jpg"
    for hit in leaning:
        assert hit.score == pytest.approx(
            float(_stored(engine, Path(hit.path)) @ expected), abs=1e-4
        )
    # Only the ratio of weights matters.
    doubled = engine.query(q.Query((q.image(a, 6.0), q.image(b, 2.0))), k=8)
    assert [h.path for h in doubled] == [h.path for h in leaning]


def test_negative_term_pushes_results_away(engine: Engine, library: Path) -> None:
    a, b = library / "misc" / "m6.jpg", library / "misc" / "m7.jpg"
    plain = engine.query(q.Query((q.image(a),)), k=20)
    away = engine.query(q.Query((q.image(a), q.image(b, -1.0))), k=20)
    assert _names(away)[0] == "m6.jpg"
    assert _names(away).index("m7.jpg") > _names(plain).index("m7.jpg")
    expected = _stored(engine, a) - _stored(engine, b)
    expected /= np.linalg.norm(expected)
    m7 = next(h for h in away if h.path.endswith("m7.jpg"))
    assert (
        m7.score == pytest.approx(float(_stored(engine, b) @ expected), abs=1e-4) and m7.score < 0
    )


def test_words_and_pictures_search_pictures_only(engine: Engine, library: Path) -> None:
    query = q.Query((q.text("bread"), q.image(library / "misc" / "m8.jpg")))
    hits = engine.query(query, k=30)
    assert hits and {h.kind for h in hits} == {"image"}
    more_like = engine.query(q.Query((q.indexed_file(engine.file(library / "2021/box.jpg").id),)))
    assert "box.jpg" not in _names(more_like)


# -- relevance ----------------------------------------------------------------------------


def test_relevance_is_calibrated_for_documents(engine: Engine, library: Path) -> None:
    """MiniLM is the real model: a fitting note passes the cut-off, a nonsense query does not."""
    (best, *rest) = engine.search("how do I bake sourdough bread", k=3, kinds=("document",))
    assert Path(best.path).name == "bread.md"
    assert best.relevance >= CUTOFF > max(h.relevance for h in rest)
    nonsense = engine.search("zqxv blorft wmpk", k=3, kinds=("document",))
    assert nonsense and all(h.relevance < CUTOFF for h in nonsense)
    for hit in engine.search("anything at all", k=30):
        assert 0.0 <= hit.relevance <= 1.0


def test_picture_queries_are_calibrated_against_the_library() -> None:
    """Clustered CLIP-like vectors: a near-copy rates ~1, the query's own cluster in between,
    strangers ~0, whatever the absolute cosine level of this query."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(50, 64))
    library = centres[rng.integers(0, 50, 2000)] + 0.8 * rng.normal(size=(2000, 64))
    library /= np.linalg.norm(library, axis=1, keepdims=True)
    query = library[0] + 0.05 * rng.normal(size=64)
    query /= np.linalg.norm(query)
    scores = library @ query
    order = np.argsort(-scores)
    rel = against_library(scores[order], query, library[:1024])
    assert order[0] == 0 and rel[0] > 0.95
    assert np.median(rel) < 0.05 and np.all(np.diff(rel) <= 0)


def test_a_library_of_near_copies_gives_relevances_without_overflow() -> None:
    """All sample cosines alike: the spread is tiny and the logit huge (the fuzzer found it)."""
    query = np.ones(8, dtype=np.float32) / np.sqrt(8)
    sample = np.tile(query, (50, 1))
    rel = against_library(np.array([1.0, 0.9999, 0.9], dtype=np.float32), query, sample)
    assert np.all(np.isfinite(rel)) and rel[0] >= rel[1] >= rel[2] and rel[2] < 0.01


# -- filters ------------------------------------------------------------------------------


def test_filters_each_narrow_inside_the_search(engine: Engine, library: Path) -> None:
    def names(**kwargs: object) -> set[str]:
        return set(_names(engine.search("a photo", k=50, filters=Filters(**kwargs))))  # type: ignore[arg-type]

    assert names(after=parse_date("2019"), before=parse_date("2020")) == {"wide.jpg", "tall.jpg"}
    assert names(orientation="portrait") == {"tall.jpg"}
    assert names(orientation="square") == {"box.jpg"}
    assert "tiny.jpg" not in names(min_side=200) and "box.jpg" in names(min_side=200)
    assert names(camera="nikon") == {"box.jpg", "tiny.jpg"}
    assert names(types=("png",)) == {"shot.png"}
    assert names(types=("document",)) == set(NOTES)
    assert names(folders=(str(library / "2021"),)) == {"box.jpg", "tiny.jpg", "shot.png"}
    assert names(folders=(str(library / "2021"),), types=("jpeg",), orientation="square") == {
        "box.jpg"
    }


def test_filtered_top_k_is_the_top_k_of_the_subset(engine: Engine, library: Path) -> None:
    query = library / "misc" / "m6.jpg"
    landscape = Filters(orientation="landscape")
    hits = engine.search_image(query, k=3, filters=landscape)
    everything = engine.search_image(query, k=100)
    expected = [h.path for h in everything if h.width and h.height and h.width > h.height][:3]
    assert [h.path for h in hits] == expected


def test_bad_filter_values_are_known_errors() -> None:
    with pytest.raises(KnownError, match="orientation"):
        Filters(orientation="diagonal")
    with pytest.raises(KnownError, match="file type"):
        Filters(types=("flac-video",))
    with pytest.raises(KnownError, match="date"):
        parse_date("last tuesday")
    with pytest.raises(KnownError, match="empty"):
        Filters(after=parse_date("2022"), before=parse_date("2021"))
    assert parse_date("2024-06", end=True) == parse_date("2024-07")
    assert parse_date("2024-12-31", end=True) == parse_date("2025")


def test_offline_folder_is_hidden_then_back_without_re_embedding(
    engine: Engine, tmp_path: Path
) -> None:
    drive, local = tmp_path / "drive", tmp_path / "local"
    for i in range(3):
        save_scene(drive / f"d{i}.jpg", seed=i)
        save_scene(local / f"l{i}.jpg", seed=10 + i)
    engine.add_root(drive)
    engine.add_root(local)
    run_index(engine)
    before = engine.library.reader().vector_count(engine.library.searchable_set("clip").id)  # type: ignore[union-attr]
    os.rename(drive, tmp_path / "unplugged")
    run_index(engine)
    assert {Path(h.path).parent for h in engine.search("a photo", k=10)} == {local}
    os.rename(tmp_path / "unplugged", drive)
    progress = run_index(engine)
    assert not any(p.phase == "images" and p.total for p in progress)
    assert len(engine.search("a photo", k=10)) == 6
    after = engine.library.reader().vector_count(engine.library.searchable_set("clip").id)  # type: ignore[union-attr]
    assert before == after == 6


CALIBRATION_NOTES = {
    "pasta": "# Lasagne\nLayer pasta with tomato sauce and cheese; bake 40 minutes.",
    "trip": "# Sailing trip\nWe sailed along the coast and saw dolphins at dawn.",
    "garden": "Plant tomatoes in spring, prune the apple tree, water the roses.",
    "taxes": "Quarterly tax return: invoices, VAT receipts and the accountant's fees.",
    "bikes": "Fixing a bicycle: patch the inner tube, true the wheel, oil the chain.",
}


@pytest.mark.parametrize(
    ("words", "fits"),
    [
        ("how to make lasagne", {"pasta"}),
        ("cooking dinner", {"pasta"}),
        ("dolphins", {"trip"}),
        ("money and bills", {"taxes"}),
        ("repairing a flat tyre", {"bikes"}),
        ("flowers", {"garden"}),
        ("zqxv blorft", set()),
        ("asdf", set()),
        ("hello", set()),
        ("quantum physics lecture", set()),
    ],
)
def test_neutral_prompts_separate_fitting_notes_from_the_rest(
    minilm: SentenceTransformerEncoder, words: str, fits: set[str]
) -> None:
    """With the real MiniLM: the notes a query fits pass the cut-off, the others do not, and
    nonsense or off-topic words pass nowhere."""
    notes = minilm.embed_texts(list(CALIBRATION_NOTES.values()))
    neutral = minilm.embed_texts(list(NEUTRAL_PROMPTS["text"]))
    scores = notes @ minilm.embed_texts([words])[0]
    rel = against_neutral(scores, notes, neutral, minilm.logit_scale)
    passing = {name for name, r in zip(CALIBRATION_NOTES, rel, strict=True) if r >= CUTOFF}
    assert passing == fits
