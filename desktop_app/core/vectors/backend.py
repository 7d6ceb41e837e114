"""What the rest of the core asks of a vector index, whatever engine answers it.

A *backend* holds the vectors of one vector set (one model's embeddings of one space) and
answers nearest-neighbour queries over them by cosine similarity. SQLite is the source of
truth: it commits every vector first, and a backend is a cache that can always be rebuilt from
it (:meth:`VectorBackend.reconcile`). That is what lets a backend lag behind after a crash,
lose its files, or live on a server, without the library ever losing a vector.

A :class:`VectorStore` says where a library's backends live and opens them, so the library
names no file, folder or server. hnswlib files in the library folder are one store
(:mod:`.hnsw_store`); a Milvus server is another (:mod:`.milvus_store`).

An engine that can evaluate a search's filters itself, next to the vectors (Milvus), also
implements :class:`ScopedSearch`: it is handed the filters as a :class:`Scope` instead of the
set of labels that pass them, and keeps the few file attributes a scope looks at
(:class:`FileFacts`, read from SQLite through a :class:`LabelFactSource`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

# (count, sum, max) of a set of labels; max is -1 for none. See Store.label_summary.
LabelSummary = tuple[int, int, int]

# Returns the stored vectors of the given labels, as (label, vector) pairs.
Fetch = Callable[[list[int]], Iterable[tuple[int, np.ndarray]]]


class VectorBackend(Protocol):
    """The vectors of one set, searchable by cosine similarity; safe to use from any thread.

    Labels are SQLite's: an integer per stored vector, never reused within a set. Vectors are
    stored unit-length, and scores are cosine similarities, best first.
    """

    @property
    def dim(self) -> int:
        """The length of every vector in the set."""
        ...

    def __len__(self) -> int:
        """How many labels it holds (removed ones not counted)."""
        ...

    def add(self, labels: list[int], vectors: np.ndarray) -> None:
        """Add new labels with their vectors (one row each), after SQLite committed them."""
        ...

    def remove(self, labels: Iterable[int]) -> None:
        """Forget these labels; ones it does not hold are ignored (they may never have
        reached it before a crash)."""
        ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest (label, cosine), best first."""
        ...

    def search_among(self, query: np.ndarray, k: int, allowed: set[int]) -> list[tuple[int, float]]:
        """The ``k`` nearest among ``allowed`` labels only (the ones that pass a search's
        filters), best first. Filtering inside the search, not after it, is what keeps a
        narrow filter from leaving too few results."""
        ...

    def knn(
        self, queries: np.ndarray, k: int, ef: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each query row, its ``k`` nearest: (labels, cosines) arrays of shape
        (queries, k), best first; fewer columns when it holds fewer than ``k``.

        One call answers a whole batch, which is what makes the neighbour graph of a whole
        library (duplicates) affordable. ``ef`` is a hint that trades recall for time on an
        approximate index; an exact one ignores it.
        """
        ...

    def vectors(self, labels: list[int]) -> np.ndarray:
        """The stored vectors of ``labels`` (all held), one row each in that order."""
        ...

    def labels(self) -> set[int]:
        """Every label it holds (removed ones not included): O(n), for moving a library
        between engines, not for searching."""
        ...

    def sample(self, n: int = 1024) -> np.ndarray:
        """Up to ``n`` stored vectors spread over the set, the same ones each time while it
        does not change: the library's score distribution for relevance calibration."""
        ...

    @property
    def needs_save(self) -> bool:
        """Whether :meth:`save` has something to persist."""
        ...

    def save(self) -> None:
        """Persist what was added and removed, so the next open need not rebuild it. A failed
        save raises ``OSError`` and keeps the previous copy and the work in memory."""
        ...

    def reconcile(
        self,
        committed: set[int] | Callable[[], set[int]],
        fetch: Fetch,
        summary: LabelSummary | None = None,
    ) -> tuple[int, int]:
        """Make it hold exactly SQLite's labels; returns (re-added, removed).

        ``committed`` is the set of labels SQLite holds (or a function reading it, which need
        not be called); ``fetch`` reads stored vectors of labels it lacks. Given SQLite's
        ``summary`` of those labels, a backend that can vouch it holds exactly them skips
        reading every label, which is what keeps opening a large library fast.
        """
        ...

    def drop(self) -> None:
        """Delete everything it persisted (the set is gone); it holds nothing after."""
        ...


@dataclass(frozen=True)
class FileFacts:
    """The attributes of a label's file that a search's filters look at (see Scope)."""

    file_id: int
    root_id: int
    path: str  # as SQLite stores it (core.paths.to_db)
    extension: str  # lowercase, with its dot; "" for none
    kind: str
    taken_at: float | None
    width: int | None
    height: int | None
    camera: str | None


class LabelFactSource(Protocol):
    """Reads :class:`FileFacts` from SQLite, the source of truth."""

    def facts(self, set_id: int, labels: list[int]) -> dict[int, FileFacts]:
        """label -> facts, for those of ``labels`` SQLite holds."""
        ...

    def moved_since(self, set_id: int, moment: float) -> list[int]:
        """Labels whose file record changed after ``moment`` (a move, a rename)."""
        ...


@dataclass(frozen=True)
class Scope:
    """A search's filters as conditions on :class:`FileFacts`; every set field narrows.

    It says the same as the SQL condition of :meth:`Filters.where` (plus the kinds a space
    search keeps and the roots that are online), in terms an engine can evaluate by itself.
    """

    after: float | None = None  # taken_at >= after
    before: float | None = None  # taken_at < before
    folders: tuple[str, ...] = ()  # path is one of these or under one (stored form)
    folder_separator: str = "/"
    type_kinds: tuple[str, ...] = ()  # kind in these, or extension in type_extensions
    type_extensions: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # and kind in these
    orientation: str | None = None  # landscape, portrait or square
    square_tolerance: float = 0.02
    min_side: int | None = None  # min(width, height) >= min_side
    camera: str | None = None  # camera contains this, in any case
    roots: tuple[int, ...] | None = None  # only files under these roots (the online ones)

    @property
    def approximate(self) -> bool:
        """Whether an engine's answer must be checked against SQLite: the scope looks at where
        a file lies (a move changes that and keeps the labels, so a copy can lag a moment), or
        at text with a backslash, which a LIKE pattern cannot match exactly."""
        return bool(
            self.folders
            or self.type_extensions
            or self.roots is not None
            or (self.camera and "\\" in self.camera)
        )


@runtime_checkable
class ScopedSearch(Protocol):
    """A backend that filters inside its own search, given the filters as a :class:`Scope`."""

    def search_scoped(self, query: np.ndarray, k: int, scope: Scope) -> list[tuple[int, float]]:
        """The ``k`` nearest whose file passes ``scope``, best first."""
        ...


class VectorStore(Protocol):
    """Where a library's vector sets are kept: it opens each set's backend and drops sets."""

    def open(self, set_id: int, space: str, dim: int, model_id: str = "") -> VectorBackend:
        """Set ``set_id``'s backend, loaded with what was persisted (possibly nothing, or an
        older state: the caller reconciles it with SQLite). ``space`` and ``model_id`` name the
        embedding space and model the set's vectors come from, for a store that labels what it
        keeps (and refuses what another model left under the same name)."""
        ...

    def drop(self, set_id: int) -> None:
        """Delete what was persisted for a set, whether or not it is open."""
        ...

    def disk_bytes(self) -> int:
        """Bytes the store takes on this machine's disk (for the library's status)."""
        ...
