"""Property-based fuzzing (hypothesis): random byte mutations of valid pictures through the
decoder, the model's preprocessing and the index pipeline; random query strings through
Engine.search and the CLI. Nothing may crash or hang: a damaged file is one DecodeError (one
recorded error when indexed), a query is answered (perhaps with nothing).

Examples are derandomized (the same on every run: no flaky failures) and few, so the suite
stays fast; the per-example deadline is off because this machine is shared and its timing
noisy: a hang is caught by pytest-timeout instead.
"""

import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imagegen import scene
from PIL import Image
from tiny_model import ARCH

from desktop_app import cli
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import MiniLMEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import DecodeError
from desktop_app.core.kinds.image import decode_image
from desktop_app.core.searching.terms import parse

pillow_heif.register_heif_opener()
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _encode(fmt: str, **args: object) -> bytes:
    buffer = io.BytesIO()
    scene(11, (48, 40)).save(buffer, format=fmt, **args)
    return buffer.getvalue()


SEEDS = {
    "jpg": _encode("JPEG", quality=85),
    "png": _encode("PNG"),
    "webp": _encode("WEBP", quality=80),
    "gif": _encode("GIF"),
    "tif": _encode("TIFF"),
    "heic": _encode("HEIF", quality=50),
    "bmp": _encode("BMP"),
}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid picture with a few bytes overwritten, inserted or deleted, or cut short."""
    ext = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[ext])
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "header"]))
        if action == "flip":
            data[where] = draw(st.integers(0, 255))
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=32))
        elif action == "delete":
            del data[where : where + draw(st.integers(1, 64))]
        elif action == "truncate":
            del data[where:]
        else:  # the header, where sizes and offsets live
            data[where % 32] = draw(st.integers(0, 255))
        if not data:
            break
    return ext, bytes(data)


@settings(FUZZ, max_examples=150)
@given(sample=mutated())
def test_mutated_pictures_decode_or_fail_cleanly(
    sample: tuple[str, bytes], tiny_clip: OpenClipEncoder
) -> None:
    _, data = sample
    try:
        image, meta = decode_image(data)
    except DecodeError as err:
        assert str(err)
        return
    assert image.mode == "RGB" and image.size == (meta.width, meta.height)
    assert meta.width * meta.height > 0
    vector = tiny_clip.embed_prepared([tiny_clip.prepare_image(image)])
    assert np.all(np.isfinite(vector))


@settings(FUZZ, max_examples=6)
@given(samples=st.lists(mutated(), min_size=6, max_size=12))
def test_mutated_pictures_through_the_index_pipeline(
    samples: list[tuple[str, bytes]],
    tiny_clip: OpenClipEncoder,
    minilm: MiniLMEncoder,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for i, (ext, data) in enumerate(samples):
            (folder / f"m{i:02d}.{ext}").write_bytes(data)
        (folder / "intact.jpg").write_bytes(SEEDS["jpg"])
        with Engine(
            Path(tmp) / "home", clip_loader=lambda: tiny_clip, text_loader=lambda: minilm
        ) as engine:
            engine.add_root(folder)
            assert list(engine.index())[-1].phase == "done"
            counts = engine.status().counts["image"]
            assert set(counts) <= {"indexed", "failed"}
            assert sum(counts.values()) == len(samples) + 1
            assert all(rec.error for rec in engine.errors())
            # First, or tied with a mutation that decodes to the same picture (bytes appended
            # after the image's end, say), which the index may rank either way.
            hits = engine.search_image(folder / "intact.jpg", k=len(samples) + 1)
            best = [h.path for h in hits if h.score >= hits[0].score - 1e-5]
            assert str(folder / "intact.jpg") in best


HOSTILE_QUERIES = [
    "",
    " \t\n ",
    "\x00",
    "\x00\x01\x02\x1b[31mred\x1b[0m\x7f",
    "a" * 100_000,
    "word " * 5_000,
    "🦆🌅🏖️" * 500,
    "日本の海辺の夕焼け",
    "غروب الشمس على الشاطئ",
    "\u202eevil\u202c RTL override",
    "e\u0301\u0301\u0301\u0301 combining marks",
    "\udcff\udcfe lone surrogates from undecodable argv",
    "<|endoftext|> <start_of_text> [CLS] [SEP]",
    "-k 5 --json",
    "%s %d {0} ${HOME} `rm -rf /`",
]


@pytest.fixture(scope="module")
def searchable_home(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_model_files: tuple[Path, Path],
    minilm: MiniLMEncoder,
) -> Path:
    """A library with pictures and a note, on the imported tiny model (the CLI loads it)."""
    folder = tmp_path_factory.mktemp("fuzz-library")
    for i in range(6):
        scene(60 + i, (64, 64)).save(folder / f"p{i}.jpg", quality=90)
    (folder / "note.md").write_text("# Lake\nA quiet lake at dawn.\n", "utf-8")
    home = tmp_path_factory.mktemp("fuzz-home") / "home"
    config, weights = tiny_model_files
    with Engine(home, text_loader=lambda: minilm) as engine:
        engine.import_model(ARCH, weights, config)
        engine.add_root(folder)
        list(engine.index())
        assert engine.status().counts["document"] == {"indexed": 1}
    return home


@pytest.fixture(scope="module")
def reader(searchable_home: Path, minilm: MiniLMEncoder) -> Engine:
    engine = Engine(searchable_home, writer=False, text_loader=lambda: minilm)
    yield engine
    engine.close()


def _check_answer(engine: Engine, query: str) -> None:
    hits = engine.search(query, k=5)
    assert len(hits) <= 5
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(np.isfinite(h.score) and 0.0 <= h.relevance <= 1.0 for h in hits)
    if query.strip():
        assert hits, "a non-empty query over a non-empty library finds something"


@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=range(len(HOSTILE_QUERIES)))
def test_hostile_queries_are_answered(reader: Engine, query: str) -> None:
    _check_answer(reader, query)


@settings(FUZZ, max_examples=30)
@given(
    query=st.text(
        alphabet=st.characters(exclude_categories=()),  # every category, surrogates included
        max_size=120,
    )
)
def test_random_queries_are_answered(reader: Engine, query: str) -> None:
    _check_answer(reader, query)


# Each CLI call is a new Engine that loads the model: a few representative queries.
CLI_QUERIES = [HOSTILE_QUERIES[i] for i in (1, 3, 4, 11)]


@pytest.mark.parametrize("query", CLI_QUERIES, ids=range(len(CLI_QUERIES)))
def test_hostile_queries_through_the_cli(
    searchable_home: Path, query: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Answered (exit 0), or refused with a usage error (2) when the query has nothing to look
    for, never a crash."""
    capsys.readouterr()
    try:
        code = cli.main(
            ["--home", str(searchable_home), "search", "--json", "--all", "-k", "3", "--", query]
        )
    except SystemExit as stop:  # argparse's usage error
        code = stop.code
    out = capsys.readouterr().out
    if parse(query).is_empty:
        assert code == 2
        return
    assert code == 0
    assert 0 < len(json.loads(out)["results"]) <= 3


def test_empty_query_through_the_cli_is_a_usage_error(
    searchable_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--home", str(searchable_home), "search", ""])
    assert exited.value.code == 2
    assert "give a description or --image FILE" in capsys.readouterr().err


@pytest.mark.parametrize("size", [(1, 1), (1, 5000), (3, 2)])
def test_degenerate_sizes_embed(size: tuple[int, int], tiny_clip: OpenClipEncoder) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, format="PNG")
    image, _ = decode_image(buffer.getvalue())
    assert np.all(np.isfinite(tiny_clip.embed_images([image])))
