"""Cards: each kind of hit draws its own tile in the grid and its own preview; a kind the GUI
does not know yet gets a plain file card, and a new kind is one class and one entry."""

import time
from dataclasses import replace
from pathlib import Path

import pytest
from gui_support import WAIT_MS, search_for, settle_pools
from PySide6.QtCore import QModelIndex, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.kinds.base import Span
from desktop_app.core.searching.ranking import Hit
from desktop_app.gui import cards
from desktop_app.gui.cards import (
    CARDS,
    Card,
    DocumentCard,
    ImageCard,
    card_for,
    paper_card,
    plain_markdown,
)
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.preview import PreviewPane
from desktop_app.gui.results import ZOOM_DEFAULT, ZOOM_MAX, ZOOM_MIN
from desktop_app.gui.thumbnails import placeholder

pytestmark = pytest.mark.usefixtures("qt_pools_idle")

VIDEO = Hit(
    file_id=2_000_000,  # in no library
    path="/nowhere/holiday.glb",
    kind="model3d",  # not a kind this GUI knows (a 3D model)
    score=0.3,
    relevance=0.5,
    rank=1,
    size=4_000_000,
    width=None,
    height=None,
    taken_at=None,
    camera=None,
)


def tile(index: QModelIndex) -> QImage:
    return index.data(Qt.ItemDataRole.DecorationRole).toImage()


def click(qtbot: QtBot, window: MainWindow, row: int) -> None:
    """Click a result in the grid (scrolled into view first)."""
    view = window.results_view
    index = window.results_model.index(row)
    view.scrollTo(index)
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center()
    )
    assert view.currentIndex() == index


def test_every_kind_draws_its_card_in_the_grid_and_the_preview(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """Pictures show their thumbnail in the grid and a larger copy in the preview; documents a
    drawn card, and their passage and lines in the preview."""
    search_for(qtbot, window, "a walk by the lake")
    model, preview = window.results_model, window.preview
    hits = model.hits()
    # The library holds every known kind but videos and recordings (tests/test_video_gui.py and
    # tests/test_speech_gui.py draw those) and RAW photos, which are drawn as pictures are.
    assert CARDS["raw"] is ImageCard
    assert {hit.kind for hit in hits} == set(CARDS) - {"video", "audio", "raw"}
    empty = placeholder(window.results_view.zoom()).toImage()
    for row, hit in enumerate(hits):
        card = card_for(hit)
        assert type(card) is CARDS[hit.kind]
        click(qtbot, window, row)
        assert preview.hit() == hit
        assert preview.fields["Name"].text() == Path(hit.path).name
        if isinstance(card, DocumentCard):
            assert tile(model.index(row)) != empty  # drawn at once, nothing to fetch
            assert preview.picture.text() == card.preview_text() and hit.snippet
            assert not preview.picture.text().startswith("#")  # "# Lasagne" reads "Lasagne"
            assert preview.picture.pixmap().isNull()
            assert preview.fields["Lines"].text() == f"{hit.line_start}–{hit.line_end}"
            assert preview.form.isRowVisible(preview.fields["Lines"])
            tooltip = model.index(row).data(Qt.ItemDataRole.ToolTipRole)
            assert f", lines {hit.line_start}–{hit.line_end}\n" in tooltip
        else:
            assert isinstance(card, ImageCard)
            qtbot.waitUntil(lambda r=row: tile(model.index(r)) != empty, timeout=WAIT_MS)
            qtbot.waitUntil(lambda: not preview.picture.pixmap().isNull(), timeout=WAIT_MS)
            assert preview.fields["Dimensions"].text() == "160 × 120"
            assert not preview.form.isRowVisible(preview.fields["Lines"])
    settle_pools(window)


def test_an_unknown_kind_gets_a_plain_file_card(qtbot: QtBot, window: MainWindow) -> None:
    """A hit of a kind the GUI does not know (a 3D model, say) shows as a
    file card with its name and type; nothing is decoded for it and nothing breaks."""
    window.searcher.results.emit([VIDEO])
    model, view, preview = window.results_model, window.results_view, window.preview
    assert type(card_for(VIDEO)) is Card
    drawn = tile(model.index(0))
    assert drawn != placeholder(view.zoom()).toImage()
    assert drawn != placeholder(view.zoom(), failed=True).toImage()
    document = replace(VIDEO, kind="document", snippet="Some text")
    assert card_for(VIDEO).tile(64).toImage() != card_for(document).tile(64).toImage()
    assert model.index(0).data(Qt.ItemDataRole.ToolTipRole).startswith("/nowhere/holiday.glb\n")

    click(qtbot, window, 0)
    assert preview.hit() == VIDEO
    assert preview.picture.text() == "No preview for this kind of file"
    assert preview.fields["Name"].text() == "holiday.glb"
    assert preview.fields["Size"].text() and preview.form.isRowVisible(preview.fields["Size"])
    assert not preview.form.isRowVisible(preview.fields["Lines"])
    settle_pools(window)
    assert not window.thumbnails.failed(VIDEO.file_id)  # never fetched, so never failed
    assert preview.picture.text() == "No preview for this kind of file"


class _VideoCard(Card):
    """A stand-in for a new kind's card: a row of its own."""

    DETAILS = ("At",)

    def details(self) -> dict[str, str]:
        return {"At": "01:23"}


def test_a_new_kind_is_one_class_and_one_entry(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registering a card draws its kind with it, its own preview rows included."""
    monkeypatch.setitem(cards.CARDS, "model3d", _VideoCard)
    parent = QWidget()
    qtbot.addWidget(parent)
    preview = PreviewPane(lambda _file_id, _size: None, parent)
    preview.show_hit(VIDEO)
    assert type(card_for(VIDEO)) is _VideoCard
    assert preview.fields["At"].text() == "01:23"
    assert preview.form.isRowVisible(preview.fields["At"])
    preview.show_hit(replace(VIDEO, kind="document", span=Span(2, 4, "line"), snippet="x"))
    assert not preview.form.isRowVisible(preview.fields["At"])
    assert preview.fields["Lines"].text() == "2–4"
    QApplication.processEvents()


def test_open_and_show_in_folder_say_so_when_the_desktop_cannot(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no application for a file (openUrl answers False; Qt only warns on stderr) the
    pane says what failed and offers its path; Copy path confirms that it copied."""
    opened: list[str] = []

    def no_handler(url: QUrl) -> bool:
        opened.append(url.toLocalFile())
        return False

    monkeypatch.setattr(QDesktopServices, "openUrl", no_handler)
    parent = QWidget()
    qtbot.addWidget(parent)
    preview = PreviewPane(lambda _file_id, _size: None, parent)
    parent.show()
    preview.show_hit(VIDEO)
    assert not preview.notice.isVisible()

    qtbot.mouseClick(preview.open_button, Qt.MouseButton.LeftButton)
    assert opened == [VIDEO.path]
    assert preview.notice.isVisible()
    assert preview.notice.text().startswith("Could not open holiday.glb: no application")
    (copy,) = [b for b in preview.notice.findChildren(QPushButton) if b.text() == "Copy path"]
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == VIDEO.path
    assert preview.notice.text() == "Path copied"

    qtbot.mouseClick(preview.reveal_button, Qt.MouseButton.LeftButton)
    assert opened[-1] == "/nowhere"
    assert preview.notice.text().startswith("Could not show the folder of holiday.glb")
    preview.show_hit(None)  # the message was about the hit no longer shown
    assert not preview.notice.isVisible()

    QGuiApplication.clipboard().clear()
    preview.show_hit(VIDEO)
    qtbot.mouseClick(preview.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == VIDEO.path
    assert preview.notice.isVisible() and preview.notice.text() == "Path copied"
    qtbot.waitUntil(lambda: not preview.notice.isVisible(), timeout=WAIT_MS)  # goes by itself


def test_a_long_file_name_is_elided_so_the_match_line_stays_in_the_tile(
    qtbot: QtBot, window: MainWindow
) -> None:
    """A 120-character name is cut in its middle (the extension stays) to the tile's width,
    at every zoom, so the tile still shows how well it matched."""
    name = "holiday-" + "x" * 108 + ".glb"
    assert len(name) == 120
    window.searcher.results.emit([replace(VIDEO, path=f"/nowhere/{name}")])
    model, view = window.results_model, window.results_view
    index = model.index(0)
    for zoom in (ZOOM_MIN, ZOOM_DEFAULT, ZOOM_MAX):
        view.set_zoom(zoom)
        QApplication.processEvents()
        shown, match = index.data(Qt.ItemDataRole.DisplayRole).split("\n")
        assert shown.startswith("holiday") and shown.endswith(".glb") and "…" in shown
        assert match == "50% match"
        assert view.fontMetrics().horizontalAdvance(shown) <= view.gridSize().width()
        assert view.visualRect(index).height() <= view.gridSize().height()
    assert index.data(Qt.ItemDataRole.AccessibleTextRole).startswith(name)  # read out whole
    assert index.data(Qt.ItemDataRole.ToolTipRole).startswith(f"/nowhere/{name}\n")


def test_the_date_row_says_taken_only_for_an_exif_date(qtbot: QtBot, tmp_path: Path) -> None:
    """The core falls back on the file's modification time when a picture has no EXIF date,
    and always uses it for a note: the preview then names the row "Modified"."""
    picture, note = tmp_path / "scan.jpg", tmp_path / "todo.md"
    modified = 1_700_000_000.0  # each file's modification time, as the library recorded it
    parent = QWidget()
    qtbot.addWidget(parent)
    preview = PreviewPane(lambda _file_id, _size: None, parent)
    dated = replace(
        VIDEO,
        path=str(picture),
        kind="image",
        taken_at=modified - 86_400 * 300,
        modified_at=modified,
    )
    for hit, name in (
        (dated, "Taken"),  # an EXIF date: not the file's modification time
        (replace(dated, taken_at=modified), "Modified"),  # no EXIF: the core took the mtime
        (
            replace(
                VIDEO, path=str(note), kind="document", taken_at=modified, modified_at=modified
            ),
            "Modified",
        ),
    ):
        preview.show_hit(hit)
        assert preview.row_name("Taken").text() == name
        assert preview.fields["Taken"].text() == time.strftime(
            "%Y-%m-%d %H:%M", time.localtime(hit.taken_at)
        )
    settle_pools()


def test_markdown_markup_is_dropped_from_a_note_card_and_its_preview(qtbot: QtBot) -> None:
    """A Markdown note's heading markers and emphasis read as text on its card and in the
    preview; a plain text file's passage is shown as written."""
    snippet = "# Lasagne ## Sauce Layer **pasta** with *tomato* and _cheese_; see my_notes, C#."
    plain = "Lasagne Sauce Layer pasta with tomato and cheese; see my_notes, C#."
    assert plain_markdown(snippet) == plain
    assert plain_markdown("# Notes\n\n### To do\n- **milk**") == "Notes\n\nTo do\n- milk"
    note = replace(VIDEO, path="/nowhere/lasagne.md", kind="document", snippet=snippet)
    card = card_for(note)
    assert card.preview_text() == plain
    drawn = card.tile(256)
    assert drawn is not None
    assert drawn.toImage() == paper_card(256, "lasagne.md", plain).toImage()
    parent = QWidget()
    qtbot.addWidget(parent)
    preview = PreviewPane(lambda _file_id, _size: None, parent)
    preview.show_hit(note)
    assert preview.picture.text() == plain
    text = replace(note, path="/nowhere/lasagne.txt")
    assert card_for(text).preview_text() == snippet
