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

import json
import re
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPixmap, QPolygonF
from PySide6.QtWidgets import QApplication

from desktop_app.core.kinds.audio import AudioExtractor
from desktop_app.core.kinds.base import clock
from desktop_app.core.kinds.document import DocumentExtractor
from desktop_app.core.kinds.image import ImageExtractor
from desktop_app.core.kinds.raw import RawExtractor
from desktop_app.core.kinds.video import VideoExtractor
from desktop_app.core.searching.ranking import Hit


class Card:
    """A file of a kind the GUI cannot show: a paper card with its name and file type, and no
    picture in the preview. Subclasses draw the kinds the GUI knows."""

    # The preview rows this kind fills beyond those every hit has, in the order they show.
    DETAILS: ClassVar[tuple[str, ...]] = ()
    # Whether the library view (no query) shows files of this kind: pictures, later videos.
    IN_TIMELINE: ClassVar[bool] = False

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

    def moment(self) -> float | None:
        """The moment whose frame is the hit's picture (a video's matched frame), else None."""
        return None

    def plays_from(self) -> float | None:
        """Where the preview's player starts (a video's or a recording's matching moment);
        None: the file is not played in the app."""
        return self.moment()

    def decorate(self, picture: QPixmap) -> QPixmap:
        """The fetched picture as the grid shows it (a video's gets a play badge and its
        time); drawn on the UI thread when the picture arrives."""
        return picture


class ImageCard(Card):
    """A picture: its thumbnail in the grid and a larger copy in the preview. A RAW photo and
    its camera's JPEG are one hit, whose preview names the other file; a picture found by the
    words read in it (OCR) quotes them, and the preview boxes where they were read."""

    DETAILS = ("Also", "Text read")
    IN_TIMELINE = True

    def tile(self, size: int) -> QPixmap | None:
        return None

    def preview_text(self) -> str | None:
        return None

    def place(self) -> str:
        return "words read in the picture" if self.hit.snippet else ""

    def details(self) -> dict[str, str]:
        return {
            "Also": ", ".join(Path(p).name for p in self.hit.companions),
            "Text read": self.hit.snippet or "",
        }

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


class AudioCard(Card):
    """A recording: a card with its name, the words said where it matched and a badge with
    the moment; the preview shows those words and when they were said."""

    DETAILS = ("Said at",)

    def tile(self, size: int) -> QPixmap | None:
        pixmap = paper_card(size, Path(self.hit.path).name, self._words())
        moment = self._moment()
        if moment:
            time_badge(pixmap, f"♪ {moment}")
        return pixmap

    def preview_text(self) -> str | None:
        moment = self._moment()
        words = self._words()
        return f"{moment}  “{words}”" if moment else words

    def details(self) -> dict[str, str]:
        span = self.hit.span
        if span is None or span.unit != "second":
            return {}
        return {"Said at": f"{clock(span.start)}–{clock(span.end)}"}

    def plays_from(self) -> float | None:
        """Where the matching words start."""
        span = self.hit.span
        return span.start if span is not None and span.unit == "second" else None

    def _moment(self) -> str:
        start = self.plays_from()
        return clock(start) if start is not None else ""

    def _words(self) -> str:
        return " ".join((self.hit.snippet or "No words were heard in it").split())


def time_badge(pixmap: QPixmap, text: str) -> None:
    """A rounded dark label with ``text`` in the bottom right corner of a tile."""
    size = pixmap.width()
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(max(9, size // 16))
    painter.setFont(font)
    width = painter.fontMetrics().horizontalAdvance(text) + size // 12
    height = painter.fontMetrics().height() + size // 40
    box = QRect(size - width - size // 12, size - height - size // 12, width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(Qt.GlobalColor.black)
    painter.setOpacity(0.7)
    painter.drawRoundedRect(box, height // 3, height // 3)
    painter.setOpacity(1.0)
    painter.setPen(Qt.GlobalColor.white)
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()


class VideoCard(Card):
    """A video: the matched frame as its tile, with a play badge and the moment; the preview
    shows that frame, the video's filmstrip, and plays from the moment."""

    DETAILS = ("Moment", "Length", "Video", "Skipped")
    IN_TIMELINE = True

    def tile(self, size: int) -> QPixmap | None:
        return None

    def preview_text(self) -> str | None:
        return None

    def moment(self) -> float | None:
        hit = self.hit
        if hit.moment is not None:
            return hit.moment
        return hit.span.start if hit.span and hit.span.unit == "second" else 0.0

    def place(self) -> str:
        span = self.hit.span
        if span is None or span.unit != "second":
            return ""
        start, end = clock(span.start), clock(span.end)
        return f"@ {start}" + (f"–{end}" if end != start else "")

    def details(self) -> dict[str, str]:
        media = self._media()
        codec = str(media.get("codec") or "").upper()
        fps = media.get("fps")
        frames = media.get("frames")
        facts = [
            codec,
            f"{float(fps):.3g} fps" if isinstance(fps, int | float) else "",
            f"{frames} frame{'s' if frames != 1 else ''} searchable" if frames else "",
            "with sound" if media.get("sound") else "",
        ]
        skipped = media.get("skipped") or []
        return {
            "Moment": self.place().removeprefix("@ "),
            "Length": clock(self.hit.duration) if self.hit.duration else "",
            "Video": " · ".join(f for f in facts if f),
            "Skipped": "; ".join(str(s) for s in skipped) if isinstance(skipped, list) else "",
        }

    def _media(self) -> dict[str, object]:
        try:
            media = json.loads(self.hit.media or "{}")
        except ValueError:
            return {}
        return media if isinstance(media, dict) else {}

    def decorate(self, picture: QPixmap) -> QPixmap:
        moment = self.moment()
        return play_badge(picture, clock(moment) if moment is not None else "")


def play_badge(picture: QPixmap, time_text: str) -> QPixmap:
    """A copy of ``picture`` with a round play badge in its lower left corner and ``time_text``
    in a dark pill in its lower right one (legible on any frame)."""
    out = QPixmap(picture)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = min(out.width(), out.height())
    badge = max(14, side // 5)
    margin = max(3, side // 28)
    top = out.height() - badge - margin
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 150))
    painter.drawEllipse(QRect(margin, top, badge, badge))
    painter.setBrush(QColor(255, 255, 255, 235))
    third = badge / 3
    painter.drawPolygon(
        QPolygonF(
            [
                QPointF(margin + third * 1.15, top + third * 0.8),
                QPointF(margin + third * 1.15, top + badge - third * 0.8),
                QPointF(margin + badge - third * 0.75, top + badge / 2),
            ]
        )
    )
    if time_text:
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(max(9, badge * 3 // 5))
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(time_text) + badge // 2
        pill = QRect(out.width() - width - margin, top + badge // 8, width, badge * 3 // 4)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, time_text)
    painter.end()
    return out


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
    RawExtractor.name: ImageCard,
    DocumentExtractor.name: DocumentCard,
    AudioExtractor.name: AudioCard,
    VideoExtractor.name: VideoCard,
}


def card_for(hit: Hit) -> Card:
    """The card that draws ``hit``; the plain file card for a kind not in :data:`CARDS`."""
    return CARDS.get(hit.kind, Card)(hit)


def timeline_kinds() -> tuple[str, ...]:
    """The kinds the library view shows when there is no query."""
    return tuple(kind for kind, card in CARDS.items() if card.IN_TIMELINE)


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
