"""Opening a library without reading every label: the index's state file and its fallbacks.

A saved index carries a summary of its live labels; when SQLite's summary matches, opening
skips the label-by-label repair. These tests put the files on disk in the states a crash can
leave (index behind SQLite, index ahead of it, a state file that no longer describes its index)
and check that the full repair still runs exactly then.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.db.library import Library
from desktop_app.core.db.records import FileUnits, NewUnit, VectorSet
from desktop_app.core.db.store import Store
from desktop_app.core.kinds.base import CLIP
from desktop_app.core.vectors.hnsw import HnswBackend
from desktop_app.core.vectors.hnsw_store import HnswStore

DIM = 32


def _vectors(n: int, seed: int) -> np.ndarray:
    data = np.random.default_rng(seed).normal(size=(n, DIM))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


def _commit(library: Library, vset: VectorSet, names: list[str], seed: int) -> None:
    """Insert files and commit a vector for each, then add them to the loaded index (as the
    indexer does: SQLite first)."""
    index = library.index_for(vset)
    root = library.store.roots()[0]
    library.store.insert_files(
        [
            {
                "root_id": root.id,
                "path": f"{root.path}/{n}",
                "size": 1,
                "mtime_ns": 1,
                "kind": "image",
            }
            for n in names
        ]
    )
    pending = library.store.pending_files("image")
    data = _vectors(len(pending), seed)
    done = [
        FileUnits(rec, {"hash": rec.path}, {vset.id: [NewUnit(v)]})
        for rec, v in zip(pending, data, strict=True)
    ]
    added = library.store.commit_units(done)[vset.id]
    index.add([lb for lb, _ in added], np.stack([v for _, v in added]))


def _drop(library: Library, names: list[str]) -> None:
    root = library.store.roots()[0]
    ids = [library.store.file_by_path(f"{root.path}/{n}").id for n in names]  # type: ignore[union-attr]
    library.drop_labels(library.store.delete_files(ids))


def _open(home: Path) -> tuple[Library, VectorSet]:
    library = Library(home)
    (vset,) = library.store.vector_sets(CLIP)
    return library, vset


def _assert_matches_sqlite(library: Library, vset: VectorSet) -> None:
    index = library.index_for(vset)
    committed = library.store.labels(vset.id)
    assert len(index) == len(committed)
    found = {lb for lb, _ in index.search(_vectors(1, 99)[0], len(committed) + 5, exact=False)}
    assert found == committed
    assert index.summary() == library.store.label_summary(vset.id)


@pytest.fixture
def library_home(tmp_path: Path) -> Path:
    home = tmp_path / "lib"
    library = Library(home)
    library.store.add_root(str(tmp_path / "photos"))
    library.store.ensure_vector_set(CLIP, "model", DIM)
    library.close()
    return home


def _index_file(home: Path, vset: VectorSet) -> Path:
    return HnswStore(home / "indexes").path(vset.id)


def _snapshot(library: Library, vset: VectorSet, into: Path) -> None:
    library.save_indexes()
    into.mkdir()
    for path in (library.home / "indexes").iterdir():
        shutil.copy2(path, into / path.name)


def _restore(library_home: Path, snapshot: Path) -> None:
    """Put an older index file (and its state file) back, as a crash before a save leaves it."""
    for path in snapshot.iterdir():
        shutil.copy2(path, library_home / "indexes" / path.name)


def test_unchanged_library_opens_without_reading_labels(
    library_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library, vset = _open(library_home)
    _commit(library, vset, [f"a{i}.jpg" for i in range(40)], seed=1)
    _drop(library, ["a3.jpg", "a39.jpg"])  # deleted labels, including the highest one
    library.close()
    monkeypatch.setattr(Store, "labels", lambda *_: pytest.fail("read every label"))
    library, vset = _open(library_home)
    index = library.index_for(vset)
    assert len(index) == 38
    assert index.summary() == library.store.label_summary(vset.id)
    found = {lb for lb, _ in index.search(_vectors(1, 5)[0], 50, exact=True)}
    assert found == set(range(40)) - {3, 39}
    library.close()


def test_index_behind_sqlite_is_repaired(library_home: Path, tmp_path: Path) -> None:
    library, vset = _open(library_home)
    _commit(library, vset, [f"a{i}.jpg" for i in range(20)], seed=1)
    _snapshot(library, vset, tmp_path / "old")
    _commit(library, vset, ["b0.jpg", "b1.jpg"], seed=2)
    _drop(library, ["a0.jpg", "a1.jpg"])  # the same count as the old file: max label tells
    library.close()
    _restore(library_home, tmp_path / "old")
    library, vset = _open(library_home)
    _assert_matches_sqlite(library, vset)
    library.close()
    # The repaired index was saved with its state: the next open takes the fast path.
    reopened = HnswBackend(_index_file(library_home, vset), DIM)
    assert reopened.load() and reopened.summary() is not None


def test_index_ahead_of_sqlite_is_repaired(library_home: Path, tmp_path: Path) -> None:
    library, vset = _open(library_home)
    _commit(library, vset, [f"a{i}.jpg" for i in range(20)], seed=1)
    _snapshot(library, vset, tmp_path / "old")
    _drop(library, ["a5.jpg", "a19.jpg"])
    library.close()
    _restore(library_home, tmp_path / "old")
    library, vset = _open(library_home)
    _assert_matches_sqlite(library, vset)
    assert len(library.index_for(vset)) == 18
    library.close()


def test_state_file_of_another_index_file_is_ignored(library_home: Path, tmp_path: Path) -> None:
    library, vset = _open(library_home)
    _commit(library, vset, [f"a{i}.jpg" for i in range(20)], seed=1)
    _snapshot(library, vset, tmp_path / "old")
    _drop(library, ["a7.jpg"])
    library.close()
    # A crash between replacing the index file and writing its state: new state, old index.
    index_file = _index_file(library_home, vset)
    shutil.copy2(tmp_path / "old" / index_file.name, index_file)
    loaded = HnswBackend(index_file, DIM)
    assert loaded.load() and loaded.summary() is None
    library, vset = _open(library_home)
    _assert_matches_sqlite(library, vset)
    library.close()


def test_labels_resolve_without_reading_vector_rows(library_home: Path) -> None:
    """Unit rows hold their blobs (three to a page): a result list must not read those pages."""
    store = Store(library_home / "library.db")
    plan = " ".join(
        str(row[3])
        for row in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT u.label, u.file_id, f.root_id, u.span_start, u.span_end,"
            " u.span_unit FROM units u JOIN files f ON f.id = u.file_id WHERE u.set_id = ?"
            " AND u.label IN (?, ?)",
            (1, 2, 3),
        )
    )
    store.close()
    assert "COVERING INDEX units_label_lookup" in plan
