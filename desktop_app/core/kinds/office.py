"""Office documents, read with their own libraries: DOCX (python-docx), PPTX (python-pptx),
ODT/ODP (odfpy) and EPUB (its XHTML chapters, through lxml).

They are all ZIP archives, so each is checked before it is parsed: a "zip bomb" that declares
gigabytes of content, or squeezes more than :data:`MAX_RATIO` to one, is refused from its
directory, without inflating a byte. The libraries then read no more than the sizes declared
(Python's zipfile stops at them), so the check bounds the memory too.
"""

import zipfile
from collections.abc import Iterator

from desktop_app.core.kinds.base import DecodeError
from desktop_app.core.kinds.markup import html_text

# What the content of one office file may inflate to, in all, and compression beyond this
# ratio (text compresses about 5-10:1; a bomb 1000:1).
MAX_UNPACKED = 300 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 20_000

Pages = list[tuple[int, str]]  # (page or slide number, its words)


def check_archive(path: str) -> None:
    """Refuse a ZIP whose directory promises too much (see the module docstring)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise DecodeError(f"damaged document (not a readable ZIP archive: {err})") from None
    if len(members) > MAX_MEMBERS:
        raise DecodeError(f"the document holds too many parts ({len(members)})")
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if unpacked > MAX_UNPACKED:
        raise DecodeError(
            f"the document would unpack to {unpacked / 1e6:.0f} MB (the limit is "
            f"{MAX_UNPACKED / 1e6:.0f} MB; a zip bomb?)"
        )
    if unpacked > 10 * 1024 * 1024 and unpacked > MAX_RATIO * max(packed, 1):
        raise DecodeError(
            f"the document is compressed {unpacked // max(packed, 1)}:1 (a zip bomb?)"
        )


def docx_text(path: str) -> str:
    """A Word document's paragraphs and table cells, one per line, in document order."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_archive(path)
    try:
        document = docx.Document(path)
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Table):
                lines.extend(_table_lines(block))
        return "\n".join(lines)
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as err:
        raise DecodeError(f"damaged Word document ({err})") from None
    except Exception as err:  # lxml and python-docx raise their own types on bad XML
        raise DecodeError(f"damaged Word document ({type(err).__name__}: {err})") from None


def _table_lines(table: object) -> Iterator[str]:
    for row in getattr(table, "rows", ()):
        cells = dict.fromkeys(cell.text.strip() for cell in row.cells)  # merged cells repeat
        yield " | ".join(c for c in cells if c)


def pptx_slides(path: str) -> Pages:
    """A presentation's slides: their text frames, tables and notes, slide by slide."""
    import pptx

    check_archive(path)
    try:
        deck = pptx.Presentation(path)
        slides: Pages = []
        for number, slide in enumerate(deck.slides, start=1):
            lines: list[str] = []
            for shape in slide.shapes:
                if shape.has_text_frame:
                    lines.extend(p.text for p in shape.text_frame.paragraphs)
                if getattr(shape, "has_table", False):
                    lines.extend(_table_lines(shape.table))
            if slide.has_notes_slide:
                lines.append(slide.notes_slide.notes_text_frame.text)
            text = "\n".join(line for line in lines if line.strip())
            if text:
                slides.append((number, text))
        return slides
    except Exception as err:  # python-pptx and lxml raise many types on damaged files
        raise DecodeError(f"damaged presentation ({type(err).__name__}: {err})") from None


def odf_text(path: str) -> str:
    """An OpenDocument text's (or presentation's) headings and paragraphs, one per line."""
    from odf import teletype, text
    from odf.opendocument import load

    check_archive(path)
    try:
        document = load(path)
        lines = [
            teletype.extractText(element)
            for kind in (text.H, text.P)
            for element in document.getElementsByType(kind)
        ]
        return "\n".join(lines)
    except Exception as err:  # odfpy raises KeyError, XML errors and more on damaged files
        raise DecodeError(f"damaged OpenDocument file ({type(err).__name__}: {err})") from None


def epub_chapters(path: str) -> Pages:
    """An e-book's chapters (its XHTML files in reading order when the OPF says it)."""
    check_archive(path)
    try:
        with zipfile.ZipFile(path) as book:
            names = [n for n in book.namelist() if n.lower().endswith((".xhtml", ".html", ".htm"))]
            order = _spine(book) or sorted(names)
            chapters: Pages = []
            for number, name in enumerate((n for n in order if n in names), start=1):
                words = html_text(book.read(name))
                if words.strip():
                    chapters.append((number, words))
            return chapters
    except DecodeError:
        raise
    except Exception as err:
        raise DecodeError(f"damaged e-book ({type(err).__name__}: {err})") from None


def _spine(book: zipfile.ZipFile) -> list[str]:
    """The reading order the book's package file gives (empty when it cannot be found)."""
    from lxml import etree

    try:
        container = etree.fromstring(book.read("META-INF/container.xml"))
        opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        opf = etree.fromstring(book.read(opf_path))
    except (KeyError, IndexError, etree.XMLSyntaxError):
        return []
    base = opf_path.rsplit("/", 1)[0] + "/" if "/" in opf_path else ""
    items = {
        item.get("id"): base + item.get("href", "")
        for item in opf.xpath("//*[local-name()='item']")
    }
    refs = opf.xpath("//*[local-name()='itemref']/@idref")
    return [items[ref] for ref in refs if ref in items]
