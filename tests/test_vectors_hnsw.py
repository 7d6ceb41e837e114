"""The hnswlib backend: the shared contract, plus what only hnswlib has (exact and ANN search
agree, repair after a crash, atomic saves, the state file, file names and the old layout)."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from vector_backend_contract import VectorBackendContract, fetch_from, no_fetch, summary_of

from desktop_app.core.db.library import Library
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import CLIP, TEXT
from desktop_app.core.vectors.hnsw import HnswBackend, HnswParams
from desktop_app.core.vectors.hnsw_store import HnswStore


class TestHnswBackend(VectorBackendContract):
    @pytest.fixture
    def vector_store(self, tmp_path: Path) -> HnswStore:
        return HnswStore(tmp_path / "indexes")


def clustered(n: int, dim: int = 64, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """CLIP-like data: points scattered around cluster centres, L2-normalised."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    data = centres[rng.integers(0, clusters, n)] + 0.35 * rng.normal(size=(n, dim))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


# -- search -----------------------------------------------------------------------------------


def test_exact_and_hnsw_agree(tmp_path: Path) -> None:
    data = clustered(3000)
    index = HnswBackend(tmp_path / "i.hnsw", 64)
    index.add(list(range(len(data))), data)  # grows from its initial capacity by resizing
    queries = clustered(50, seed=1)
    overlap = []
    for q in queries:
        exact = index.search(q, 10, exact=True)
        approx = index.search(q, 10, exact=False)
        overlap.append(len({lb for lb, _ in exact} & {lb for lb, _ in approx}) / 10)
        brute = np.argsort(-(data @ q))[:10]
        assert [lb for lb, _ in exact] == brute.tolist()
        assert exact[0][1] == pytest.approx(float(data[brute[0]] @ q), abs=1e-5)
    assert np.mean(overlap) >= 0.98


def test_deleted_labels_are_never_returned(tmp_path: Path) -> None:
    data = clustered(100)
    index = HnswBackend(tmp_path / "i.hnsw", 64)
    index.add(list(range(100)), data)
    index.remove([0, 1, 2])
    for exact in (True, False):
        labels = [lb for lb, _ in index.search(data[0], 100, exact=exact)]
        assert 0 not in labels and len(labels) == 97


def test_filtered_hnsw_search_matches_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the exact-scan limit, hnswlib's filter callback still returns the subset's top k."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 32))
    data = centres[rng.integers(0, 20, 6000)] + 0.3 * rng.normal(size=(6000, 32))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    index = HnswBackend(tmp_path / "v.hnsw", 32)
    index.add(list(range(6000)), data)
    allowed = set(range(0, 6000, 7))
    monkeypatch.setattr("desktop_app.core.vectors.hnsw.FILTERED_EXACT_LIMIT", 10)
    recall = []
    for query in data[:20]:
        found = [label for label, _ in index.search_among(query, 10, allowed)]
        assert set(found) <= allowed and len(found) == 10
        subset = np.array(sorted(allowed))
        exact = subset[np.argsort(-(data[subset] @ query))[:10]]
        recall.append(len(set(found) & set(exact.tolist())) / 10)
    assert np.mean(recall) >= 0.95


# -- files, repair and the state file -----------------------------------------------------------


def test_reconcile_repairs_both_directions(tmp_path: Path) -> None:
    data = clustered(50)
    path = tmp_path / "i.hnsw"
    saved = HnswBackend(path, 64)
    saved.add(list(range(40)), data[:40])
    saved.save()
    # After a "crash": SQLite committed labels 40-49 and dropped labels 0-4 since the save.
    committed = set(range(5, 50))
    reopened = HnswBackend(path, 64)
    assert reopened.load()
    added, removed = reopened.reconcile(committed, lambda labels: ((lb, data[lb]) for lb in labels))
    assert (added, removed) == (10, 5)
    assert len(reopened) == 45
    found = {lb for lb, _ in reopened.search(data[45], 50, exact=False)}
    assert found == committed


def test_unreadable_index_file_is_rebuilt_from_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "i.hnsw"
    path.write_bytes(b"garbage" * 10)
    index = HnswBackend(path, 64)
    assert not index.load()
    data = clustered(10)
    index.reconcile(set(range(10)), lambda labels: ((lb, data[lb]) for lb in labels))
    assert len(index) == 10


def test_save_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "i.hnsw"
    index = HnswBackend(path, 64)
    index.add([1], clustered(1))
    index.save()
    assert path.exists() and not path.with_name("i.hnsw.tmp").exists()
    copy = HnswBackend(path, 64)
    assert copy.load() and len(copy) == 1


def test_build_parameters_live_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "i.hnsw"
    built = HnswBackend(path, 32, HnswParams(m=8, ef_construction=40, ef_search=50))
    built.add(list(range(10)), clustered(10, dim=32))
    built.save()
    loaded = HnswBackend(path, 32, HnswParams(ef_search=300))
    assert loaded.load()
    assert loaded.graph_params() == HnswParams(m=8, ef_construction=40, ef_search=300)


def test_state_file_vouches_only_for_the_file_it_describes(tmp_path: Path) -> None:
    data = clustered(30)
    path = tmp_path / "i.hnsw"
    index = HnswBackend(path, 64)
    index.add(list(range(20)), data[:20])
    index.remove([19])
    index.save()
    assert path.with_name("i.hnsw.state").exists()
    loaded = HnswBackend(path, 64)
    assert loaded.load() and loaded.summary() == summary_of(set(range(19)))
    shutil.copy2(path, tmp_path / "old.hnsw")
    index.add(list(range(20, 30)), data[20:])
    index.save()
    shutil.copy2(tmp_path / "old.hnsw", path)  # a crash between the index and its state
    stale = HnswBackend(path, 64)
    assert stale.load() and stale.summary() is None and stale.needs_save
    committed = set(range(19))
    assert stale.reconcile(committed, no_fetch, summary_of(committed)) == (0, 0)
    assert stale.summary() == summary_of(committed)
    before = path.stat().st_mtime_ns
    stale.save()  # writes the state file only: the index file is the right one
    assert path.stat().st_mtime_ns == before
    fresh = HnswBackend(path, 64)
    assert fresh.load() and fresh.summary() == summary_of(committed)


def test_files_are_named_by_set_id(tmp_path: Path) -> None:
    store = HnswStore(tmp_path / "indexes")
    backend = store.open(3, CLIP, 64)
    backend.add([0], clustered(1))
    backend.save()
    assert sorted(p.name for p in store.folder.iterdir()) == ["set-3.hnsw", "set-3.hnsw.state"]
    assert store.path(3) == store.folder / "set-3.hnsw"
    assert store.disk_bytes() == sum(p.stat().st_size for p in store.folder.iterdir())
    backend.drop()
    assert list(store.folder.iterdir()) == []


def test_engine_status_counts_the_index_files(tmp_path: Path) -> None:
    with Engine(tmp_path / "lib") as engine:
        vset = engine.library.store.ensure_vector_set(CLIP, "model", 64)
        engine.library.index_for(vset).add(list(range(50)), clustered(50))
        engine.library.save_indexes()
        folder = tmp_path / "lib" / "indexes"
        sizes = sum(p.stat().st_size for p in folder.iterdir())
        assert engine.status().index_bytes == sizes > 50 * 64 * 4


# -- libraries written before files were named by set id ----------------------------------------


def _legacy(folder: Path, name: str, data: np.ndarray) -> None:
    """An index saved under an old-layout name, with its state file."""
    old = HnswBackend(folder / name, data.shape[1])
    old.add(list(range(len(data))), data)
    old.save()


def test_old_layout_files_are_adopted_with_their_state(tmp_path: Path) -> None:
    folder = tmp_path / "indexes"
    folder.mkdir()
    data = clustered(30)
    _legacy(folder, "image-1.hnsw", data[:10])
    _legacy(folder, "image-11.hnsw", data[10:30])  # set 11's: "*-1.hnsw" must not take it
    _legacy(folder, "document-2.hnsw", data[:5])
    (folder / "image-1.hnsw.tmp").write_bytes(b"a save a crash cut short")
    store = HnswStore(folder)
    first = store.open(1, CLIP, 64)
    assert len(first) == 10
    assert first.summary() == summary_of(set(range(10)))  # the state file still matches
    assert sorted(p.name for p in folder.iterdir()) == [
        "document-2.hnsw",
        "document-2.hnsw.state",
        "image-11.hnsw",
        "image-11.hnsw.state",
        "set-1.hnsw",
        "set-1.hnsw.state",
    ]
    assert len(store.open(11, CLIP, 64)) == 20
    assert len(store.open(2, TEXT, 64)) == 5
    assert sorted(p.name for p in folder.iterdir()) == [
        f"set-{i}.hnsw{suffix}" for i in (1, 11, 2) for suffix in ("", ".state")
    ]
    assert len(store.open(1, CLIP, 64)) == 10  # adopted once; now the set's own file


def test_adoption_interrupted_between_its_renames_completes(tmp_path: Path) -> None:
    folder = tmp_path / "indexes"
    folder.mkdir()
    data = clustered(10)
    _legacy(folder, "image-4.hnsw", data)
    (folder / "image-4.hnsw.state").rename(folder / "set-4.hnsw.state")  # then the crash
    adopted = HnswStore(folder).open(4, CLIP, 64)
    assert len(adopted) == 10 and adopted.summary() == summary_of(set(range(10)))
    assert sorted(p.name for p in folder.iterdir()) == ["set-4.hnsw", "set-4.hnsw.state"]


def test_a_read_only_store_reads_old_layout_files_where_they_lie(tmp_path: Path) -> None:
    folder = tmp_path / "indexes"
    folder.mkdir()
    _legacy(folder, "image-1.hnsw", clustered(10))
    before = sorted(p.name for p in folder.iterdir())
    backend = HnswStore(folder, read_only=True).open(1, CLIP, 64)
    assert len(backend) == 10 and backend.summary() is not None
    assert sorted(p.name for p in folder.iterdir()) == before


def test_dropping_a_set_deletes_its_old_layout_files_too(tmp_path: Path) -> None:
    folder = tmp_path / "indexes"
    folder.mkdir()
    _legacy(folder, "image-1.hnsw", clustered(10))
    _legacy(folder, "image-11.hnsw", clustered(10))
    (folder / "image-1.hnsw.tmp").write_bytes(b"")
    HnswStore(folder).drop(1)
    assert sorted(p.name for p in folder.iterdir()) == ["image-11.hnsw", "image-11.hnsw.state"]


def test_a_new_set_never_takes_a_dropped_sets_files(tmp_path: Path) -> None:
    """Files of a dropped set that a crash left behind (the drop commits before the files go)
    must not become a new set's index: their labels would be the new set's, with the old
    set's vectors. Set ids are never reused (AUTOINCREMENT), so they cannot."""
    library = Library(tmp_path / "lib")
    first = library.store.ensure_vector_set(CLIP, "old model", 64)
    library.store.drop_abandoned(CLIP, -1)  # the old set goes; a crash keeps its files:
    _legacy(tmp_path / "lib" / "indexes", f"image-{first.id}.hnsw", clustered(5))
    vset = library.target_set(CLIP, "new model", 64)
    assert vset.id > first.id
    index = library.index_for(vset)
    assert len(index) == 0
    fresh = clustered(5, seed=9)
    assert index.reconcile(set(range(5)), fetch_from(fresh)) == (5, 0)
    np.testing.assert_allclose(index.vectors([0, 4]), fresh[[0, 4]], atol=1e-6)
    library.close()
