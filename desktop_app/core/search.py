"""Ranking the library against a query vector, and turning labels back into files.

CLIP's text→image cosines and MiniLM's text→text cosines live on different scales (about
0.1–0.35 against 0.0–0.8), so a merged list ranks by ``relevance``: each modality's cosine
mapped linearly from its typical "unrelated" level to its typical "strong match" level and
clipped to [0, 1]. The raw cosine stays available as ``score``.
"""

from dataclasses import dataclass, replace

import numpy as np

from desktop_app.core.store import DOCUMENT, FileRecord, Store
from desktop_app.core.vector_index import VectorIndex

# (unrelated, strong match) cosine levels per kind of comparison.
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "text->image": (0.10, 0.35),
    "image->image": (0.50, 1.00),
    "text->document": (0.00, 0.80),
    "document->document": (0.30, 1.00),
}
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


def relevance(score: float, comparison: str) -> float:
    low, high = SCORE_RANGES[comparison]
    return float(min(1.0, max(0.0, (score - low) / (high - low))))


def rank(
    store: Store,
    set_id: int,
    index: VectorIndex,
    query: np.ndarray,
    k: int,
    comparison: str,
    *,
    min_score: float | None = None,
    exclude_file: int | None = None,
    root_ids: set[int] | None = None,
) -> list[Hit]:
    """The best ``k`` files (one hit per file: a document's best chunk) for ``query``.

    ``root_ids`` keeps files under those library folders only. The filter applies inside the
    search: the nearest neighbours are fetched in growing rounds until ``k`` files pass it or
    the index is exhausted, so a narrow filter still returns the true top ``k`` of its subset.
    """
    per_file = 1 if comparison.endswith("image") else 4  # documents have several chunks
    wanted = k * per_file + _OVERFETCH
    while True:
        found = index.search(query, wanted)
        located = store.resolve_labels(set_id, [label for label, _ in found])
        best: dict[int, tuple[float, int | None, int | None]] = {}
        for label, score in found:
            if label not in located or (min_score is not None and score < min_score):
                continue
            file_id, root_id, start, end = located[label]
            if root_ids is not None and root_id not in root_ids:
                continue
            if file_id != exclude_file and file_id not in best:
                best[file_id] = (score, start, end)
        below_floor = min_score is not None and bool(found) and found[-1][1] < min_score
        if len(best) >= k or len(found) < wanted or below_floor:
            break
        wanted *= 2
    top = sorted(best.items(), key=lambda item: -item[1][0])[:k]
    records = store.files([fid for fid, _ in top])
    hits: list[Hit] = []
    for fid, (score, start, end) in top:
        rec = records.get(fid)
        if rec is None:
            continue
        hits.append(_hit(rec, score, relevance(score, comparison), len(hits) + 1, start, end))
    return hits


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


def merge(lists: list[list[Hit]], k: int) -> list[Hit]:
    """One list across modalities, by relevance, re-ranked from 1."""
    ordered = sorted((h for hits in lists for h in hits), key=lambda h: -h.relevance)[:k]
    return [replace(h, rank=i) for i, h in enumerate(ordered, start=1)]
