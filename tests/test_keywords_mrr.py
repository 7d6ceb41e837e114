"""Fusion beats either side alone on a small labelled library (see keyword_cases.py): mean
reciprocal rank over queries a person would type, each with the one file they mean."""

from pathlib import Path

import pytest
from keyword_cases import DOCUMENT_CASES, PICTURE_CASES, build_labelled_library

from desktop_app.core.engine import Engine
from desktop_app.core.searching.terms import Query, text


def mean_reciprocal_rank(engine: Engine, cases: list[tuple[str, str]], mode: str) -> float:
    total = 0.0
    for query, wanted in cases:
        names = [Path(h.path).name for h in engine.query(Query((text(query),)), 10, mode=mode)]
        total += 1.0 / (names.index(wanted) + 1) if wanted in names else 0.0
    return total / len(cases)


@pytest.mark.slow
def test_fused_ranking_beats_meaning_only_and_keywords_only(engine: Engine, tmp_path: Path) -> None:
    build_labelled_library(tmp_path / "library")
    engine.add_root(tmp_path / "library")
    list(engine.index())
    cases = PICTURE_CASES + DOCUMENT_CASES
    fused, meaning, words = (
        mean_reciprocal_rank(engine, cases, mode) for mode in ("fused", "meaning", "keywords")
    )
    assert fused >= 0.9
    assert fused > meaning and fused > words
    # Documents, where the real MiniLM makes meaning strong: fusion keeps what it finds.
    assert mean_reciprocal_rank(engine, DOCUMENT_CASES, "fused") >= mean_reciprocal_rank(
        engine, DOCUMENT_CASES, "meaning"
    )
