"""Ranking the library against a query vector, and turning labels back into files.

The nearest neighbours are found by cosine similarity (``score``); each hit then gets a
calibrated ``relevance`` in [0, 1] (see :mod:`relevance`) that is comparable across queries and
across embedding spaces, so pictures (CLIP) and documents (MiniLM) merge into one list by
relevance. Results are files: a file with several matching units (a document's chunks, later a
video's frames) appears once, at its best unit, and the hit says which unit matched.
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from desktop_app.core.db.records import FileRecord
from desktop_app.core.db.store import Store
from desktop_app.core.kinds.base import Span
from desktop_app.core.searching.segments import segment
from desktop_app.core.vectors.backend import Scope, ScopedSearch, VectorBackend

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
    relevance: float  # calibrated per space, for merging and display
    rank: int
    size: int
    width: int | None
    height: int | None
    taken_at: float | None
    camera: str | None
    span: Span | None = None  # where the best unit sits: a document's lines, a moment…
    snippet: str | None = None  # the best unit's words, for text units
    modified_at: float | None = None  # the file's modification time when it was indexed
    moment: float | None = None  # the best unit's time (a video's matched frame), in seconds
    duration: float | None = None  # a video's or recording's length, in seconds
    media: str | None = None  # a video's details as JSON (frame rate, codec, what was skipped)
    companions: tuple[str, ...] = ()  # the same picture's other files (a RAW's camera JPEG)

    @property
    def line_start(self) -> int | None:
        return int(self.span.start) if self.span and self.span.unit == "line" else None

    @property
    def line_end(self) -> int | None:
        return int(self.span.end) if self.span and self.span.unit == "line" else None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON: the fields, with ``line_start``/``line_end`` kept for the
        documented output."""
        data = asdict(self)
        data["line_start"], data["line_end"] = self.line_start, self.line_end
        timed = self.span is not None and self.span.unit == "second"
        data["start"] = self.span.start if timed and self.span else None
        data["end"] = self.span.end if timed and self.span else None
        data["media"] = json.loads(self.media) if self.media else None
        return data


def rank(
    store: Store,
    set_id: int,
    index: VectorBackend,
    query: np.ndarray,
    k: int,
    calibrate: Calibrate,
    *,
    allowed: set[int] | None = None,
    scope: Scope | None = None,
    check: tuple[str, list[Any]] | None = None,
    exclude_files: frozenset[int] = frozenset(),
    units_per_file: int = 1,
    with_words: bool = False,
) -> list[Hit]:
    """The best ``k`` files (one hit per file, at its best unit) for ``query``, most relevant
    first.

    ``allowed`` (labels that pass the filters) applies inside the search: the nearest allowed
    neighbours are fetched in growing rounds until ``k`` files are found or the index is
    exhausted, so a narrow filter still returns the true top ``k`` of its subset. A ``scope``
    instead is evaluated by the backend itself (:class:`ScopedSearch`); ``check`` (an SQL
    condition over ``files f`` and its parameters) then vets its answer. Files may
    have several units (``units_per_file`` is the first round's guess). ``with_words``: the
    set's units are words, quoted as each hit's snippet.
    """
    wanted = k * units_per_file + _OVERFETCH
    while True:
        if scope is not None and isinstance(index, ScopedSearch):
            found = index.search_scoped(query, wanted, scope)
        elif allowed is None:
            found = index.search(query, wanted)
        else:
            found = index.search_among(query, wanted, allowed)
        answered = len(found)
        if check is not None and found:
            passing = _passing(store, set_id, [label for label, _ in found], check)
            found = [(label, score) for label, score in found if label in passing]
        located = store.resolve_labels(set_id, [label for label, _ in found])
        best: dict[int, tuple[float, int, Span | None]] = {}
        units: dict[int, list[tuple[float, Span | None]]] = {}  # every found unit of a file
        for label, score in found:
            if label not in located:
                continue
            file_id, _, span = located[label]
            if file_id in exclude_files:
                continue
            units.setdefault(file_id, []).append((score, span))
            if file_id not in best:
                best[file_id] = (score, label, span)
        if len(best) >= k or answered < wanted:
            break
        wanted *= 2
    top = sorted(best.items(), key=lambda item: -item[1][0])[:k]
    if not top:
        return []
    floor = min(score for _, score in found)
    scores = np.array([score for _, (score, _, _) in top], dtype=np.float32)
    labels = [label for _, (_, label, _) in top]
    relevances = calibrate(scores, labels)
    records = store.files([fid for fid, _ in top])
    texts = store.unit_texts(set_id, labels) if with_words else {}
    hits: list[Hit] = []
    for (fid, (score, label, span)), rel in zip(top, relevances, strict=True):
        if (rec := records.get(fid)) is not None:
            moment = span.start if span and span.unit == "second" else None
            if span is not None:
                span = segment(span, score, units[fid], floor)
            hit = _hit(rec, score, float(rel), span, _snippet(texts.get(label)))
            hits.append(replace(hit, moment=moment) if moment is not None else hit)
    return sorted(hits, key=_merge_order)  # ranked by merge(), once across spaces


def _passing(
    store: Store, set_id: int, labels: list[int], check: tuple[str, list[Any]]
) -> set[int]:
    """Those of ``labels`` whose file passes the SQL condition ``check``."""
    condition, params = check
    passing: set[int] = set()
    for start in range(0, len(labels), 500):
        chunk = labels[start : start + 500]
        marks = ",".join("?" * len(chunk))
        where = f"({condition}) AND u.label IN ({marks})"
        passing |= store.labels_matching(set_id, where, [*params, *chunk])
    return passing


def _hit(rec: FileRecord, score: float, rel: float, span: Span | None, snippet: str | None) -> Hit:
    return Hit(
        rec.id,
        rec.path,
        rec.kind,
        score,
        rel,
        0,
        rec.size,
        rec.width,
        rec.height,
        rec.taken_at,
        rec.camera,
        span,
        snippet,
        rec.mtime_ns / 1e9,
        duration=rec.duration,
        media=rec.media,
    )


def _snippet(text: str | None) -> str | None:
    """The unit's words on one line, cut to a card's length."""
    if text is None:
        return None
    joined = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return joined[:_SNIPPET_CHARS] + ("…" if len(joined) > _SNIPPET_CHARS else "")


def _merge_order(hit: Hit) -> tuple[float, float]:
    return -round(hit.relevance, 3), -hit.score


def merge(lists: list[list[Hit]], k: int) -> list[Hit]:
    """One list across spaces, by relevance, re-ranked from 1, each file once (at its best
    hit: a picture found both by its look and by words read in it shows once). Relevance
    saturates near 1 for strong matches, so ties (to three decimals) go to the closer cosine."""
    seen: set[int] = set()
    ordered: list[Hit] = []
    for hit in sorted((h for hits in lists for h in hits), key=_merge_order):
        if hit.file_id not in seen:
            seen.add(hit.file_id)
            ordered.append(hit)
    return [replace(h, rank=i) for i, h in enumerate(ordered[:k], start=1)]
