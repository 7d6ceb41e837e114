"""One ranking from two: the meaning search's hits and the keyword search's.

Reciprocal rank fusion (Cormack et al., 2009) adds ``1 / (K + rank)`` over the lists a file
is in: robust where the two scores (calibrated relevance, BM25) are on unrelated scales. Plain
RRF treats every list alike, though, and a meaning list always has a "first" hit, even for
"IMG_2023", where every hit is noise. So each contribution is weighted by how sure its side
is: a meaning hit by its calibrated relevance, a keyword hit by its tier (every word whole,
as prefixes, some of the words; see :mod:`keywords`). Exact words outweigh a confident
meaning match ("invoice 4471" before a note about invoice 4470); a few shared words do not
outweigh one.

The calibrated relevance still decides what is a good match: a fused hit's relevance is the
higher of its two sides'.
"""

from dataclasses import replace

from desktop_app.core.db.records import FileRecord
from desktop_app.core.searching.keywords import TIER_RELEVANCE, KeywordHit
from desktop_app.core.searching.ranking import Hit

RRF_K = 10  # small: a library search is judged by its first screen, not its hundredth hit
_MEANING_FLOOR = 0.25  # a meaning hit's weight is this plus its relevance
_TIER_WEIGHT = dict(zip(TIER_RELEVANCE, (1.5, 1.0, 0.25), strict=True))


def fuse(
    meaning: list[Hit],
    keyword: list[KeywordHit],
    records: dict[int, FileRecord],
    k: int,
    *,
    required: bool = False,
) -> list[Hit]:
    """The best ``k`` files of both lists, best first, each once. ``records`` holds the
    keyword hits' files that the meaning list lacks. ``required``: only keyword matches."""
    position = {hit.file_id: i for i, hit in enumerate(meaning, start=1)}
    by_file = {hit.file_id: hit for hit in meaning}
    scores: dict[int, float] = {}
    hits: dict[int, Hit] = {}
    for hit in meaning:
        scores[hit.file_id] = (_MEANING_FLOOR + hit.relevance) / (RRF_K + position[hit.file_id])
        hits[hit.file_id] = hit
    for match in keyword:
        base = by_file.get(match.file_id)
        if base is None:
            record = records.get(match.file_id)
            if record is None:
                continue
            base = _hit(record, match.relevance)
        weight = _TIER_WEIGHT.get(match.relevance, 0.25)
        scores[match.file_id] = scores.get(match.file_id, 0.0) + weight / (RRF_K + match.rank)
        hits[match.file_id] = _with_keywords(base, match)
    if required:
        matched = {match.file_id for match in keyword}
        hits = {fid: hit for fid, hit in hits.items() if fid in matched}
    order = sorted(hits, key=lambda fid: (-scores[fid], -hits[fid].relevance))
    return [hits[fid] for fid in order[:k]]  # ranked by companions.collapse


def _with_keywords(hit: Hit, match: KeywordHit) -> Hit:
    """The hit with the keyword side's relevance if higher, and its snippet (the words that
    matched, in their unit) when the match was on whole or typed words."""
    relevance = max(hit.relevance, match.relevance)
    if match.snippet and match.relevance > TIER_RELEVANCE[-1]:
        return replace(hit, relevance=relevance, span=match.span, snippet=match.snippet)
    return hit if relevance == hit.relevance else replace(hit, relevance=relevance)


def _hit(record: FileRecord, relevance: float) -> Hit:
    """A file found by its words alone (no cosine: score 0)."""
    return Hit(
        record.id,
        record.path,
        record.kind,
        0.0,
        relevance,
        0,
        record.size,
        record.width,
        record.height,
        record.taken_at,
        record.camera,
        modified_at=record.mtime_ns / 1e9,
    )
