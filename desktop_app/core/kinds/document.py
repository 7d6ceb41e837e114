"""Text documents: notes in plain text and Markdown."""

from desktop_app.core.kinds.base import DecodeError

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
