"""Groups of duplicate and near-duplicate pictures, from the vectors already in the library.

How groups form, and why it stays fast at 100k pictures:

1. Files with the same content hash are exact copies: they always group, whatever the threshold.
2. Every picture asks the ANN index for its ``k`` nearest neighbours (one batched query per few
   hundred pictures: n·k work instead of the n² of all pairs). Neighbours at a cosine of at
   least the threshold become candidate edges.
3. Edges are taken best first and joined with union-find, under one rule that stops chaining:
   a group has a *centre* (the first picture of its closest pair) and a picture or a group only
   joins when every picture that comes in is within the threshold of that centre. Plain
   single-linkage would let A≈B≈C≈…≈Z run a slow pan or a whole holiday into one giant group
   at loose thresholds; with a centre, a group's diameter stays within two steps of it.

Thresholds are CLIP cosines. The named levels are set for real CLIP weights (see ``LEVELS``);
random test weights make every pair look alike (two unrelated pictures ≈ 0.9), so tests and
benchmarks with them pass numeric thresholds. Nothing here touches the files: the result only
suggests which member to keep.
"""

from collections.abc import Generator, Iterator
from dataclasses import dataclass

import numpy as np

from desktop_app.core.db.records import FileRecord
from desktop_app.core.db.store import Store
from desktop_app.core.errors import CancelledError, KnownError
from desktop_app.core.kinds.image import ImageExtractor
from desktop_app.core.progress import Control, Progress
from desktop_app.core.vectors.backend import VectorBackend

# Cosine thresholds for real CLIP image embeddings. Immich, which groups duplicates by the same
# CLIP distance, defaults to a distance of 0.01 (cosine 0.99), which catches re-encoded and
# resized copies, and lets it go to 0.1 (cosine 0.90), warning of false positives there. A
# slightly cropped copy moves further than a re-encode, so "near-identical" sits a little below
# Immich's default; "similar shots" (bursts, the same scene a moment later) is its loosest end.
LEVELS: dict[str, float] = {"exact": 1.0, "near": 0.97, "similar": 0.90}
LEVEL_LABELS: dict[str, str] = {
    "exact": "exact copies",
    "near": "near-identical",
    "similar": "similar shots",
}
DEFAULT_LEVEL = "near"
DEFAULT_K = 16  # neighbours per picture: a burst larger than this still joins through chains
_BATCH = 512  # pictures per index query: keeps each hold of the index lock short
# hnswlib's search breadth for the graph. A copy is a picture's very nearest neighbour, which a
# narrow search finds as well as a broad one, at a third of the time of search's default (128);
# bench_duplicates.py measures what this keeps of the planted pairs at 100k.
_EF = 40


@dataclass(frozen=True)
class Member:
    file_id: int
    path: str
    size: int
    width: int | None
    height: int | None
    taken_at: float | None  # EXIF date taken, else the file's modification time
    similarity: float  # cosine to the suggested keeper (1.0 for the keeper itself)
    exact_copy: bool  # another member has exactly the same bytes
    keep: bool  # the suggested one to keep: largest resolution, then oldest


@dataclass(frozen=True)
class Group:
    members: list[Member]  # the keeper first, then by resolution, date and path
    similarity: float  # the lowest cosine of a member to the keeper
    exact: bool  # every member has the same bytes


@dataclass(frozen=True)
class Report:
    groups: list[Group]
    threshold: float
    pictures: int  # pictures compared


def parse_threshold(value: float | str) -> float:
    """A cosine in (0, 1], from a number or a level name ("exact", "near-identical", …)."""
    if isinstance(value, str):
        key = value.strip().lower()
        for name, label in LEVEL_LABELS.items():
            if key in (name, label, label.replace("-", " ")):
                return LEVELS[name]
        try:
            value = float(key)
        except ValueError:
            raise KnownError(
                f"Unknown threshold {value!r}: use exact, near or similar, or a cosine such "
                "as 0.95."
            ) from None
    if not 0.0 < value <= 1.0:
        raise KnownError(f"The threshold must be a cosine between 0 and 1, not {value}.")
    return float(value)


def level_of(threshold: float) -> str | None:
    """The level name of a threshold, if it is one of ``LEVELS``."""
    return next((name for name, value in LEVELS.items() if value == threshold), None)


class _Groups:
    """Union-find over row positions, with a centre per group (see the module docstring)."""

    def __init__(self, vectors: np.ndarray, threshold: float) -> None:
        self._vectors = vectors
        self._threshold = threshold
        self._parent = list(range(len(vectors)))
        self._members: dict[int, list[int]] = {}  # root -> positions, for groups of 2+
        self._centre: dict[int, int] = {}

    def find(self, i: int) -> int:
        parent = self._parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, i: int, j: int, *, check: bool) -> None:
        a, b = self.find(i), self.find(j)
        if a == b:
            return
        in_a, in_b = self._members.get(a, [a]), self._members.get(b, [b])
        if len(in_a) < len(in_b):
            a, b, in_a, in_b = b, a, in_b, in_a
        centre = self._centre.get(a, a)
        if check and float(np.min(self._vectors[in_b] @ self._vectors[centre])) < self._threshold:
            return
        self._parent[b] = a
        self._members[a] = in_a + in_b
        self._members.pop(b, None)
        self._centre.pop(b, None)
        self._centre[a] = centre

    def groups(self) -> list[list[int]]:
        return list(self._members.values())


def find_groups(
    store: Store,
    set_id: int,
    index: VectorBackend,
    threshold: float,
    *,
    root_ids: set[int] | None = None,
    k: int = DEFAULT_K,
    control: Control | None = None,
) -> Iterator[Progress | Report]:
    """Yield :class:`Progress` while the neighbour graph is built, then one :class:`Report`
    (or, once ``control`` is cancelled, a last progress with the phase ``cancelled``).

    ``root_ids`` limits the work to pictures under those library folders (both ends of a pair).
    """
    control = control or Control()
    labels, file_ids, roots, hashes, vectors = store.vectors_with_files(set_id, ImageExtractor.name)
    if root_ids is not None:
        keep = np.isin(roots, list(root_ids))
        labels, file_ids, vectors = labels[keep], file_ids[keep], vectors[keep]
        hashes = [h for h, kept in zip(hashes, keep, strict=True) if kept]
    n = len(labels)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    groups = _Groups(vectors, threshold)
    by_hash: dict[str, int] = {}
    for position, digest in enumerate(hashes):
        if digest is not None:
            groups.join(by_hash.setdefault(digest, position), position, check=False)
    if threshold < 1.0 and n > 1:
        try:
            edges = yield from _edges(labels, vectors, index, threshold, k, control)
        except CancelledError:
            yield Progress(phase="cancelled", total=n, message="Stopped")
            return
        for i, j in edges:
            groups.join(i, j, check=True)
    found = _describe(store, groups.groups(), file_ids, hashes, vectors)
    yield Report(found, threshold, n)


def _edges(
    labels: np.ndarray,
    vectors: np.ndarray,
    index: VectorBackend,
    threshold: float,
    k: int,
    control: Control,
) -> Generator[Progress, None, list[tuple[int, int]]]:
    """Candidate pairs (row positions) at or above the threshold, best first (the generator's
    return value); yields progress per batch of index queries."""
    n = len(labels)
    found_i, found_j, found_s = [], [], []
    for start in range(0, n, _BATCH):
        control.checkpoint()
        stop = min(n, start + _BATCH)
        neighbours, cosines = index.knn(vectors[start:stop], k + 1, ef=_EF)  # +1: itself
        where = np.searchsorted(labels, neighbours).clip(0, n - 1)
        rows = np.arange(start, stop)[:, None]
        ok = (labels[where] == neighbours) & (cosines >= threshold) & (where != rows)
        found_i.append(np.broadcast_to(rows, ok.shape)[ok])
        found_j.append(where[ok])
        found_s.append(cosines[ok])
        yield Progress(phase="duplicates", total=n, done=stop)
    i, j, s = (np.concatenate(part) for part in (found_i, found_j, found_s))
    order = np.argsort(-s, kind="stable")
    return list(zip(i[order].tolist(), j[order].tolist(), strict=True))


def _describe(
    store: Store,
    groups: list[list[int]],
    file_ids: np.ndarray,
    hashes: list[str | None],
    vectors: np.ndarray,
) -> list[Group]:
    records = store.files(int(file_ids[p]) for members in groups for p in members)
    out: list[Group] = []
    for positions in groups:
        present = [p for p in positions if int(file_ids[p]) in records]  # deleted meanwhile
        if len(present) < 2:
            continue
        ordered = sorted(present, key=lambda p: _keep_order(records[int(file_ids[p])]))
        keeper = ordered[0]
        cosines = vectors[ordered] @ vectors[keeper]
        seen = [hashes[p] for p in ordered]
        members = [
            _member(records[int(file_ids[p])], float(c), seen.count(hashes[p]) > 1, p == keeper)
            for p, c in zip(ordered, cosines, strict=True)
        ]
        out.append(
            Group(
                members,
                min(m.similarity for m in members),
                len(set(seen)) == 1 and seen[0] is not None,
            )
        )
    out.sort(key=lambda g: (-len(g.members), -g.similarity, g.members[0].path))
    return out


def _date(record: FileRecord) -> float:
    return record.taken_at if record.taken_at is not None else record.mtime_ns / 1e9


def _keep_order(record: FileRecord) -> tuple[float, float, int, str]:
    """Largest resolution first, then the oldest, then the larger file, then by path."""
    pixels = (record.width or 0) * (record.height or 0)
    return (-pixels, _date(record), -record.size, record.path)


def _member(record: FileRecord, cosine: float, exact_copy: bool, keep: bool) -> Member:
    return Member(
        record.id,
        record.path,
        record.size,
        record.width,
        record.height,
        _date(record),
        1.0 if keep else min(1.0, cosine),
        exact_copy,
        keep,
    )


def copy_list(groups: list[Group]) -> str:
    """Plain text for the clipboard: one path per line, a blank line between groups."""
    return "\n\n".join("\n".join(m.path for m in g.members) for g in groups)
