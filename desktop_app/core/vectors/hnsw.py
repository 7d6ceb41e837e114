"""The hnswlib backend (cosine space) of one vector set: an index file kept consistent with SQLite.

SQLite commits first, then vectors are added here, and the file is saved atomically (temp file,
fsync, rename) from time to time. After a crash the file can therefore lag behind SQLite, or
still hold labels SQLite has since dropped; :meth:`HnswBackend.reconcile` repairs both from the
vectors stored in SQLite. Small libraries are searched exactly, which returns the same ranking
as a perfect ANN search.

Opening must not cost O(n) Python work (a million labels take seconds to read and compare), so
each save also writes a small state file beside the index: the labels marked deleted in it and
a summary of its live labels (count, sum, max). The state file is removed before the index file
is replaced and written after, so it only ever describes the file it sits beside. On open, if
the summary equals SQLite's (one aggregate query), the index holds exactly SQLite's labels:
labels come from a monotonic counter and reach the index in commit order, so anything SQLite
committed that the index lacks raises SQLite's max label, and anything SQLite dropped that the
index still holds changes the count. Any other case takes the full label-by-label repair.

Which file a set uses is :mod:`.hnsw_store`'s business; this module names only the files kept
beside it (:func:`companions`).
"""

import errno
import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import hnswlib
import numpy as np

from desktop_app.core.vectors.backend import Fetch, LabelSummary

# Below this many vectors a brute-force scan is both exact and about as fast as HNSW.
EXACT_SEARCH_LIMIT = 5000
# A filter that leaves at most this many vectors is scanned exactly (a few ms at 512-d).
FILTERED_EXACT_LIMIT = 20000
_INITIAL_CAPACITY = 1024


@dataclass(frozen=True)
class HnswParams:
    """Graph degree and beam widths. ``m`` and ``ef_construction`` are fixed in a saved file
    when it is built; ``ef_search`` applies to every index at load.

    Measured on CLIP-like synthetic data (bench/bench_scale.py, table in bench/README.md):
    ef_search 128 kept recall@10 at 0.99 on 100k vectors but fell to 0.91 on 1M; 256 keeps
    0.99 on both for about 1-2 ms a query, which is nothing beside the text encoder's ~55 ms.
    """

    m: int = 16
    ef_construction: int = 128
    ef_search: int = 256


DEFAULT_PARAMS = HnswParams()


def companions(path: Path) -> tuple[Path, Path, Path]:
    """The files kept beside an index file: its state file, and the temporary names both are
    written under before the rename that publishes them."""
    state = path.with_name(path.name + ".state")
    return state, path.with_name(path.name + ".tmp"), state.with_name(state.name + ".tmp")


def _check_written(path: Path, expected: int) -> None:
    """hnswlib ignores write errors (a full disk leaves a short file), so the saved size is
    compared with the size the index says it should have."""
    size = path.stat().st_size
    if size != expected:
        raise OSError(errno.ENOSPC, f"the index file was cut short ({size} of {expected} bytes)")


class HnswBackend:
    """A :class:`~.backend.VectorBackend` on an hnswlib index saved at ``path``.

    Thread-safe: one lock serialises adds, deletes, saves and queries.
    """

    def __init__(self, path: Path, dim: int, params: HnswParams = DEFAULT_PARAMS) -> None:
        self.path = path
        self.state_path, self._tmp_path, self._state_tmp_path = companions(path)
        self.dim = dim
        self.params = params
        self._lock = threading.Lock()
        self._empty()

    def _empty(self) -> None:
        """Hold nothing (a new index, or one whose files were dropped)."""
        self._index = self._new_index(_INITIAL_CAPACITY)
        self._deleted: set[int] = set()  # labels marked deleted in _index (never reused)
        self._sum = 0  # of the live labels
        self._max: int | None = -1  # max live label; None: unknown until recomputed
        self._known = True  # False after loading a file without a matching state file
        self._dirty = False
        self._state_saved = False
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None  # (labels, vectors) cache
        self._sample: tuple[int, np.ndarray] | None = None  # (n, vectors): see sample()

    def _new_index(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space="cosine", dim=self.dim)
        index.init_index(
            max_elements=capacity, ef_construction=self.params.ef_construction, M=self.params.m
        )
        index.set_ef(self.params.ef_search)
        return index

    # -- persistence -------------------------------------------------------------------------

    def load(self) -> bool:
        """Load the saved file; False (and an empty index) if it is missing or unreadable."""
        try:
            before = _identity(self.path)
            index = hnswlib.Index(space="cosine", dim=self.dim)
            index.load_index(str(self.path))
            index.set_ef(self.params.ef_search)
            after = _identity(self.path)
        except (RuntimeError, ValueError, OSError, MemoryError):
            return False
        # A writer in another process may have replaced the file while it loaded.
        state = self._read_state(after) if before == after else None
        with self._lock:
            self._index = index
            self._matrix = self._sample = None
            self._dirty = False
            self._known = state is not None
            self._state_saved = state is not None
            if state is not None:
                self._deleted, self._sum, self._max = state
        return True

    def _read_state(self, identity: tuple[int, int]) -> tuple[set[int], int, int] | None:
        """(deleted labels, sum, max) from the state file, if it describes the file loaded."""
        try:
            state = json.loads(self.state_path.read_text("utf-8"))
            if (state["size"], state["mtime_ns"]) != identity:
                return None
            return {int(x) for x in state["deleted"]}, int(state["sum"]), int(state["max"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @property
    def needs_save(self) -> bool:
        """Changed since loaded or saved, or the file lacks its state file."""
        return self._dirty or not self._state_saved

    def save(self) -> None:
        """Write atomically: a reader or a crash sees the old file or the new one, never half."""
        with self._lock:
            if not self.needs_save and self.path.exists():
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._tmp_path
            write_index = self._dirty or not self.path.exists()
            expected = 0
            if write_index:
                tmp.write_bytes(b"")  # raises the real error (read-only, no space) hnswlib hides
                self._index.save_index(str(tmp))
                expected = self._index.index_file_size()
            state = (
                {"deleted": sorted(self._deleted), "sum": self._sum, "max": self._live_max()}
                if self._known
                else None  # loaded without a state file and not reconciled: nothing to vouch
            )
            self._dirty = False
        if write_index:
            try:
                _check_written(tmp, expected)
                fsync(tmp)
                self.state_path.unlink(missing_ok=True)  # never beside a file it does not describe
                os.replace(tmp, self.path)
            except OSError:  # full or read-only disk: the previous file stays, as does the work
                tmp.unlink(missing_ok=True)
                self._dirty = True
                raise
        if state is None:
            fsync(self.path.parent)
            return
        size, mtime_ns = _identity(self.path)
        state_tmp = self._state_tmp_path
        state_tmp.write_text(json.dumps(state | {"size": size, "mtime_ns": mtime_ns}), "utf-8")
        fsync(state_tmp)
        os.replace(state_tmp, self.state_path)
        fsync(self.path.parent)
        self._state_saved = True

    def drop(self) -> None:
        """Delete the index file and the files beside it, and hold nothing."""
        with self._lock:
            for path in (self.path, *companions(self.path)):
                path.unlink(missing_ok=True)
            self._empty()

    def summary(self) -> LabelSummary | None:
        """(count, sum, max) of the live labels; None while unknown (see :meth:`reconcile`)."""
        with self._lock:
            if not self._known:
                return None
            return self._index.element_count - len(self._deleted), self._sum, self._live_max()

    def _live_max(self) -> int:
        if self._max is None:
            self._max = max(self._live_labels(), default=-1)
        return self._max

    def _live_labels(self) -> list[int]:
        return [lb for lb in self._index.get_ids_list() if lb not in self._deleted]

    def reconcile(
        self,
        committed: set[int] | Callable[[], set[int]],
        fetch: Fetch,
        summary: LabelSummary | None = None,
    ) -> tuple[int, int]:
        """Make the index hold exactly the committed labels; returns (re-added, removed).

        ``committed`` is the set of labels SQLite holds (or a function reading it); ``fetch``
        returns their stored vectors. With SQLite's ``summary`` of those labels, a matching
        index is accepted without reading them.
        """
        if summary is not None and self.summary() == summary:
            return 0, 0
        wanted = set(committed() if callable(committed) else committed)
        with self._lock:
            present = set(self._index.get_ids_list())
        missing = sorted(wanted - present)
        extra = present - wanted  # includes labels already marked deleted
        if missing:
            labels, vectors = zip(*fetch(missing), strict=True)
            self.add(list(labels), np.stack(vectors))
        removed = 0
        with self._lock:
            for label in sorted(extra - self._deleted):
                try:
                    self._index.mark_deleted(label)
                except RuntimeError:  # already deleted in the saved file
                    continue
                removed += 1
                self._dirty = True
            self._deleted = extra
            self._sum, self._max = sum(wanted), max(wanted, default=-1)
            self._known = True
            self._matrix = self._sample = None
        return len(missing), removed

    # -- changes -----------------------------------------------------------------------------

    def add(self, labels: list[int], vectors: np.ndarray) -> None:
        """Add new labels (labels are never reused, so none is in the index yet)."""
        if not labels:
            return
        data = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(labels), self.dim)
        with self._lock:
            needed = self._index.element_count + len(labels)
            capacity = self._index.get_max_elements()
            if needed > capacity:
                self._index.resize_index(max(needed, capacity * 2))
            self._index.add_items(data, labels)
            self._sum += sum(labels)
            if self._max is not None:
                self._max = max(self._max, *labels)
            self._dirty = True
            self._matrix = self._sample = None

    def remove(self, labels: Iterable[int]) -> None:
        with self._lock:
            for label in labels:
                if label in self._deleted:
                    continue
                try:
                    self._index.mark_deleted(label)
                except RuntimeError:  # never reached the index
                    continue
                self._deleted.add(label)
                self._sum -= label
                if label == self._max:
                    self._max = None
                self._dirty = True
                self._matrix = self._sample = None

    # -- queries -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._index.element_count - len(self._deleted)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def graph_params(self) -> HnswParams:
        """The parameters in effect: the graph's as built (from the file) and this ef."""
        with self._lock:
            index = self._index
            return HnswParams(index.M, index.ef_construction, self.params.ef_search)

    def search(
        self, query: np.ndarray, k: int, *, exact: bool | None = None
    ) -> list[tuple[int, float]]:
        """Top-``k`` (label, cosine similarity), best first."""
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        with self._lock:
            count = self._index.element_count - len(self._deleted)
            if count == 0 or k <= 0:
                return []
            k = min(k, count)
            if exact if exact is not None else count <= EXACT_SEARCH_LIMIT:
                return self._exact(q[0], k)
            self._index.set_ef(max(self.params.ef_search, k))
            labels, distances = self._index.knn_query(q, k=k)
        return [(int(lb), 1.0 - float(d)) for lb, d in zip(labels[0], distances[0], strict=True)]

    def _live_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(labels, vectors) of every live label, cached until the next change; lock held."""
        if self._matrix is None:
            live = self._live_labels()
            labels = np.asarray(live, dtype=np.int64)
            vectors = np.asarray(self._index.get_items(live), dtype=np.float32)
            self._matrix = (labels, vectors.reshape(len(live), self.dim))
        return self._matrix

    def _exact(self, q: np.ndarray, k: int) -> list[tuple[int, float]]:
        labels, vectors = self._live_matrix()
        scores = vectors @ (q / max(float(np.linalg.norm(q)), 1e-12))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(labels[i]), float(scores[i])) for i in top]

    def knn(
        self, queries: np.ndarray, k: int, ef: int | None = None
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
            count = self._index.element_count - len(self._deleted)
            k = min(k, count)
            if k <= 0 or not len(q):
                return np.empty((len(q), 0), dtype=np.int64), np.empty((len(q), 0), np.float32)
            if count > EXACT_SEARCH_LIMIT:
                self._index.set_ef(max(ef or self.params.ef_search, k))
                labels, distances = self._index.knn_query(q, k=k)
                return labels.astype(np.int64), (1.0 - distances).astype(np.float32)
            live, vectors = self._live_matrix()
        norms = np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        scores = (q / norms) @ vectors.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        best = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-best, axis=1, kind="stable")
        return live[np.take_along_axis(top, order, axis=1)], np.take_along_axis(best, order, 1)

    # -- filtered search and calibration support ---------------------------------------------

    def search_among(self, query: np.ndarray, k: int, allowed: set[int]) -> list[tuple[int, float]]:
        """Top-``k`` among ``allowed`` labels only, so a filter never leaves too few results.

        A small allowed set is scanned exactly; a large one uses HNSW with hnswlib's filter
        callback, which keeps walking the graph until ``k`` allowed labels are found.
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        with self._lock:
            allowed = allowed - self._deleted
        if not allowed or k <= 0:
            return []
        if len(allowed) <= FILTERED_EXACT_LIMIT:
            labels, vectors = self._present(sorted(allowed))
            if not len(labels):
                return []
            k = min(k, len(labels))
            scores = vectors @ (q[0] / max(float(np.linalg.norm(q)), 1e-12))
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            return [(int(labels[i]), float(scores[i])) for i in top]
        with self._lock:
            k = min(k, len(allowed), self._index.element_count - len(self._deleted))
            self._index.set_ef(max(self.params.ef_search, k))
            found, distances = self._index.knn_query(
                q, k=k, num_threads=1, filter=allowed.__contains__
            )
        return [(int(lb), 1.0 - float(d)) for lb, d in zip(found[0], distances[0], strict=True)]

    def _present(self, labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(labels, vectors) of those ``labels`` the index holds (SQLite commits a batch just
        before the index receives it, so a label can be briefly missing here)."""
        with self._lock:
            try:
                vectors = self._index.get_items(labels)
            except RuntimeError:
                held = set(self._index.get_ids_list())
                labels = [lb for lb in labels if lb in held]
                vectors = self._index.get_items(labels) if labels else []
        array = np.asarray(vectors, dtype=np.float32).reshape(len(labels), self.dim)
        return np.asarray(labels, dtype=np.int64), array

    def vectors(self, labels: list[int]) -> np.ndarray:
        """The stored (unit-length) vectors of ``labels``, in that order."""
        if not labels:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._index.get_items(labels, return_type="numpy"), np.float32)

    def labels(self) -> set[int]:
        """Every live label."""
        with self._lock:
            return set(self._live_labels())

    def sample(self, n: int = 1024) -> np.ndarray:
        """Up to ``n`` vectors spread over the index (fixed seed): the library's score
        distribution for relevance calibration. Cached until the index changes."""
        with self._lock:
            if self._sample is not None and self._sample[0] == n:
                return self._sample[1]
            live = self._live_labels()
        chosen = np.random.default_rng(0).permutation(np.asarray(live, dtype=np.int64))[:n]
        vectors = self.vectors([int(x) for x in chosen])
        with self._lock:
            self._sample = n, vectors
        return vectors


def _identity(path: Path) -> tuple[int, int]:
    """(size, mtime) of a file: a replaced index file differs in at least its mtime."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (what a rename changed), to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
