"""Documents: notes, code and configuration as text; PDFs, office files, e-books, web pages
and RTF through their own readers. All are cut into overlapping chunks that fit the text
model's window.

Each chunk is a text unit with its place: lines for text (a paragraph of an office file or a
web page is one line), pages for PDFs, slides for presentations and chapters for e-books
(counted as pages). Its words are stored with its vector, so a hit can quote the matching
passage without reading the file again. Large files are opened from their path by their
readers, not read whole into memory first.
"""

import os
from collections.abc import Callable, Mapping, Sequence

from desktop_app.core.kinds.base import (
    TEXT,
    DecodeError,
    Extracted,
    Pass,
    Source,
    Span,
    Unit,
    UnitModels,
)
from desktop_app.core.kinds.chunking import chunk_text
from desktop_app.core.kinds.markup import html_text, rtf_text
from desktop_app.core.kinds.office import docx_text, epub_chapters, odf_text, pptx_slides
from desktop_app.core.kinds.pdf import pdf_units
from desktop_app.core.kinds.picture_text import ReaderFactory
from desktop_app.core.ocr.reader import shared_reader

# File types a person can filter by, with the endings that make them.
DOCUMENT_TYPES: dict[str, tuple[str, ...]] = {
    "text": (".txt",),
    "markdown": (".md", ".markdown"),
    "pdf": (".pdf",),
    "word": (".docx",),
    "opendocument": (".odt", ".odp"),
    "powerpoint": (".pptx",),
    "epub": (".epub",),
    "html": (".html", ".htm", ".xhtml"),
    "rtf": (".rtf",),
    # Source code and configuration, read as plain text (.ts is left to MPEG videos).
    "code": (
        ".py", ".pyi", ".js", ".mjs", ".jsx", ".tsx", ".java", ".kt", ".scala", ".c", ".h",
        ".cc", ".cpp", ".hpp", ".cs", ".go", ".rs", ".rb", ".php", ".swift", ".m", ".lua",
        ".pl", ".r", ".jl", ".dart", ".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".sql",
        ".css", ".scss", ".vue", ".svelte", ".tex", ".rst", ".org",
    ),
    "config": (
        ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".properties", ".xml",
        ".env", ".gradle", ".cmake", ".mk",
    ),
}  # fmt: skip
DOCUMENT_EXTENSIONS = frozenset(ext for exts in DOCUMENT_TYPES.values() for ext in exts)
_PLAIN = frozenset(
    DOCUMENT_TYPES["text"]
    + DOCUMENT_TYPES["markdown"]
    + DOCUMENT_TYPES["code"]
    + DOCUMENT_TYPES["config"]
)

# Text documents above this size are not embedded (logs and dumps rather than notes).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# Office files, e-books and PDFs may be larger (pictures inside); their readers bound the rest.
MAX_PACKED_BYTES = 500 * 1024 * 1024


def decode_text(data: bytes) -> str:
    """A text document's content: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DecodeError(
            f"document too large ({len(data) / 1e6:.0f} MB; the limit is "
            f"{MAX_DOCUMENT_BYTES / 1e6:.0f} MB)"
        )
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DecodeError("not a text document (binary content)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _line_units(text: str, models: UnitModels) -> list[Unit]:
    window, count_tokens = models.text_window(TEXT)
    return [
        Unit(TEXT, text=c.text, span=Span(c.line_start, c.line_end, "line"))
        for c in chunk_text(text, window, count_tokens)
    ]


def _page_units(pages: list[tuple[int, str]], models: UnitModels) -> list[Unit]:
    window, count_tokens = models.text_window(TEXT)
    return [
        Unit(TEXT, text=c.text, span=Span(number, number, "page"))
        for number, words in pages
        for c in chunk_text(words, window, count_tokens)
    ]


class DocumentExtractor:
    """Notes, code, PDFs, office files, e-books and web pages, in the text space (MiniLM),
    one unit per chunk."""

    name = "document"
    label = "documents"
    extensions = DOCUMENT_EXTENSIONS
    file_types: Mapping[str, Sequence[str]] = DOCUMENT_TYPES
    spaces = (TEXT,)
    passes = (Pass("documents", spaces),)
    typical_units = 4  # chunks of a note

    def __init__(self, reader: ReaderFactory = shared_reader) -> None:
        self._reader = reader  # reads the pages of a PDF that have no text layer

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"%PDF-")  # text has no signature: its extension claims it

    def extract(self, source: Source, models: UnitModels) -> Extracted:
        ext = os.path.splitext(source.path)[1].lower()
        if ext in _PLAIN:
            return Extracted({}, _line_units(decode_text(source.read()), models))
        _check_size(source.path)
        readers: dict[str, Callable[[], list[Unit]]] = {
            ".docx": lambda: _line_units(docx_text(source.path), models),
            ".odt": lambda: _line_units(odf_text(source.path), models),
            ".odp": lambda: _line_units(odf_text(source.path), models),
            ".pptx": lambda: _page_units(pptx_slides(source.path), models),
            ".epub": lambda: _page_units(epub_chapters(source.path), models),
            ".rtf": lambda: _line_units(rtf_text(decode_text(source.read())), models),
        }
        if ext in DOCUMENT_TYPES["html"]:
            return Extracted({}, _line_units(html_text(_limited(source)), models))
        if ext in readers:
            return Extracted({}, readers[ext]())
        return Extracted({}, pdf_units(source.path, models, self._reader))


def _check_size(path: str) -> None:
    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise DecodeError(f"cannot read ({err.strerror or err})") from None
    if size > MAX_PACKED_BYTES:
        raise DecodeError(
            f"document too large ({size / 1e6:.0f} MB; the limit is "
            f"{MAX_PACKED_BYTES / 1e6:.0f} MB)"
        )


def _limited(source: Source) -> bytes:
    data = source.read()
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DecodeError(f"web page too large ({len(data) / 1e6:.0f} MB)")
    return data
