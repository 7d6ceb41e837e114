"""The hnswlib backend: exact and ANN search agree, repair after a crash, atomic saves."""

from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.vectors.hnsw import HnswBackend, HnswParams


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


# -- files and repair --------------------------------------------------------------------------


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
