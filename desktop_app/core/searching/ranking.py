"""Ranking the library against a query vector, and turning labels back into files.

The nearest neighbours are found by cosine similarity (``score``); each hit then gets a
calibrated ``relevance`` in [0, 1] (see :mod:`relevance`) that is comparable across queries and
across modalities, so pictures (CLIP) and documents (MiniLM) merge into one list by relevance.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from desktop_app.core.db.records import DOCUMENT, FileRecord
from desktop_app.core.db.store import Store
from desktop_app.core.vectors.backend import VectorBackend

# (scores, labels of the hits) -> relevances, for one query. Labels rather than vectors: only
# some calibrations need the hits' vectors, and fetching 500 of them is not free.
Calibrate = Callable[[np.ndarray, list[int]], np.ndarray]
_OVERFETCH = 10  # labels that vanish between the ANN answer and the metadata lookup
_SNIPPET_CHARS = 240


@dataclass(frozen=True)
class Hit:
    file_id: int
    path: str
    kind: str
    score: float  # cosine similarity to the query
    relevance: float  # score normalised per modality, for merging and display
    rank: int
    size: int
    width: int | None
    height: int | None
    taken_at: float | None
    camera: str | None
    line_start: int | None = None  # documents: the best chunk's lines
    line_end: int | None = None
    snippet: str | None = None


def rank(
    store: Store,
    set_id: int,
    index: VectorBackend,
    query: np.ndarray,
    k: int,
    calibrate: Calibrate,
    *,
    allowed: set[int] | None = None,
    exclude_files: frozenset[int] = frozenset(),
    chunks_per_file: int = 1,
) -> list[Hit]:
    """The best ``k`` files (one hit per file: a document's best chunk) for ``query``, most
    relevant first.

    ``allowed`` (labels that pass the filters) applies inside the search: the nearest allowed
    neighbours are fetched in growing rounds until ``k`` files are found or the index is
    exhausted, so a narrow filter still returns the true top ``k`` of its subset. Documents
    have several chunks (``chunks_per_file`` is the first round's guess).
    """
    wanted = k * chunks_per_file + _OVERFETCH
    while True:
        if allowed is None:
            found = index.search(query, wanted)
        else:
            found = index.search_among(query, wanted, allowed)
        located = store.resolve_labels(set_id, [label for label, _ in found])
        best: dict[int, tuple[float, int, int | None, int | None]] = {}
        for label, score in found:
            if label not in located:
                continue
            file_id, _, start, end = located[label]
            if file_id not in exclude_files and file_id not in best:
                best[file_id] = (score, label, start, end)
        if len(best) >= k or len(found) < wanted:
            break
        wanted *= 2
    top = sorted(best.items(), key=lambda item: -item[1][0])[:k]
    if not top:
        return []
    scores = np.array([score for _, (score, _, _, _) in top], dtype=np.float32)
    relevances = calibrate(scores, [label for _, (_, label, _, _) in top])
    records = store.files([fid for fid, _ in top])
    hits: list[Hit] = []
    for (fid, (score, _, start, end)), rel in zip(top, relevances, strict=True):
        if (rec := records.get(fid)) is not None:
            hits.append(_hit(rec, score, float(rel), 0, start, end))
    return sorted(hits, key=_merge_order)  # ranked by merge(), once across modalities


def _hit(
    rec: FileRecord, score: float, rel: float, position: int, start: int | None, end: int | None
) -> Hit:
    snippet = _snippet(rec.path, start, end) if rec.kind == DOCUMENT else None
    return Hit(
        rec.id,
        rec.path,
        rec.kind,
        score,
        rel,
        position,
        rec.size,
        rec.width,
        rec.height,
        rec.taken_at,
        rec.camera,
        start,
        end,
        snippet,
    )


def _snippet(path: str, start: int | None, end: int | None) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    chosen = lines[(start or 1) - 1 : end or len(lines)]
    text = " ".join(line.strip() for line in chosen if line.strip())
    return text[:_SNIPPET_CHARS] + ("…" if len(text) > _SNIPPET_CHARS else "")


def _merge_order(hit: Hit) -> tuple[float, float]:
    return -round(hit.relevance, 3), -hit.score


def merge(lists: list[list[Hit]], k: int) -> list[Hit]:
    """One list across modalities, by relevance, re-ranked from 1. Relevance saturates near 1
    for strong matches, so ties (to three decimals) go to the closer cosine."""
    ordered = sorted((h for hits in lists for h in hits), key=_merge_order)[:k]
    return [replace(h, rank=i) for i, h in enumerate(ordered, start=1)]
