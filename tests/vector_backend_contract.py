"""What every vector backend owes the library, as tests any backend's module can run.

A backend's test module subclasses :class:`VectorBackendContract` and defines the fixture
``vector_store``: a fresh, empty :class:`VectorStore` of that backend for each test. The sizes
stay small, where a backend is expected to answer exactly (hnswlib scans below its exact-search
limit; an approximate engine should be exact at a few hundred vectors too).
"""

from collections.abc import Iterator

import numpy as np
import pytest

from desktop_app.core.vectors.backend import Fetch, LabelSummary, VectorBackend, VectorStore

DIM = 32
COUNT = 300
SPACE = "image"


def unit_vectors(count: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    """Points around a few centres (CLIP-like clumps), L2-normalised."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, dim))
    data = centres[rng.integers(0, 12, count)] + 0.5 * rng.normal(size=(count, dim))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


def exact_top(data: np.ndarray, labels: list[int], query: np.ndarray, k: int) -> list[int]:
    """The true top ``k`` of ``labels`` (rows of ``data``) by cosine to ``query``."""
    scores = data[labels] @ (query / np.linalg.norm(query))
    return [labels[i] for i in np.argsort(-scores, kind="stable")[:k]]


def fetch_from(data: np.ndarray) -> Fetch:
    """A ``fetch`` reading ``data`` as SQLite's stored vectors (label = row)."""

    def fetch(labels: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        return ((label, data[label]) for label in labels)

    return fetch


def no_fetch(labels: list[int]) -> Iterator[tuple[int, np.ndarray]]:
    pytest.fail(f"re-read stored vectors of {labels}")


def summary_of(labels: set[int]) -> LabelSummary:
    """SQLite's summary of a set of labels (see Store.label_summary)."""
    return len(labels), sum(labels), max(labels, default=-1)


class VectorBackendContract:
    """Tests of :class:`VectorBackend` and :class:`VectorStore`, run on ``vector_store``."""

    @pytest.fixture
    def data(self) -> np.ndarray:
        return unit_vectors(COUNT)

    @pytest.fixture
    def filled(self, vector_store: VectorStore, data: np.ndarray) -> VectorBackend:
        """Set 1 holding label ``i`` -> ``data[i]``, added in two batches."""
        backend = vector_store.open(1, SPACE, DIM)
        half = COUNT // 2
        backend.add(list(range(half)), data[:half])
        backend.add(list(range(half, COUNT)), data[half:])
        return backend

    # -- searching ---------------------------------------------------------------------------

    def test_search_ranks_by_exact_cosine(self, filled: VectorBackend, data: np.ndarray) -> None:
        assert len(filled) == COUNT
        for query in unit_vectors(10, seed=1):
            found = filled.search(query, 10)
            assert [lb for lb, _ in found] == exact_top(data, list(range(COUNT)), query, 10)
            for label, score in found:
                assert score == pytest.approx(float(data[label] @ query), abs=1e-5)

    def test_search_never_returns_more_than_it_holds(self, filled: VectorBackend) -> None:
        query = unit_vectors(1, seed=1)[0]
        assert len(filled.search(query, COUNT + 50)) == COUNT
        assert filled.search(query, 0) == []

    def test_search_among_returns_the_true_top_of_the_subset(
        self, filled: VectorBackend, data: np.ndarray
    ) -> None:
        subset = list(range(3, COUNT, 7))
        allowed = {*subset, COUNT + 5}  # a label it does not hold is no hit
        for query in unit_vectors(10, seed=2):
            found = filled.search_among(query, 10, allowed)
            assert [lb for lb, _ in found] == exact_top(data, subset, query, 10)
            for label, score in found:
                assert score == pytest.approx(float(data[label] @ query), abs=1e-5)
        everything = filled.search_among(data[3], 1000, allowed)
        assert sorted(lb for lb, _ in everything) == subset
        assert filled.search_among(data[3], 10, set()) == []

    def test_knn_answers_a_batch(self, filled: VectorBackend, data: np.ndarray) -> None:
        queries = data[:20]
        labels, cosines = filled.knn(queries, 5, ef=64)
        assert labels.shape == cosines.shape == (20, 5)
        assert labels[:, 0].tolist() == list(range(20))  # each stored vector finds itself
        np.testing.assert_allclose(cosines[:, 0], 1.0, atol=1e-5)
        for row, query in enumerate(queries):
            assert labels[row].tolist() == exact_top(data, list(range(COUNT)), query, 5)
            np.testing.assert_allclose(cosines[row], data[labels[row]] @ query, atol=1e-5)
        wide, _ = filled.knn(queries[:2], COUNT + 10)
        assert wide.shape == (2, COUNT)

    # -- reading stored vectors --------------------------------------------------------------

    def test_vectors_come_back_in_the_order_asked(
        self, filled: VectorBackend, data: np.ndarray
    ) -> None:
        asked = [250, 7, 3, 120]
        np.testing.assert_allclose(filled.vectors(asked), data[asked], atol=1e-6)
        assert filled.vectors([]).shape == (0, DIM)

    def test_vectors_are_kept_unit_length(self, vector_store: VectorStore) -> None:
        backend = vector_store.open(1, SPACE, DIM)
        raw = unit_vectors(2) * np.array([[3.0], [0.5]], dtype=np.float32)
        backend.add([0, 1], raw)
        np.testing.assert_allclose(np.linalg.norm(backend.vectors([0, 1]), axis=1), 1.0, atol=1e-5)
        ((label, score),) = backend.search(raw[0] * 7, 1)
        assert label == 0 and score == pytest.approx(1.0, abs=1e-5)

    def test_sample_is_spread_and_repeatable(
        self, vector_store: VectorStore, filled: VectorBackend, data: np.ndarray
    ) -> None:
        sample = filled.sample(50)
        assert sample.shape == (50, DIM)
        nearest = (sample @ data.T).max(axis=1)
        np.testing.assert_allclose(nearest, 1.0, atol=1e-5)  # stored vectors, not made up
        assert len({tuple(np.round(row, 5)) for row in sample}) == 50
        np.testing.assert_array_equal(filled.sample(50), sample)
        filled.save()
        reopened = vector_store.open(1, SPACE, DIM)
        np.testing.assert_allclose(reopened.sample(50), sample, atol=1e-6)
        assert filled.sample(COUNT + 100).shape == (COUNT, DIM)

    # -- changes -----------------------------------------------------------------------------

    def test_removed_labels_are_never_returned(
        self, filled: VectorBackend, data: np.ndarray
    ) -> None:
        filled.remove([0, 1, 2, COUNT + 7])  # one it never held: ignored
        filled.remove([1])  # twice: ignored
        assert len(filled) == COUNT - 3
        gone = {0, 1, 2}
        assert not gone & {lb for lb, _ in filled.search(data[0], COUNT)}
        assert not gone & {lb for lb, _ in filled.search_among(data[0], 10, set(range(10)))}
        labels, _ = filled.knn(data[:3], 5)
        assert not gone & set(labels.ravel().tolist())
        rows = filled.sample(COUNT)
        assert len(rows) == COUNT - 3
        assert (rows @ data[:3].T).max() < 1 - 1e-4

    def test_needs_save_follows_changes(self, filled: VectorBackend) -> None:
        assert filled.needs_save
        filled.save()
        assert not filled.needs_save
        filled.remove([5])
        assert filled.needs_save
        filled.save()
        assert not filled.needs_save

    # -- persistence and repair --------------------------------------------------------------

    def test_save_and_reopen_keeps_everything(
        self, vector_store: VectorStore, filled: VectorBackend, data: np.ndarray
    ) -> None:
        filled.remove([4, COUNT - 1])
        filled.save()
        committed = set(range(COUNT)) - {4, COUNT - 1}
        reopened = vector_store.open(1, SPACE, DIM)
        assert len(reopened) == COUNT - 2
        assert not reopened.needs_save
        for query in unit_vectors(5, seed=3):
            before, after = filled.search(query, 20), reopened.search(query, 20)
            assert [lb for lb, _ in after] == [lb for lb, _ in before]
            assert [s for _, s in after] == pytest.approx([s for _, s in before], abs=1e-6)
        np.testing.assert_allclose(reopened.vectors([0, 9]), data[[0, 9]], atol=1e-6)
        assert reopened.reconcile(committed, no_fetch, summary_of(committed)) == (0, 0)
        assert reopened.reconcile(lambda: committed, no_fetch) == (0, 0)
        assert len(reopened) == COUNT - 2

    def test_reconcile_repairs_missing_and_extra_labels(
        self, vector_store: VectorStore, data: np.ndarray
    ) -> None:
        saved = vector_store.open(1, SPACE, DIM)
        saved.add(list(range(40)), data[:40])
        saved.save()
        # After a crash: SQLite committed labels 40-49 and dropped 0-4 since the save.
        committed = set(range(5, 50))
        reopened = vector_store.open(1, SPACE, DIM)
        repaired = reopened.reconcile(lambda: committed, fetch_from(data), summary_of(committed))
        assert repaired == (10, 5)
        assert len(reopened) == 45
        assert {lb for lb, _ in reopened.search(data[45], 100)} == committed
        np.testing.assert_allclose(reopened.vectors([45]), data[[45]], atol=1e-6)
        reopened.save()
        again = vector_store.open(1, SPACE, DIM)
        assert again.reconcile(committed, no_fetch, summary_of(committed)) == (0, 0)
        assert {lb for lb, _ in again.search(data[45], 100)} == committed

    def test_reconcile_builds_what_was_never_saved(
        self, vector_store: VectorStore, data: np.ndarray
    ) -> None:
        backend = vector_store.open(1, SPACE, DIM)
        committed = set(range(0, 60, 2))
        assert backend.reconcile(committed, fetch_from(data), summary_of(committed)) == (30, 0)
        assert {lb for lb, _ in backend.search(data[0], 100)} == committed

    def test_drop_deletes_what_was_persisted(
        self, vector_store: VectorStore, filled: VectorBackend, data: np.ndarray
    ) -> None:
        other = vector_store.open(11, SPACE, DIM)
        other.add([0, 1], data[:2])
        other.save()
        filled.save()
        filled.drop()
        assert len(filled) == 0
        assert len(vector_store.open(1, SPACE, DIM)) == 0
        assert len(vector_store.open(11, SPACE, DIM)) == 2

    def test_store_drops_a_set_that_is_not_open(
        self, vector_store: VectorStore, filled: VectorBackend, data: np.ndarray
    ) -> None:
        filled.save()
        other = vector_store.open(11, SPACE, DIM)
        other.add([0, 1], data[:2])
        other.save()
        saved_bytes = vector_store.disk_bytes()
        vector_store.drop(1)
        vector_store.drop(2)  # never existed
        assert len(vector_store.open(1, SPACE, DIM)) == 0
        assert len(vector_store.open(11, SPACE, DIM)) == 2
        # The space is given back, where it is on this disk (a server's is not: 0 here).
        assert vector_store.disk_bytes() < saved_bytes or saved_bytes == 0

    # -- edges -------------------------------------------------------------------------------

    def test_empty_backend_answers_nothing(self, vector_store: VectorStore) -> None:
        backend = vector_store.open(1, SPACE, DIM)
        query = unit_vectors(1)[0]
        assert len(backend) == 0
        assert backend.search(query, 10) == []
        assert backend.search_among(query, 10, {1, 2}) == []
        labels, cosines = backend.knn(unit_vectors(3), 5)
        assert labels.shape == cosines.shape == (3, 0)
        assert backend.vectors([]).shape == (0, DIM)
        assert backend.sample().shape == (0, DIM)
        backend.remove([1, 2])
        assert backend.reconcile(set(), no_fetch, summary_of(set())) == (0, 0)
        backend.save()
        assert len(vector_store.open(1, SPACE, DIM)) == 0

    def test_sets_of_different_dims_live_side_by_side(
        self, vector_store: VectorStore, filled: VectorBackend
    ) -> None:
        small = unit_vectors(20, dim=8, seed=4)
        narrow = vector_store.open(2, "document", 8)
        narrow.add(list(range(20)), small)
        assert filled.dim == DIM and narrow.dim == 8
        assert [lb for lb, _ in narrow.search(small[3], 3)] == exact_top(
            small, list(range(20)), small[3], 3
        )
        assert narrow.vectors([1, 2]).shape == (2, 8)
        assert narrow.sample(5).shape == (5, 8)
        assert narrow.knn(small[:4], 2)[0].shape == (4, 2)
        filled.save()
        narrow.save()
        assert vector_store.open(2, "document", 8).dim == 8
        assert len(vector_store.open(1, SPACE, DIM)) == COUNT
