"""Hits found by words read in a picture or a PDF page: the card quotes the words, the preview
draws the boxes where they were read, and a PDF shows the page that matched."""

from dataclasses import replace
from pathlib import Path

import pytest
from docgen import text_picture
from gui_support import WAIT_MS, settle_pools
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.kinds.base import Span
from desktop_app.core.ocr.reader import TextLine
from desktop_app.core.searching.ranking import Hit
from desktop_app.gui.cards import DocumentCard, ImageCard, card_for
from desktop_app.gui.preview import PreviewPane, draw_text_boxes

pytestmark = pytest.mark.usefixtures("qt_pools_idle")

RECEIPT = Hit(
    file_id=7,
    path="/nowhere/receipt.png",
    kind="image",
    score=0.8,
    relevance=0.95,
    rank=1,
    size=40_000,
    width=720,
    height=360,
    taken_at=None,
    camera=None,
    span=Span(2, 2, "line"),
    snippet="Invoice 4471",
)
LINES = [
    TextLine("Hardware Store Receipt", ((0.05, 0.1), (0.6, 0.1), (0.6, 0.2), (0.05, 0.2)), 1.0),
    TextLine("Invoice 4471", ((0.05, 0.3), (0.4, 0.3), (0.4, 0.4), (0.05, 0.4)), 1.0),
]


def test_a_picture_found_by_its_words_quotes_them() -> None:
    card = card_for(RECEIPT)
    assert isinstance(card, ImageCard)
    assert card.read_lines() == (2, 2)
    assert card.details() == {"Also": "", "Text read": "Invoice 4471"}
    assert card.place() == "words read in the picture"
    by_look = replace(RECEIPT, span=None, snippet=None)
    assert card_for(by_look).read_lines() is None and card_for(by_look).place() == ""


def test_the_matched_lines_are_boxed_boldly_and_the_others_faintly() -> None:
    blank = QImage(400, 200, QImage.Format.Format_RGB32)
    blank.fill(QColor("white"))
    drawn = draw_text_boxes(blank, LINES, (2, 2))
    matched = drawn.pixelColor(int(0.2 * 400), int(0.35 * 200))  # inside the matched box
    other = drawn.pixelColor(int(0.3 * 400), int(0.15 * 200))  # inside the other box
    assert matched != QColor("white") and matched.blue() < matched.red()  # tinted amber
    assert other == QColor("white")  # only outlined
    assert blank.pixelColor(80, 70) == QColor("white")  # the original is left alone


def test_the_preview_draws_the_boxes_of_the_matched_words(qtbot: QtBot, tmp_path: Path) -> None:
    picture = tmp_path / "receipt.png"
    text_picture(["Hardware Store Receipt", "Invoice 4471"]).save(picture)
    asked: list[int] = []

    def lines(file_id: int) -> list[TextLine]:
        asked.append(file_id)
        return LINES

    parent = QWidget()
    qtbot.addWidget(parent)
    preview = PreviewPane(lambda _file_id, _size: picture, parent, text_lines=lines)
    preview.show_hit(RECEIPT)
    qtbot.waitUntil(lambda: preview._image is not None, timeout=WAIT_MS)
    assert asked == [7]
    assert preview.fields["Text read"].text() == "Invoice 4471"
    image = preview._image
    assert image is not None
    pixel = image.pixelColor(int(0.2 * image.width()), int(0.32 * image.height()))
    assert pixel.blue() < pixel.red()  # the amber highlight over a white background
    settle_pools()


def test_a_pdf_hit_previews_the_page_that_matched(qtbot: QtBot, tmp_path: Path) -> None:
    page_picture = tmp_path / "page.jpg"
    text_picture(["Page three"]).save(page_picture)
    calls: list[tuple[int, ...]] = []

    def load(*args: int, **options: int) -> Path:
        calls.append((*args, *options.values()))
        return page_picture

    hit = replace(
        RECEIPT, path="/nowhere/handbook.pdf", kind="document", span=Span(3, 3, "page"),
        snippet="The bicycle shed is behind the kitchen",
    )  # fmt: skip
    card = card_for(hit)
    assert isinstance(card, DocumentCard)
    assert card.tile(256) is None  # the grid shows its first page, rendered
    assert card.place() == "page 3"
    parent = QWidget()
    qtbot.addWidget(parent)
    preview = PreviewPane(load, parent)
    preview.show_hit(hit)
    qtbot.waitUntil(lambda: preview._image is not None, timeout=WAIT_MS)
    assert calls == [(7, 1024, 3)]
    assert preview.fields["Page"].text() == "3"
    assert preview.fields["Passage"].text() == "The bicycle shed is behind the kitchen"
    settle_pools()
