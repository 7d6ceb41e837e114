"""An hnswlib index (cosine space) for one vector set, kept consistent with SQLite.

SQLite commits first, then vectors are added here, and the file is saved atomically (temp file,
fsync, rename) from time to time. After a crash the file can therefore lag behind SQLite, or
still hold labels SQLite has since dropped; :meth:`VectorIndex.reconcile` repairs both from the
vectors stored in SQLite. Small libraries are searched exactly, which returns the same ranking
as a perfect ANN search.
"""

import errno
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import hnswlib
import numpy as np

# Below this many vectors a brute-force scan is both exact and about as fast as HNSW.
EXACT_SEARCH_LIMIT = 5000
# A filter that leaves at most this many vectors is scanned exactly (a few ms at 512-d).
FILTERED_EXACT_LIMIT = 20000
_M = 16
_EF_CONSTRUCTION = 128
_EF_SEARCH = 128
_INITIAL_CAPACITY = 1024

# Returns the stored vectors of the given labels, as (label, vector) pairs.
Fetch = Callable[[list[int]], Iterable[tuple[int, np.ndarray]]]


def _check_written(path: Path, expected: int) -> None:
    """hnswlib ignores write errors (a full disk leaves a short file), so the saved size is
    compared with the size the index says it should have."""
    size = path.stat().st_size
    if size != expected:
        raise OSError(errno.ENOSPC, f"the index file was cut short ({size} of {expected} bytes)")


class VectorIndex:
    """Thread-safe wrapper: one lock serialises adds, deletes, saves and queries."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim
        self._lock = threading.Lock()
        self._index = self._new_index(_INITIAL_CAPACITY)
        self._live: set[int] = set()
        self._dirty = False
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None  # (labels, vectors) cache
        self._sample: np.ndarray | None = None  # see sample()

    def _new_index(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space="cosine", dim=self.dim)
        index.init_index(max_elements=capacity, ef_construction=_EF_CONSTRUCTION, M=_M)
        index.set_ef(_EF_SEARCH)
        return index

    # -- persistence -------------------------------------------------------------------------

    def load(self) -> bool:
        """Load the saved file; False (and an empty index) if it is missing or unreadable."""
        if not self.path.exists():
            return False
        try:
            index = hnswlib.Index(space="cosine", dim=self.dim)
            index.load_index(str(self.path))
            index.set_ef(_EF_SEARCH)
            ids = set(index.get_ids_list())
        except (RuntimeError, ValueError, OSError, MemoryError):
            return False
        with self._lock:
            self._index = index
            # Deleted labels are in get_ids_list too; reconcile() narrows this to the live ones.
            self._live = ids
            self._matrix = self._sample = None
        return True

    def save(self) -> None:
        """Write atomically: a reader or a crash sees the old file or the new one, never half."""
        with self._lock:
            if not self._dirty and self.path.exists():
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_bytes(b"")  # raises the real error (read-only, no space) hnswlib hides
            self._index.save_index(str(tmp))
            expected = self._index.index_file_size()
            self._dirty = False
        try:
            _check_written(tmp, expected)
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError:  # full or read-only disk: the previous file stays, as does the work
            tmp.unlink(missing_ok=True)
            self._dirty = True
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def reconcile(self, committed: set[int], fetch: Fetch) -> tuple[int, int]:
        """Make the index hold exactly the committed labels; returns (re-added, removed).

        ``committed`` is the set of labels SQLite holds; ``fetch`` returns their stored vectors.
        """
        wanted = set(committed)
        with self._lock:
            present = set(self._index.get_ids_list())
        missing = sorted(wanted - present)
        extra = sorted(present - wanted)
        if missing:
            labels, vectors = zip(*fetch(missing), strict=True)
            self.add(list(labels), np.stack(vectors))
        with self._lock:
            for label in extra:
                try:
                    self._index.mark_deleted(label)
                except RuntimeError:  # already deleted in the saved file
                    continue
                self._dirty = True
            self._live = wanted
            self._matrix = self._sample = None
        return len(missing), len(extra)

    # -- changes -----------------------------------------------------------------------------

    def add(self, labels: list[int], vectors: np.ndarray) -> None:
        if not labels:
            return
        data = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(labels), self.dim)
        with self._lock:
            needed = self._index.element_count + len(labels)
            capacity = self._index.get_max_elements()
            if needed > capacity:
                self._index.resize_index(max(needed, capacity * 2))
            self._index.add_items(data, labels)
            self._live.update(labels)
            self._dirty = True
            self._matrix = self._sample = None

    def remove(self, labels: Iterable[int]) -> None:
        with self._lock:
            for label in labels:
                if label in self._live:
                    self._index.mark_deleted(label)
                    self._live.discard(label)
                    self._dirty = True
                    self._matrix = self._sample = None

    # -- queries -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._live)

    def knn(
        self, queries: np.ndarray, k: int, ef: int = _EF_SEARCH
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each query row, its ``k`` nearest stored vectors: (labels, cosines), best first.

        One call answers a whole batch (hnswlib spreads it over the cores), which is what makes
        a neighbour graph of the entire library affordable; small libraries are answered
        exactly. ``ef`` trades recall for time (at least ``k`` is used); the very nearest
        neighbours, which is what duplicates are, are found even with a small one. The lock is
        held for the batch, so callers keep batches short.
        """
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            k = min(k, len(self._live))
            if k <= 0 or not len(q):
                return np.empty((len(q), 0), dtype=np.int64), np.empty((len(q), 0), np.float32)
            if len(self._live) > EXACT_SEARCH_LIMIT:
                self._index.set_ef(max(ef, k))
                labels, distances = self._index.knn_query(q, k=k)
                return labels.astype(np.int64), (1.0 - distances).astype(np.float32)
            if self._matrix is None:
                live = np.fromiter(self._live, dtype=np.int64, count=len(self._live))
                items = np.asarray(self._index.get_items(live.tolist()), dtype=np.float32)
                self._matrix = (live, items)
            live, vectors = self._matrix
        norms = np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        scores = (q / norms) @ vectors.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        best = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-best, axis=1, kind="stable")
        return live[np.take_along_axis(top, order, axis=1)], np.take_along_axis(best, order, 1)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def search(
        self, query: np.ndarray, k: int, *, exact: bool | None = None
    ) -> list[tuple[int, float]]:
        """Top-``k`` (label, cosine similarity), best first."""
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        with self._lock:
            count = len(self._live)
            if count == 0 or k <= 0:
                return []
            k = min(k, count)
            if exact if exact is not None else count <= EXACT_SEARCH_LIMIT:
                return self._exact(q[0], k)
            self._index.set_ef(max(_EF_SEARCH, k))
            labels, distances = self._index.knn_query(q, k=k)
        return [(int(lb), 1.0 - float(d)) for lb, d in zip(labels[0], distances[0], strict=True)]

    def _exact(self, q: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._matrix is None:
            labels = np.fromiter(self._live, dtype=np.int64, count=len(self._live))
            vectors = np.asarray(self._index.get_items(labels.tolist()), dtype=np.float32)
            self._matrix = (labels, vectors)
        labels, vectors = self._matrix
        scores = vectors @ (q / max(float(np.linalg.norm(q)), 1e-12))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(labels[i]), float(scores[i])) for i in top]

    # -- filtered search and calibration support ---------------------------------------------

    def search_among(self, query: np.ndarray, k: int, allowed: set[int]) -> list[tuple[int, float]]:
        """Top-``k`` among ``allowed`` labels only, so a filter never leaves too few results.

        A small allowed set is scanned exactly; a large one uses HNSW with hnswlib's filter
        callback, which keeps walking the graph until ``k`` allowed labels are found.
        """
        with self._lock:
            allowed = allowed & self._live
        if not allowed or k <= 0:
            return []
        k = min(k, len(allowed))
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        if len(allowed) <= FILTERED_EXACT_LIMIT:
            labels = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
            scores = self.vectors(labels.tolist()) @ (q[0] / max(float(np.linalg.norm(q)), 1e-12))
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            return [(int(labels[i]), float(scores[i])) for i in top]
        with self._lock:
            self._index.set_ef(max(_EF_SEARCH, k))
            found, distances = self._index.knn_query(
                q, k=k, num_threads=1, filter=allowed.__contains__
            )
        return [(int(lb), 1.0 - float(d)) for lb, d in zip(found[0], distances[0], strict=True)]

    def vectors(self, labels: list[int]) -> np.ndarray:
        """The stored (unit-length) vectors of ``labels``, in that order."""
        if not labels:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._index.get_items(labels), dtype=np.float32)

    def sample(self, n: int = 1024) -> np.ndarray:
        """Up to ``n`` vectors spread over the index (fixed seed): the library's score
        distribution for relevance calibration. Cached until the index changes."""
        with self._lock:
            if self._sample is not None and len(self._sample) == min(n, len(self._live)):
                return self._sample
            live = sorted(self._live)
        chosen = np.random.default_rng(0).permutation(live)[:n].tolist() if live else []
        vectors = self.vectors([int(x) for x in chosen])
        with self._lock:
            self._sample = vectors
        return vectors
