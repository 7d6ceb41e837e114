"""Hostile input for this issue's code: mutated and malformed RAW files through the RAW
decoder and the index pipeline, and keyword syntax that FTS5 would refuse, through search.
Nothing may crash or hang: a damaged RAW is one recorded error, a query is answered."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rawgen import write_dng
from test_fuzz import FUZZ

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import DecodeError
from desktop_app.core.kinds.raw import decode_raw

with tempfile.TemporaryDirectory() as _folder:
    SEEDS = {
        kind: write_dng(Path(_folder) / f"{kind}.dng", size=(96, 64), preview=kind).read_bytes()
        for kind in ("jpeg", "bitmap", None)
    }


@st.composite
def mutated_raw(draw: st.DrawFn) -> bytes:
    """A small DNG with a few bytes overwritten or cut short, often in its directories."""
    data = bytearray(SEEDS[draw(st.sampled_from(["jpeg", "bitmap", None]))])
    for _ in range(draw(st.integers(1, 5))):
        if len(data) <= 16:
            break
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "truncate", "directory"]))
        if action == "flip":
            data[where] = draw(st.integers(0, 255))
        elif action == "truncate":
            del data[max(8, where) :]
        else:  # the first directory: counts, tags, sizes and offsets
            data[8 + where % min(200, len(data) - 8)] = draw(st.integers(0, 255))
    return bytes(data)


@settings(FUZZ, max_examples=60)
@given(data=mutated_raw())
def test_mutated_raw_files_decode_or_fail_cleanly(data: bytes) -> None:
    try:
        picture, meta = decode_raw(data, draft_size=64)
    except DecodeError as err:
        assert str(err)
        return
    assert picture.mode == "RGB" and min(picture.size) > 0
    assert meta.exposure is True


def test_malformed_raws_are_recorded_and_the_rest_indexed(
    tmp_path: Path, tiny_clip: OpenClipEncoder, minilm: SentenceTransformerEncoder
) -> None:
    root = tmp_path / "raws"
    good = write_dng(root / "good.nef", size=(96, 64))  # LibRaw reads by content, not name
    data = good.read_bytes()
    bad = {
        "truncated.dng": data[: len(data) // 3],
        "header-only.cr2": data[:16],
        "text.arw": b"Dear diary,\nnot a photo.\n",
        "zeros.orf": bytes(4096),
        "empty.rw2": b"",
        "jpeg-named.raf": SEEDS["jpeg"][:64],
    }
    for name, content in bad.items():
        (root / name).write_bytes(content)
    with Engine(tmp_path / "home", clip_loader=lambda: tiny_clip, text_loader=lambda: minilm) as e:
        e.add_root(root)
        list(e.index())
        counts = e.status().counts["raw"]
        assert counts.get("indexed") == 1
        assert counts.get("failed", 0) + counts.get("indexed", 0) == 1 + len(bad)
        assert all(record.error for record in e.errors())
        assert [Path(h.path).name for h in e.search("name:good", k=3)] == ["good.nef"]


KEYWORD_SYNTAX = [
    '"',
    '""',
    '"unclosed phrase',
    "name:",
    "tag:",
    'name:""',
    "NEAR(a b, 2)",
    "a AND OR NOT b",
    "* ^ - + :",
    "col:umn:word",
    "text:\x00",
    "name:\udcff\udcfe",
    "(((((",
    "a*b*c*",
    "x" * 5000,
    " ".join(f"w{i}" for i in range(500)),
]


@pytest.mark.parametrize("query", KEYWORD_SYNTAX, ids=range(len(KEYWORD_SYNTAX)))
def test_keyword_syntax_is_answered(query: str, engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    (root / "note.md").write_text("A note about NEAR and AND.\n", "utf-8")
    engine.add_root(root)
    list(engine.index())
    hits = engine.search(query, k=5)
    assert len(hits) <= 5 and all(0.0 <= h.relevance <= 1.0 for h in hits)
