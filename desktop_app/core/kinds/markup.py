"""Text out of markup: HTML pages (lxml) and RTF documents (striprtf), as lines a person reads.

Scripts, styles and other invisible parts are dropped; each block element (paragraph,
heading, list item, table row) becomes a line, so a hit can point at its lines.
"""

from desktop_app.core.kinds.base import DecodeError

_INVISIBLE = ("script", "style", "noscript", "template", "head")
_BLOCKS = (
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "blockquote", "pre", "dt", "dd", "td", "th", "title", "caption", "figcaption",
)  # fmt: skip


def html_text(data: bytes) -> str:
    """The visible text of an HTML (or XHTML) document, a line per block."""
    from lxml import etree, html

    if not data.strip():
        return ""
    try:
        root = html.document_fromstring(data)
    except (etree.ParserError, ValueError) as err:
        raise DecodeError(f"not a readable HTML page ({err})") from None
    for element in root.iter(*_INVISIBLE):
        element.drop_tree() if element.getparent() is not None else element.clear()
    for element in root.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
    text = root.text_content()
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def rtf_text(data: str) -> str:
    """An RTF document's text (its control words and groups dropped)."""
    from striprtf.striprtf import rtf_to_text

    try:
        return rtf_to_text(data, errors="replace")
    except Exception as err:  # striprtf raises plain exceptions on malformed groups
        raise DecodeError(f"damaged RTF document ({type(err).__name__}: {err})") from None
