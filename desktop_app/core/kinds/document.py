"""Text documents: notes in plain text and Markdown, cut into overlapping chunks of lines.

Each chunk is a text unit with its line range, and its words are stored with its vector, so a
hit can quote the matching passage without reading the file again.
"""

from collections.abc import Mapping, Sequence

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

DOCUMENT_EXTENSIONS = frozenset({".txt", ".md", ".markdown"})

# Text documents above this size are not embedded (logs and dumps rather than notes).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


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


class DocumentExtractor:
    """Notes and other plain text, in the text space (MiniLM), one unit per chunk."""

    name = "document"
    label = "documents"
    extensions = DOCUMENT_EXTENSIONS
    file_types: Mapping[str, Sequence[str]] = {"text": (".txt",), "markdown": (".md", ".markdown")}
    spaces = (TEXT,)
    passes = (Pass("documents", spaces),)
    typical_units = 4  # chunks of a note

    def sniff(self, head: bytes) -> bool:
        return False  # text has no signature: only its extension claims it

    def extract(self, source: Source, models: UnitModels) -> Extracted:
        text = decode_text(source.read())
        window, count_tokens = models.text_window(TEXT)
        chunks = chunk_text(text, window, count_tokens)
        return Extracted(
            {},
            [Unit(TEXT, text=c.text, span=Span(c.line_start, c.line_end, "line")) for c in chunks],
        )
