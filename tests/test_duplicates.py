"""Duplicate groups: planted copies in a real indexed library, and the grouping rules on given
vectors (exact copies, the anti-chaining centre rule, the ANN path, progress and cancel)."""

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import run_index
from imagegen import scene
from vector_library import clustered, nudge, vector_library

from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.core.progress import Control, Progress
from desktop_app.core.searching.duplicates import (
    LEVELS,
    Report,
    copy_list,
    find_groups,
    parse_threshold,
)
from desktop_app.core.vectors.hnsw import EXACT_SEARCH_LIMIT

# With the tiny random test model, planted copies sit at cosine ≥ 0.9988 and different scenes
# at ≤ 0.9976 (measured on this library): the named levels are for real CLIP, so tests pass
# this number.
TINY_NEAR = 0.9982


def plant(folder: Path, originals: int = 10, planted: int = 4) -> dict[str, set[str]]:
    """Scenes, the first ``planted`` with a re-encoded, a resized and a cropped copy; one exact
    byte copy. Returns the expected groups (file names) by original."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, set[str]] = {}
    for i in range(originals):
        picture = scene(i, (400, 300))
        picture.save(folder / f"s{i:02d}.jpg", quality=90)
        if i < planted:
            picture.save(folder / f"s{i:02d}-q60.jpg", quality=60)
            picture.resize((200, 150)).save(folder / f"s{i:02d}-small.jpg", quality=90)
            picture.crop((12, 9, 388, 291)).save(folder / f"s{i:02d}-crop.jpg", quality=90)
            expected[f"s{i:02d}.jpg"] = {
                f"s{i:02d}{suffix}.jpg" for suffix in ("", "-q60", "-small", "-crop")
            }
    shutil.copy(folder / "s00.jpg", folder / "copy of s00.jpg")
    expected["s00.jpg"].add("copy of s00.jpg")
    return expected


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")}


@pytest.fixture
def planted(engine: Engine, tmp_path: Path) -> tuple[Path, dict[str, set[str]]]:
    folder = tmp_path / "photos"
    expected = plant(folder)
    engine.add_root(folder)
    run_index(engine)
    return folder, expected


def test_planted_copies_group_and_the_original_is_kept(
    engine: Engine, planted: tuple[Path, dict[str, set[str]]]
) -> None:
    folder, expected = planted
    before = digests(folder)
    groups = engine.duplicates(TINY_NEAR)
    assert sorted(sorted(Path(m.path).name for m in g.members) for g in groups) == sorted(
        sorted(names) for names in expected.values()
    )
    assert [len(g.members) for g in groups] == [5, 4, 4, 4]  # largest first
    for group in groups:
        keeper = group.members[0]
        assert keeper.keep and not any(m.keep for m in group.members[1:])
        assert (keeper.width, keeper.height) == (400, 300)
        assert Path(keeper.path).name in expected  # the full-size original, not its copy
        assert all(TINY_NEAR <= m.similarity <= 1.0 for m in group.members)
    copies = {Path(m.path).name for m in groups[0].members if m.exact_copy}
    assert copies == {"s00.jpg", "copy of s00.jpg"}
    assert digests(folder) == before  # nothing was moved, changed or deleted


def test_exact_level_groups_only_identical_bytes(
    engine: Engine, planted: tuple[Path, dict[str, set[str]]]
) -> None:
    (group,) = engine.duplicates("exact")
    assert {Path(m.path).name for m in group.members} == {"s00.jpg", "copy of s00.jpg"}
    assert group.exact and group.similarity == pytest.approx(1.0, abs=1e-5)
    assert engine.duplicates(1.0) == engine.duplicates("exact copies")


def test_folder_limit_and_copy_list(engine: Engine, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        scene(1, (400, 300)).save(folder / "same.jpg", quality=90)
        scene(2, (400, 300)).save(folder / "other.jpg", quality=90)
    scene(3, (400, 300)).save(first / "third.jpg", quality=90)
    shutil.copy(first / "third.jpg", first / "third again.jpg")
    engine.add_root(first)
    engine.add_root(second)
    run_index(engine)
    both = engine.duplicates("exact")
    assert len(both) == 3
    (inside,) = engine.duplicates("exact", folders=[str(first)])
    assert {Path(m.path).name for m in inside.members} == {"third.jpg", "third again.jpg"}
    assert engine.duplicates("exact", folders=[]) == []
    text = copy_list(both)
    assert text.count("\n\n") == 2
    assert sorted(text.split("\n")) == sorted(["", "", *(m.path for g in both for m in g.members)])


def test_thresholds_by_name_or_number() -> None:
    assert parse_threshold("near") == LEVELS["near"] == parse_threshold("Near-identical")
    assert parse_threshold("similar shots") == LEVELS["similar"] < LEVELS["near"]
    assert parse_threshold("0.93") == parse_threshold(0.93) == 0.93
    for bad in ("loose", "0", 1.5):
        with pytest.raises(KnownError, match="threshold"):
            parse_threshold(bad)


def test_empty_library_has_no_groups(engine: Engine) -> None:
    assert engine.duplicates("similar") == []


def test_a_chain_of_small_steps_does_not_become_one_group(tmp_path: Path) -> None:
    """Each vector is at cosine 0.96 of the next, so single-linkage at 0.95 would join all 12;
    the centre rule keeps every group within the threshold of its centre."""
    rng = np.random.default_rng(1)
    chain = [clustered(1, 64, 1, 0.0, seed=2)[0]]
    for _ in range(11):
        chain.append(nudge(chain[-1], 0.96, rng))
    vectors = np.vstack([np.stack(chain), clustered(30, 64, 30, 1.0, seed=3)])
    library, vset = vector_library(tmp_path / "home", vectors)
    try:
        work = find_groups(library.reader(), vset.id, library.index_for(vset), 0.95)
        report = next(r for r in work if isinstance(r, Report))
        assert 1 < len(report.groups) < 12
        matrix = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        for group in report.groups:
            rows = [int(Path(m.path).stem[1:]) for m in group.members]
            assert all(r < 12 for r in rows)
            cosines = matrix[rows] @ matrix[rows].T
            assert (cosines >= 0.95 - 1e-5).all(axis=1).any()  # one centre is close to all
    finally:
        library.close()


@pytest.mark.slow
def test_ann_path_finds_planted_pairs_with_progress_and_cancel(tmp_path: Path) -> None:
    """Above the exact-search limit the graph comes from hnswlib; planted pairs at 0.985 and
    an exact-copy triple (same hash) are all found, and a cancel stops the scan."""
    rng = np.random.default_rng(5)
    count = EXACT_SEARCH_LIMIT + 1000
    vectors = clustered(count, 32, clusters=200, spread=1.0, seed=4)
    hashes = [f"h{i}" for i in range(count)]
    pairs = [(i, count - 1 - i) for i in range(0, 400, 20)]
    for a, b in pairs:
        vectors[b] = nudge(vectors[a], 0.985, rng)
    hashes[105] = hashes[106] = hashes[107] = "same bytes"
    vectors[106] = vectors[107] = vectors[105] + 0.5  # exact copies group whatever the vectors
    library, vset = vector_library(tmp_path / "home", vectors, hashes)
    try:
        index = library.index_for(vset)
        items = list(find_groups(library.reader(), vset.id, index, 0.98))
        progress = [p for p in items if isinstance(p, Progress)]
        assert progress[-1].done == progress[-1].total == count and len(progress) > 5
        report = items[-1]
        assert not isinstance(report, Progress)
        found = {
            tuple(sorted(int(Path(m.path).stem[1:]) for m in g.members)) for g in report.groups
        }
        assert {(a, b) for a, b in pairs} | {(105, 106, 107)} <= found
        control = Control()
        work = find_groups(library.reader(), vset.id, index, 0.98, control=control)
        next(work)
        control.cancel()
        assert [p.phase for p in work if isinstance(p, Progress)] == ["cancelled"]
    finally:
        library.close()
