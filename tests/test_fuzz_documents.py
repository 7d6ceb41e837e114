"""Property-based fuzzing of documents: random byte mutations of valid PDFs, Word,
PowerPoint, OpenDocument and EPUB files, web pages and RTF through the document kind's
readers. A damaged file is one :class:`DecodeError` with a message, never another exception,
a hang or a crash (PDFs are read in a capped child process, so even a crash there is one
error). Derandomized and few examples, as in ``test_fuzz.py``."""

import tempfile
from pathlib import Path

import pytest
from docgen import docx_file, epub_file, odt_file, pdf_bytes, pptx_file
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz import FUZZ

from desktop_app.core.indexing.reading import FileSource
from desktop_app.core.kinds.base import TEXT, DecodeError
from desktop_app.core.kinds.document import DocumentExtractor


class _WordModels:
    """Just what the document kind asks of the text model: its window and a token count."""

    def wants(self, space: str) -> bool:
        return space == TEXT

    def text_window(self, space: str) -> tuple[int, object]:
        return 128, lambda text: len(text.split())

    def picture_input(self, space: str) -> tuple[object, None]:
        raise AssertionError("documents need no picture model")


def _seeds() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        return {
            ".pdf": pdf_bytes([["A page about boats"], ["A page about trains"]]),
            ".docx": docx_file(folder / "a.docx", ["Rowing club", "New boat"]).read_bytes(),
            ".pptx": pptx_file(folder / "a.pptx", ["Revenue"]).read_bytes(),
            ".odt": odt_file(folder / "a.odt", ["Apple pie"]).read_bytes(),
            ".epub": epub_file(folder / "a.epub", ["The ship left"]).read_bytes(),
            ".html": b"<html><body><h1>Volcano</h1><p>Lava <b>flows</b></p></body></html>",
            ".rtf": rb"{\rtf1\ansi{\fonttbl\f0 Helvetica;}\f0\pard Insurance claim\par}",
        }


SEEDS = _seeds()


@st.composite
def mutated(draw: st.DrawFn, kinds: tuple[str, ...]) -> tuple[str, bytes]:
    ext = draw(st.sampled_from(kinds))
    data = bytearray(SEEDS[ext])
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(("flip", "cut", "insert")))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 64))]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=32))
        if not data:
            break
    return ext, bytes(data)


def _extract(tmp: Path, ext: str, data: bytes) -> None:
    path = tmp / f"sample{ext}"
    path.write_bytes(data)
    try:
        extracted = DocumentExtractor().extract(FileSource(str(path)), _WordModels())
    except DecodeError as err:
        assert str(err)
        return
    assert all(unit.space == TEXT and unit.text for unit in extracted.units)


@settings(FUZZ, max_examples=80)
@given(sample=mutated((".docx", ".pptx", ".odt", ".epub", ".html", ".rtf")))
def test_mutated_office_files_read_or_fail_cleanly(sample: tuple[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        _extract(Path(scratch), *sample)


@pytest.mark.slow
@settings(FUZZ, max_examples=12)
@given(sample=mutated((".pdf",)))
def test_mutated_pdfs_read_or_fail_cleanly(sample: tuple[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        _extract(Path(scratch), *sample)
