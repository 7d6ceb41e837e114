"""Documents for tests, written by the tests' own code: PDFs (with a text layer, scanned, or
hostile), Word, PowerPoint, OpenDocument, EPUB, HTML and RTF files."""

import zipfile
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
)


def font(size: int, which: int = 0) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType font of this machine, or Pillow's own scalable one where there is none."""
    try:
        return ImageFont.truetype(FONT_FILES[which % len(FONT_FILES)], size)
    except OSError:
        return ImageFont.load_default(size)


def text_picture(
    lines: list[str],
    *,
    size: int = 32,
    which: int = 0,
    dark: bool = False,
    angle: float = 0.0,
    canvas: tuple[int, int] = (720, 360),
) -> Image.Image:
    """Lines of text drawn on a plain background (light, or dark with light letters)."""
    paper, ink = ((25, 30, 40), (240, 240, 230)) if dark else ((250, 250, 245), (20, 20, 20))
    picture = Image.new("RGB", canvas, paper)
    draw = ImageDraw.Draw(picture)
    for number, line in enumerate(lines):
        draw.text((36, 36 + number * int(size * 1.8)), line, fill=ink, font=font(size, which))
    if angle:
        picture = picture.rotate(
            angle, expand=True, fillcolor=paper, resample=Image.Resampling.BICUBIC
        )
    return picture


def pdf_bytes(
    pages: list[list[str]], *, streams: list[bytes] | None = None, trailer: bytes = b""
) -> bytes:
    """A PDF whose pages show these lines in Helvetica (a real text layer). ``streams``
    replaces the pages' content streams (already encoded, with their /Filter entries);
    ``trailer`` adds entries to the trailer (an /Encrypt dictionary)."""
    count = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
    ]
    font_ref = 3 + 2 * count
    for index, lines in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * index} 0 R"
            f" /Resources << /Font << /F1 {font_ref} 0 R >> >> >>".encode()
        )
        if streams is not None:
            objects.append(streams[index])
        else:
            body = (
                b"BT /F1 14 Tf 72 720 Td 18 TL "
                + b" ".join(
                    b"(" + line.replace("(", "").replace(")", "").encode("latin-1") + b") '"
                    for line in lines
                )
                + b" ET"
            )
            objects.append(b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def pdf_bomb(inflated: int = 400_000_000, layers: int = 3) -> bytes:
    """One page whose content stream is compressed ``layers`` times over: about a kilobyte
    that inflates to ``inflated`` bytes of drawing operators."""
    line = b"BT /F1 12 Tf 72 700 Td (bomb) Tj ET\n"
    data = line * (inflated // len(line))
    for _ in range(layers):
        data = zlib.compress(data, 9)
    filters = b"[" + b" ".join([b"/FlateDecode"] * layers) + b"]"
    stream = b"<< /Length %d /Filter %s >>\nstream\n" % (len(data), filters) + data + b"\nendstream"
    return pdf_bytes([[]], streams=[stream])


def encrypted_pdf() -> bytes:
    """A PDF locked by the standard security handler with a user password nobody knows."""
    key = b"<" + b"11" * 32 + b">"
    return pdf_bytes(
        [["Top secret plans"]],
        trailer=b"/Encrypt << /Filter /Standard /V 1 /R 2 /O "
        + key
        + b" /U "
        + key
        + b" /P -44 >> /ID [<"
        + b"ab" * 16
        + b"> <"
        + b"ab" * 16
        + b">] ",
    )


def scanned_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF of pictures of text (no text layer), as a scanner writes it."""
    pictures = [text_picture(lines, canvas=(850, 1100), size=30) for lines in pages]
    pictures[0].save(path, "PDF", resolution=100, save_all=True, append_images=pictures[1:])
    return path


def docx_file(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(str(path))
    return path


def pptx_file(path: Path, slides: list[str]) -> Path:
    import pptx

    deck = pptx.Presentation()
    for title in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
    deck.save(str(path))
    return path


def odt_file(path: Path, paragraphs: list[str]) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    for paragraph in paragraphs:
        document.text.addElement(P(text=paragraph))
    document.save(str(path))
    return path


def epub_file(path: Path, chapters: list[str]) -> Path:
    container = (
        '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/book.opf"/></rootfiles></container>'
    )
    items = "".join(f'<item id="c{i}" href="c{i}.xhtml"/>' for i in range(len(chapters)))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = f'<package xmlns="http://www.idpf.org/2007/opf"><manifest>{items}</manifest><spine>{spine}</spine></package>'
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr("META-INF/container.xml", container)
        book.writestr("OEBPS/book.opf", opf)
        for i, text in enumerate(chapters):
            book.writestr(
                f"OEBPS/c{i}.xhtml",
                f"<html><body><h1>Chapter {i + 1}</h1><p>{text}</p></body></html>",
            )
    return path


def zip_bomb_docx(path: Path, inflated: int = 400 * 1024 * 1024) -> Path:
    """A .docx whose document part inflates to ``inflated`` bytes (a zip bomb)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            block = b"\x00" * (1 << 20)
            for _ in range(inflated // len(block)):
                part.write(block)
    return path
