"""Text read in a picture (a photo of a sign, a screenshot, a scanned page) as text units.

The lines the OCR model read become the words of text units in the text space (MiniLM), cut in
chunks that fit its window like a note's lines; each chunk's span is its range of read lines,
so a hit can point at the boxes where its words were read (kept with the file's metadata as
``text_lines``; see :mod:`desktop_app.core.db.text_lines`).
"""

from collections.abc import Callable

from PIL import Image

from desktop_app.core.kinds.base import TEXT, Span, Unit, UnitModels
from desktop_app.core.kinds.chunking import chunk_text
from desktop_app.core.ocr.reader import TextLine, TextReader, joined

ReaderFactory = Callable[[], TextReader]


def text_units(lines: list[TextLine], models: UnitModels, *, page: int | None = None) -> list[Unit]:
    """Text units of the lines read, spanning read lines (or, with ``page``, that page)."""
    if not lines:
        return []
    window, count_tokens = models.text_window(TEXT)
    return [
        Unit(
            TEXT,
            text=chunk.text,
            span=Span(page, page, "page")
            if page
            else Span(chunk.line_start, chunk.line_end, "line"),
        )
        for chunk in chunk_text(joined(lines), window, count_tokens)
    ]


def read_picture(
    picture: Image.Image,
    reader: ReaderFactory,
    detail: Callable[[], Image.Image] | None = None,
) -> list[TextLine]:
    """The lines of text in an upright RGB picture (see :meth:`TextReader.read`)."""
    return reader().read(picture, detail)
