"""The Milvus backend of one vector set: a collection kept consistent with SQLite.

SQLite commits first, then labels are upserted here with their file's attributes, so a crash or
a dropped connection can leave the collection behind SQLite, or holding labels SQLite dropped;
:meth:`MilvusBackend.reconcile` repairs both, as hnswlib's does. Upserts by label are
idempotent, which is what makes every repair and every move resumable.

The collection vouches for itself the way hnswlib's state file does: :meth:`save` writes the
summary (count, sum, max) of its labels into the collection's properties, and the first change
after that clears it, so a summary that equals SQLite's on open means nothing is to be done.

Searches run on the server's HNSW index with the same ``ef`` as the embedded one; filters run
inside the search as a boolean expression over the copied attributes (:meth:`search_scoped`),
so the best ``k`` that pass are returned, however few pass. They ask for session consistency:
the writer sees its own uploads, a reader sees another process's within a moment, and neither
waits for the server's clock as a strongly consistent search does (200-400 ms a search on a
server; bench/README.md). Counting and listing labels, which repairs rely on, stay strong.
"""

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.vectors.backend import Fetch, FileFacts, LabelSummary, Scope
from desktop_app.core.vectors.milvus_scope import expression, labels_expression, row
from desktop_app.core.vectors.milvus_target import milvus_errors

if TYPE_CHECKING:
    from desktop_app.core.vectors.milvus_store import MilvusStore

# Milvus answers at most this many neighbours per query, and takes this many queries per call.
MAX_TOP_K = 16384
_QUERY_BATCH = 256
_UPLOAD_BATCH = 1000
_READ_BATCH = 1000
# A filter that passes few rows leaves HNSW's walk few neighbours to follow: with ef 256, a
# folder passing 1% of 100,000 vectors kept recall@10 at 0.84; four times that ef gave 0.995
# for 22% more time (bench/README.md). Filtered searches use the wider beam.
FILTERED_EF_FACTOR = 4
_SUMMARY = "snapfind.summary"
_FACTS_AT = "snapfind.facts_at"
_SEARCH_CONSISTENCY = "Session"
_NO_FACTS = FileFacts(-1, -1, "", "", "", None, None, None, None)


class MilvusBackend:
    """A :class:`~.backend.VectorBackend` and :class:`~.backend.ScopedSearch` on collection
    ``name``; thread-safe (the client is, and a lock guards the cached state)."""

    def __init__(
        self, store: "MilvusStore", name: str, set_id: int, dim: int, space: str, model_id: str
    ) -> None:
        self.store = store
        self.name = name
        self.set_id = set_id
        self.dim = dim
        self.space, self.model_id = space, model_id
        self._client = store.client
        self._timeout = store.timeout
        self._lock = threading.Lock()
        self._count: int | None = None
        # The labels held, once listed; this process's own changes keep it current, so a move
        # or an index run lists them once, not at every save.
        self._held: set[int] | None = None
        self._sorted: list[int] | None = None  # the same, sorted, for sample()
        props = self._call("reading its state", self._properties)
        self._vouched: str = props.get(_SUMMARY, "")
        # Attributes are fresh as of this moment (recorded at creation, then at each save).
        self._facts_at = float(props.get(_FACTS_AT) or time.time())
        # The summary of what it holds, once known (the recorded one vouches for it).
        self._summary: LabelSummary | None = _parse(self._vouched)
        self._saved_summary = self._vouched

    def _call(self, action: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` with the server's failures as KnownErrors; calls to the
        client get the store's timeout."""
        if getattr(fn, "__self__", None) is self._client:
            kwargs.setdefault("timeout", self._timeout)
        with milvus_errors(self.store.target, f"{action} ({self.name})"):
            return fn(*args, **kwargs)

    def _properties(self) -> dict[str, str]:
        if not self._client.has_collection(self.name, timeout=self._timeout):
            return {}
        info = self._client.describe_collection(self.name, timeout=self._timeout)
        return dict(info.get("properties") or {})

    def _set_properties(self, values: dict[str, str]) -> None:
        c = self._client
        self._call("recording its state", c.alter_collection_properties, self.name, values)

    # -- size and labels ---------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            if self._count is None:
                self._count = self._counted()
            return self._count

    def _counted(self) -> int:
        rows = self._call(
            "counting vectors", self._client.query, self.name, output_fields=["count(*)"]
        )
        return int(rows[0]["count(*)"])

    def labels(self) -> set[int]:
        """The labels held (a copy: another thread may be changing the collection)."""
        with self._lock:
            if self._held is not None:
                return set(self._held)
        held = self._list_labels()
        with self._lock:
            self._held, self._count, self._sorted = set(held), len(held), None
        return held

    def _list_labels(self) -> set[int]:
        """Every label in the collection, read in windows of label values.

        A query answers at most MAX_TOP_K rows, an arbitrary subset when more match, so a
        window never spans more label values than that limit unless the last one came back
        sparse; sparse windows widen (labels thin out where files were deleted), and a window
        that might have overflowed is read again narrower. The listing stops once it has as
        many labels as the collection counts, or nothing lies beyond. (Query iterators would
        do, but Milvus Lite lacks the timestamp call they rely on.)
        """
        total = self._counted()
        found: set[int] = set()
        start, span = 0, MAX_TOP_K
        while len(found) < total:
            rows = self._labels_where(f"label >= {start} and label < {start + span}", MAX_TOP_K)
            if len(rows) >= MAX_TOP_K and span > MAX_TOP_K:
                span //= 2  # it may have left some out
                continue
            found.update(int(r["label"]) for r in rows)
            start += span
            if not rows and not self._labels_where(f"label >= {start}", 1):
                break
            if len(rows) < MAX_TOP_K // 4:
                span *= 2
        return found

    def _labels_where(self, condition: str, limit: int) -> list[dict[str, Any]]:
        return list(
            self._call(
                "listing labels",
                self._client.query,
                self.name,
                filter=condition,
                output_fields=["label"],
                limit=limit,
            )
        )

    def _changed(self, added: Iterable[int] = (), removed: Iterable[int] = ()) -> None:
        """Keep the known labels current with a change this process made, and withdraw the
        collection's summary, which the first change after a save no longer describes."""
        with self._lock:
            if self._held is not None:
                self._held.update(added)
                self._held.difference_update(removed)
            self._count = len(self._held) if self._held is not None else None
            self._sorted = None
            self._summary = None
            withdraw = bool(self._vouched)
            self._vouched = ""
        if withdraw:
            self._set_properties({_SUMMARY: ""})

    def _forget_labels(self) -> None:
        """After a failed change: what the collection holds is unknown until listed again."""
        with self._lock:
            self._held = self._sorted = self._summary = None
            self._count = None

    # -- changes -----------------------------------------------------------------------------

    def add(self, labels: list[int], vectors: np.ndarray) -> None:
        """Upsert labels with their (unit) vectors and their files' attributes."""
        if not labels:
            return
        self._writable()
        data = np.asarray(vectors, dtype=np.float32).reshape(len(labels), self.dim)
        data = data / np.maximum(np.linalg.norm(data, axis=1, keepdims=True), 1e-12)
        self._changed()
        for start in range(0, len(labels), _UPLOAD_BATCH):
            chunk = labels[start : start + _UPLOAD_BATCH]
            facts = self._facts(chunk)
            rows = [
                row(label, data[start + i], facts.get(label, _NO_FACTS))
                for i, label in enumerate(chunk)
            ]
            try:
                self._call("uploading vectors", self._client.upsert, self.name, rows)
            except BaseException:
                self._forget_labels()  # a timed-out upsert may still have landed
                raise
            self._changed(added=chunk)

    def _facts(self, labels: list[int]) -> dict[int, FileFacts]:
        source = self.store.facts
        return source.facts(self.set_id, labels) if source is not None else {}

    def remove(self, labels: Iterable[int]) -> None:
        wanted = sorted(set(labels))
        if not wanted:
            return
        self._writable()
        self._changed()
        for start in range(0, len(wanted), _READ_BATCH):
            chunk = wanted[start : start + _READ_BATCH]
            where = labels_expression(chunk)
            try:
                self._call("removing vectors", self._client.delete, self.name, filter=where)
            except BaseException:
                self._forget_labels()
                raise
            self._changed(removed=chunk)

    def _writable(self) -> None:
        if self.store.read_only:
            raise RuntimeError("a read-only Milvus store was asked to change a collection")

    # -- persistence and repair --------------------------------------------------------------

    @property
    def needs_save(self) -> bool:
        """The summary it would vouch for is not the one recorded, or files may have moved."""
        if self.store.read_only:
            return False
        return self._summary is None or self._saved_summary != _text(self._summary)

    def save(self) -> None:
        """Refresh the attributes of files that moved, then record what it holds."""
        if self.store.read_only:
            return
        self.refresh_moved()
        summary = self.summary()
        self._set_properties({_SUMMARY: _text(summary), _FACTS_AT: repr(self._facts_at)})
        with self._lock:
            self._vouched = self._saved_summary = _text(summary)

    def summary(self) -> LabelSummary:
        with self._lock:
            if self._summary is not None:
                return self._summary
        labels = self.labels()
        summary = (len(labels), sum(labels), max(labels, default=-1))
        with self._lock:
            self._summary = summary
        return summary

    def refresh_moved(self) -> int:
        """Re-upload the attributes of labels whose file moved since the last refresh (a move
        keeps a file's labels, but changes its folder and name); returns how many changed."""
        source = self.store.facts
        if source is None or self.store.read_only:
            return 0
        started = time.time()
        moved = source.moved_since(self.set_id, self._facts_at - 1.0)
        changed = 0
        for start in range(0, len(moved), _READ_BATCH):
            chunk = moved[start : start + _READ_BATCH]
            facts = source.facts(self.set_id, chunk)
            held = self._rows(chunk, ["label", "root_id", "path", "extension"])
            moved_here = [
                lb for lb, old in held.items() if lb in facts and _differs(old, facts[lb])
            ]
            vectors = self._rows(moved_here, ["label", "vector"]) if moved_here else {}
            stale = [
                row(lb, np.asarray(vectors[lb]["vector"], np.float32), facts[lb])
                for lb in moved_here
            ]
            if stale:
                self._call("updating moved files", self._client.upsert, self.name, stale)
                changed += len(stale)
        self._facts_at = started
        return changed

    def reconcile(
        self,
        committed: set[int] | Callable[[], set[int]],
        fetch: Fetch,
        summary: LabelSummary | None = None,
    ) -> tuple[int, int]:
        """Make the collection hold exactly SQLite's labels; returns (re-added, removed).

        A reader repairs nothing (the writer does): it only learns what the collection holds.
        """
        if summary is not None and self._vouched == _text(summary):
            with self._lock:
                self._summary = summary
            return 0, 0
        if self.store.read_only:
            return 0, 0
        if not self._call("checking the collection", self._properties):
            # Dropped by someone meanwhile: made anew, and filled below.
            self.store.open(self.set_id, self.space, self.dim, self.model_id)
        wanted = set(committed() if callable(committed) else committed)
        self._forget_labels()  # another process may have changed it since it was listed
        present = self.labels()
        missing = sorted(wanted - present)
        extra = present - wanted
        for start in range(0, len(missing), _UPLOAD_BATCH):
            pairs = list(fetch(missing[start : start + _UPLOAD_BATCH]))
            if pairs:
                labels, vectors = zip(*pairs, strict=True)
                self.add(list(labels), np.stack(vectors))
        self.remove(extra)
        with self._lock:  # the labels and count are kept by add and remove
            self._summary = (len(wanted), sum(wanted), max(wanted, default=-1))
        return len(missing), len(extra)

    def drop(self) -> None:
        self._writable()
        self._call("dropping the collection", self._client.drop_collection, self.name)
        with self._lock:
            self._count, self._held, self._sorted, self._summary = 0, set(), [], (0, 0, -1)
            self._vouched = self._saved_summary = ""

    # -- queries -----------------------------------------------------------------------------

    def _search(
        self, queries: np.ndarray, k: int, condition: str, ef: int | None = None
    ) -> list[list[tuple[int, float]]]:
        """Each query row's ``k`` nearest passing ``condition``, best first."""
        q = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        k = min(k, MAX_TOP_K)
        params = {"metric_type": "IP", "params": {"ef": max(ef or self.store.params.ef_search, k)}}
        out: list[list[tuple[int, float]]] = []
        for start in range(0, len(q), _QUERY_BATCH):
            batch = q[start : start + _QUERY_BATCH]
            found = self._call(
                "searching",
                self._client.search,
                self.name,
                data=batch.tolist(),
                limit=k,
                filter=condition,
                search_params=params,
                output_fields=["label"],
                consistency_level=_SEARCH_CONSISTENCY,
            )
            out += [[(int(hit["label"]), float(hit["distance"])) for hit in hits] for hits in found]
        return out

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        # Milvus answers fewer than k when it holds fewer; no count is asked first, as a
        # reader's would be stale while another process writes.
        return self._search(query, k, "")[0] if k > 0 else []

    def search_scoped(self, query: np.ndarray, k: int, scope: Scope) -> list[tuple[int, float]]:
        """The best ``k`` whose file passes ``scope``, found inside Milvus's search."""
        if k <= 0:
            return []
        ef = FILTERED_EF_FACTOR * self.store.params.ef_search
        return self._search(query, k, expression(scope), ef)[0]

    def search_among(self, query: np.ndarray, k: int, allowed: set[int]) -> list[tuple[int, float]]:
        """The best ``k`` among ``allowed``, as a label list pushed into the search (for
        callers without a scope; a scope is the cheaper expression)."""
        if k <= 0 or not allowed:
            return []
        labels = sorted(allowed)
        ef = FILTERED_EF_FACTOR * self.store.params.ef_search
        return self._search(query, min(k, len(labels)), labels_expression(labels), ef)[0]

    def knn(
        self, queries: np.ndarray, k: int, ef: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        q = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = min(k, MAX_TOP_K) if len(q) else 0
        if k <= 0:
            return np.empty((len(q), 0), dtype=np.int64), np.empty((len(q), 0), np.float32)
        rows = self._search(q, k, "", ef)
        width = min(len(r) for r in rows)
        labels = np.array([[lb for lb, _ in r[:width]] for r in rows], dtype=np.int64)
        scores = np.array([[s for _, s in r[:width]] for r in rows], dtype=np.float32)
        return labels.reshape(len(q), width), scores.reshape(len(q), width)

    def _rows(self, labels: list[int], fields: list[str]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(labels), _READ_BATCH):
            chunk = labels[start : start + _READ_BATCH]
            rows = self._call(
                "reading vectors", self._client.get, self.name, ids=chunk, output_fields=fields
            )
            out.update((int(r["label"]), r) for r in rows)
        return out

    def vectors(self, labels: list[int]) -> np.ndarray:
        if not labels:
            return np.zeros((0, self.dim), dtype=np.float32)
        held = self._rows(sorted(set(labels)), ["label", "vector"])
        return np.array([held[label]["vector"] for label in labels], dtype=np.float32)

    def sample(self, n: int = 1024) -> np.ndarray:
        """Up to ``n`` stored vectors at evenly spaced ranks of the sorted labels: the same
        ones while the set does not change."""
        with self._lock:
            labels = self._sorted
        if labels is None:
            labels = sorted(self.labels())
            with self._lock:
                self._sorted = labels
        if len(labels) > n:
            picks = np.linspace(0, len(labels) - 1, n).round().astype(int)
            labels = [labels[i] for i in picks]
        return self.vectors(labels)


def _text(summary: LabelSummary) -> str:
    return ",".join(str(int(x)) for x in summary)


def _parse(text: str) -> LabelSummary | None:
    try:
        count, total, top = (int(x) for x in text.split(","))
    except ValueError:
        return None
    return count, total, top


def _differs(held: dict[str, Any], facts: FileFacts) -> bool:
    fresh = row(0, np.zeros(0, np.float32), facts)
    return any(held.get(name) != fresh[name] for name in ("root_id", "path", "extension"))
