"""How each kind of hit looks: its tile in the results grid and what the preview pane shows.

A hit's ``kind`` ("image", "document", later "video", "audio"…) picks a :class:`Card` from
:data:`CARDS`; the grid and the preview ask the card instead of naming kinds, so a new kind is
drawn by one new class and one entry in that dict. A kind the GUI does not know yet gets the
base :class:`Card`, a plain file card: it never crashes and never decodes a file it does not
understand.

Cards draw on the UI thread (their tiles are QPixmaps). A card that shows the file's indexed
picture draws nothing itself: it says so, and the thumbnail cache and the preview fetch the
picture in the background, as QImage, off the UI thread.
"""

import re
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from desktop_app.core.kinds.document import DocumentExtractor
from desktop_app.core.kinds.image import ImageExtractor
from desktop_app.core.searching.ranking import Hit


class Card:
    """A file of a kind the GUI cannot show: a paper card with its name and file type, and no
    picture in the preview. Subclasses draw the kinds the GUI knows."""

    # The preview rows this kind fills beyond those every hit has, in the order they show.
    DETAILS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, hit: Hit) -> None:
        self.hit = hit

    def tile(self, size: int) -> QPixmap | None:
        """The grid tile, drawn now; None when the grid shows the file's indexed picture
        instead (the thumbnail cache fetches it in the background)."""
        suffix = Path(self.hit.path).suffix.lstrip(".").upper()
        return paper_card(size, Path(self.hit.path).name, suffix or "File", large_body=True)

    def preview_text(self) -> str | None:
        """What the preview pane shows where a picture would be; None when it shows the file's
        indexed picture (loaded in the background)."""
        return "No preview for this kind of file"

    def place(self) -> str:
        """Where in the file the match sits, as a tooltip says it ("lines 3-7", "@ 01:23");
        empty when the whole file matched."""
        return self.hit.span.describe() if self.hit.span else ""

    def details(self) -> dict[str, str]:
        """The values of this kind's preview rows (named in ``DETAILS``); an empty one is
        hidden."""
        return {}


class ImageCard(Card):
    """A picture: its thumbnail in the grid and a larger copy in the preview; a picture found
    by the words read in it (OCR) quotes them, and the preview boxes where they were read."""

    DETAILS = ("Text read",)

    def tile(self, size: int) -> QPixmap | None:
        return None

    def preview_text(self) -> str | None:
        return None

    def place(self) -> str:
        return "words read in the picture" if self.hit.snippet else ""

    def details(self) -> dict[str, str]:
        return {"Text read": self.hit.snippet or ""}

    def read_lines(self) -> tuple[int, int] | None:
        """The lines read in the picture that matched (1-based, inclusive), for the preview
        to draw their boxes; None when the picture matched by its look."""
        span = self.hit.span
        if span is None or span.unit != "line" or not self.hit.snippet:
            return None
        return int(span.start), int(span.end)


class DocumentCard(Card):
    """A document: a card with its name and the matching passage, or for a PDF its first page
    rendered; the preview shows the passage and its lines, or the PDF page that matched."""

    DETAILS = ("Lines", "Page", "Passage")

    def tile(self, size: int) -> QPixmap | None:
        if self.is_pdf():
            return None  # its first page, rendered by the thumbnail cache
        return paper_card(size, Path(self.hit.path).name, self._passage())

    def preview_text(self) -> str | None:
        return None if self.is_pdf() else self._passage()

    def is_pdf(self) -> bool:
        return Path(self.hit.path).suffix.lower() == ".pdf"

    def page(self) -> int | None:
        """The page (or slide, or chapter) that matched; None for line-based documents."""
        span = self.hit.span
        return int(span.start) if span is not None and span.unit == "page" else None

    def _passage(self) -> str:
        """The matching passage as it reads: a Markdown note's markup is dropped."""
        snippet = self.hit.snippet or ""
        return plain_markdown(snippet) if Path(self.hit.path).suffix in MARKDOWN else snippet

    def place(self) -> str:
        lines = self._lines()
        if lines:
            return f"lines {lines}"
        page = self.page()
        return f"page {page}" if page else ""

    def details(self) -> dict[str, str]:
        page = self.page()
        return {
            "Lines": self._lines(),
            "Page": str(page) if page else "",
            "Passage": self._passage() if self.is_pdf() else "",
        }

    def _lines(self) -> str:
        hit = self.hit
        return f"{hit.line_start}–{hit.line_end}" if hit.line_start else ""


MARKDOWN = frozenset(DocumentExtractor.file_types["markdown"])
_HEADING = re.compile(r"(?:^|(?<=\s))#{1,6}(?:[ \t]+|$)", re.MULTILINE)  # snippets are one line
_STARS = re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1")
_UNDERSCORES = re.compile(r"(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\1(?!\w)")


def plain_markdown(text: str) -> str:
    """``text`` without heading markers and emphasis, which show as raw ``#`` and ``*`` on a
    card; an underscore inside a word (snake_case) is no emphasis and stays."""
    text = _HEADING.sub("", text)
    text = _STARS.sub(r"\2", text)
    return _UNDERSCORES.sub(r"\2", text)


CARDS: dict[str, type[Card]] = {
    ImageExtractor.name: ImageCard,
    DocumentExtractor.name: DocumentCard,
}


def card_for(hit: Hit) -> Card:
    """The card that draws ``hit``; the plain file card for a kind not in :data:`CARDS`."""
    return CARDS.get(hit.kind, Card)(hit)


def detail_rows() -> tuple[str, ...]:
    """Every kind's own preview rows, each once, in the order the kinds are registered: the
    preview makes its rows once and hides those a hit leaves empty."""
    kinds: list[type[Card]] = [Card, *CARDS.values()]
    return tuple(dict.fromkeys(name for card in kinds for name in card.DETAILS))


def paper_card(size: int, title: str, body: str, *, large_body: bool = False) -> QPixmap:
    """A paper-like square card: a bold title line, then the body text (wrapped), in the
    palette's colours. ``large_body`` sets the body as a big label (a file type) instead of
    running text."""
    palette = QApplication.palette()
    pixmap = QPixmap(QSize(size, size))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(palette.color(QPalette.ColorRole.Base))
    painter.setPen(palette.color(QPalette.ColorRole.Mid))
    painter.drawRoundedRect(QRect(4, 4, size - 8, size - 8), 10, 10)
    heading = QFont(painter.font())
    heading.setBold(True)
    heading.setPixelSize(max(10, size // 14))
    painter.setFont(heading)
    painter.setPen(palette.color(QPalette.ColorRole.Text))
    margin = size // 14
    painter.drawText(
        QRect(margin, margin, size - 2 * margin, size // 7),
        Qt.TextFlag.TextSingleLine | Qt.AlignmentFlag.AlignLeft,
        title,
    )
    text = QFont(painter.font())
    text.setBold(large_body)
    text.setPixelSize(max(12, size // 6) if large_body else max(9, size // 18))
    painter.setFont(text)
    painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
    top = margin + size // 6
    if large_body:
        where = QRect(margin, top, size - 2 * margin, size - margin - top)
        painter.drawText(where, Qt.AlignmentFlag.AlignCenter, body)
    else:
        where = QRect(margin, top, size - 2 * margin, size - 3 * margin)
        painter.drawText(where, Qt.TextFlag.TextWordWrap, body)
    painter.end()
    return pixmap
