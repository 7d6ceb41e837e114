"""Searching in the window: typing, dropping and pasting pictures, results, preview, filters."""

import gc
from pathlib import Path
from typing import Any

import pytest
from gui_support import (
    WAIT_MS,
    WindowFactory,
    chip_names,
    drop,
    drop_event,
    menu_action,
    offscreen_popups,
    restart,
    result_paths,
    search_for,
    settle_pools,
    wait_indexed,
)
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QGuiApplication,
    QImage,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu
from pytestqt.qtbot import QtBot

from desktop_app.core.searching.ranking import Hit
from desktop_app.core.searching.terms import Query
from desktop_app.gui import tasks
from desktop_app.gui.dropping import read_mime
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.results import HitRole, ResultsModel
from desktop_app.gui.thumbnails import ThumbnailCache, placeholder

# Every test here must end with no Qt pool job still running.
pytestmark = pytest.mark.usefixtures("qt_pools_idle")


def test_typing_searches_after_a_pause_and_enter_records_history(
    qtbot: QtBot,
    open_window: WindowFactory,
    window: MainWindow,
    library: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Typing runs a query once the typing stops; Enter searches at once and remembers the
    query; Up and Down walk the remembered queries; history survives a restart."""
    searches: list[str] = []
    run_query = window.engine.query

    def counted(query: Query, *args: Any, **kwargs: Any) -> list[Hit]:
        searches.append(" + ".join(t.label for t in query.terms))
        return run_query(query, *args, **kwargs)

    monkeypatch.setattr(window.engine, "query", counted)
    edit = window.search_bar.edit
    qtbot.keyClicks(edit, "lasagne")
    assert window.search_bar.history() == []  # typing alone does not remember
    qtbot.waitUntil(lambda: window.results_model.rowCount() > 0, timeout=WAIT_MS)
    assert searches == ["lasagne"]  # one search once the typing stopped, not one per key
    assert window.results_stack.currentIndex() == 1
    assert Path(result_paths(window)[0]).name == "lasagne-recipe.md"
    assert window.search_bar.history() == []

    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.search_bar.history() == ["lasagne"]

    edit.clear()
    qtbot.keyClicks(edit, "tax office")
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: Path(result_paths(window)[0]).name == "tax-return.txt", timeout=WAIT_MS)
    assert window.search_bar.history() == ["tax office", "lasagne"]

    edit.clear()
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "tax office"
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "lasagne"
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert edit.text() == "tax office"
    qtbot.waitUntil(lambda: Path(result_paths(window)[0]).name == "tax-return.txt", timeout=WAIT_MS)

    assert restart(open_window, window, tmp_path).search_bar.history() == [
        "tax office",
        "lasagne",
    ]


def test_a_single_remembered_query_survives_a_restart(
    qtbot: QtBot,
    open_window: WindowFactory,
    window: MainWindow,
    library: Path,
    tmp_path: Path,
) -> None:
    """One query searched with Enter is offered again (Up) after the app restarts."""
    search_for(qtbot, window, "lasagne")
    assert restart(open_window, window, tmp_path).search_bar.history() == ["lasagne"]


def test_dropped_pictures_become_terms_of_the_query(
    qtbot: QtBot, window: MainWindow, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A picture file dropped on the window becomes a chip and the query (it comes first, as
    itself); File → Search by image… and more drops add more pictures; words typed join them;
    removing the chips goes back to the words alone."""
    photo = library / "photos" / "photo005.jpg"
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        assert drop(window, photo)
    assert chip_names(window) == ["photo005.jpg"]
    assert result_paths(window)[0] == str(photo)
    assert {Path(p).suffix for p in result_paths(window)} == {".jpg"}  # pictures only

    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *_args: (str(library / "photos/photo003.jpg"), "")
    )
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        menu_action(window, "Search by &image…").trigger()
    assert chip_names(window) == ["photo005.jpg", "photo003.jpg"]
    assert {Path(p).name for p in result_paths(window)[:2]} == {"photo005.jpg", "photo003.jpg"}

    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.keyClicks(window.search_bar.edit, "mountain trail")
    assert [t.kind for t in window.search_bar.query().terms] == ["text", "image", "image"]
    assert {Path(p).suffix for p in result_paths(window)} == {".jpg"}  # mixed: pictures only

    for chip in window.search_bar.chips.chips():
        with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
            qtbot.mouseClick(chip.close_button, Qt.MouseButton.LeftButton)
    assert chip_names(window) == [] and not window.search_bar.chips.isVisible()
    assert Path(result_paths(window)[0]).name == "mountain-hike.md"
    window.search_bar.edit.clear()
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Return)
    assert window.results_model.rowCount() == 0
    assert window.results_stack.currentWidget() is window.browse_page  # the library


def test_pasted_picture_becomes_the_query(qtbot: QtBot, window: MainWindow, library: Path) -> None:
    """Ctrl+V in the search field with a picture on the clipboard searches by that picture;
    the chip says "Pasted image" and the field stays empty."""
    other = library / "photos" / "photo002.jpg"
    QGuiApplication.clipboard().setImage(QImage(str(other)))
    # Ctrl+V reaches the paste handler inside an event filter, where an exception in it takes
    # the whole process down instead of failing this test; so read the clipboard once here.
    read_mime(QGuiApplication.clipboard().mimeData())
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert chip_names(window) == ["Pasted image"]
    assert window.search_bar.edit.text() == ""  # the picture was not pasted as text
    assert result_paths(window)[0] == str(other)
    (chip,) = window.search_bar.chips.chips()
    qtbot.mouseClick(chip.close_button, Qt.MouseButton.LeftButton)
    assert chip_names(window) == []

    # A picture dragged from a browser carries the image data, not a file.
    mime = QMimeData()
    mime.setImageData(QImage(str(other)))
    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        QApplication.sendEvent(window, drop_event(window, mime))
    assert chip_names(window) == ["Pasted image"]
    assert result_paths(window)[0] == str(other)


def test_selected_result_shows_in_preview(qtbot: QtBot, window: MainWindow, library: Path) -> None:
    """Selecting a picture shows its name, size and the picture itself; Copy path copies it;
    More like this searches by it and leaves it out of the results."""
    window.search_bar.filter_bar.kind.setCurrentIndex(1)  # Images
    search_for(qtbot, window, "a colourful drawing")
    view, model, preview = window.results_view, window.results_model, window.preview
    first = model.index(0)
    hit: Hit = first.data(HitRole)
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(first).center()
    )
    assert view.currentIndex().row() == 0
    assert preview.hit() == hit
    assert preview.fields["Name"].text() == Path(hit.path).name
    assert preview.fields["Dimensions"].text() == "160 × 120"
    assert preview.fields["Folder"].text() == str(library / "photos")
    qtbot.waitUntil(lambda: not preview.picture.pixmap().isNull(), timeout=WAIT_MS)

    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)  # arrow keys move through the grid
    second = model.index(1)
    assert view.currentIndex() == second
    assert preview.hit() == second.data(HitRole)
    selected = preview.hit()
    assert selected is not None
    qtbot.waitUntil(lambda: not preview.picture.pixmap().isNull(), timeout=WAIT_MS)

    qtbot.mouseClick(preview.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == selected.path

    qtbot.mouseClick(preview.similar_button, Qt.MouseButton.LeftButton)
    assert chip_names(window) == [f"Like {Path(selected.path).name}"]
    qtbot.waitUntil(lambda: selected.path not in result_paths(window), timeout=WAIT_MS)
    assert len(result_paths(window)) == 7  # every other picture
    assert preview.hit() is None  # the selection is not among the results


def test_document_result_previews_its_passage(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """A document hit shows as a card in the grid and its matching passage in the preview."""
    window.search_bar.filter_bar.kind.setCurrentIndex(2)  # Documents
    search_for(qtbot, window, "camping by a lake")
    view, model, preview = window.results_view, window.results_model, window.preview
    assert Path(result_paths(window)[0]).name == "mountain-hike.md"
    tile = model.index(0).data(Qt.ItemDataRole.DecorationRole).toImage()
    assert tile != placeholder(view.zoom()).toImage()  # cards are drawn at once
    view.setCurrentIndex(model.index(0))
    assert "alpine lake" in preview.picture.text()
    assert preview.fields["Lines"].text() == "1–1"
    assert preview.fields["Dimensions"].text() == ""
    assert preview.fields["Name"].text() == "mountain-hike.md"


def open_context_menu(window: MainWindow, row: int) -> QMenu:
    """Right-click a result; the menu that pops up."""
    view = window.results_view
    before = set(window.findChildren(QMenu))
    view.customContextMenuRequested.emit(view.visualRect(window.results_model.index(row)).center())
    [menu] = [m for m in window.findChildren(QMenu) if m not in before]
    assert menu.isVisible()
    return menu


def choose(menu: QMenu, text: str) -> None:
    """Click a menu item: the menu closes and the item's action runs."""
    action = next(a for a in menu.actions() if a.text() == text)
    menu.close()
    action.trigger()


@offscreen_popups
def test_context_menu_copies_the_path_and_finds_more_like_it(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """Right-clicking a result offers More like this, Open, Show in folder and Copy path."""
    window.search_bar.filter_bar.kind.setCurrentIndex(1)
    search_for(qtbot, window, "shapes")
    hit = window.results_model.hit(2)
    menu = open_context_menu(window, 2)
    assert [a.text() for a in menu.actions()] == [
        "More like this",
        "Open",
        "Show in folder",
        "Copy path",
    ]
    choose(menu, "Copy path")
    assert QGuiApplication.clipboard().text() == hit.path

    with qtbot.waitSignal(window.searcher.results, timeout=WAIT_MS):
        choose(open_context_menu(window, 2), "More like this")
    assert hit.path not in result_paths(window)
    assert chip_names(window) == [f"Like {Path(hit.path).name}"]


@offscreen_popups
def test_context_menus_do_not_pile_up(qtbot: QtBot, window: MainWindow, library: Path) -> None:
    """Each right-click's menu goes away once it is closed."""
    search_for(qtbot, window, "shapes")
    for _ in range(3):
        open_context_menu(window, 0).close()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(window.findChildren(QMenu)) <= 3  # the menu bar's File and Help, and one popup


def live_relays() -> int:
    """Answer relays of background calls (searches, thumbnails, previews) still in memory."""
    gc.collect()
    return sum(type(o) is tasks._Relay for o in gc.get_objects())


@offscreen_popups  # the search field's history pops up as the queries are typed
def test_answered_background_calls_leave_nothing_behind(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """Once searches are answered, their relays are gone; a long session does not pile them up."""
    search_for(qtbot, window, "lasagne")
    settle_pools(window)
    before = live_relays()
    for text in ("alpine lake", "tax receipts", "pasta", "mountain", "invoices"):
        search_for(qtbot, window, text)
    settle_pools(window)
    qtbot.waitUntil(lambda: live_relays() <= before, timeout=3000)


def wheel(widget: Any, delta: int, modifiers: Qt.KeyboardModifier) -> None:
    """Turn the mouse wheel over the middle of ``widget`` (120: one notch away from you)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre)),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_ctrl_wheel_zooms_and_thumbnails_load_lazily(
    qtbot: QtBot,
    open_window: WindowFactory,
    window: MainWindow,
    library: Path,
    tmp_path: Path,
) -> None:
    """Thumbnails replace the placeholders as they load; Ctrl+wheel zooms the grid (within its
    limits, remembered across restarts); a plain wheel does not zoom."""
    window.search_bar.filter_bar.kind.setCurrentIndex(1)
    search_for(qtbot, window, "a photo")
    view, model = window.results_view, window.results_model
    size = view.zoom()

    def decoration(row: int) -> QImage:
        return model.index(row).data(Qt.ItemDataRole.DecorationRole).toImage()

    qtbot.waitUntil(
        lambda: all(decoration(r) != placeholder(view.zoom()).toImage() for r in range(8)),
        timeout=WAIT_MS,
    )

    wheel(view.viewport(), 120, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == size + 16
    assert view.iconSize().width() == size + 16
    assert decoration(0).width() == size + 16
    wheel(view.viewport(), -120, Qt.KeyboardModifier.ControlModifier)
    wheel(view.viewport(), -120, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == size - 16
    for _ in range(20):
        wheel(view.viewport(), 120, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == 256
    wheel(view.viewport(), -120, Qt.KeyboardModifier.NoModifier)
    assert view.zoom() == 256

    assert restart(open_window, window, tmp_path).results_view.zoom() == 256


def fake_hits(count: int, first_id: int = 1_000_000) -> list[Hit]:
    """Hits for pictures that are not in any library (ids far above the real ones)."""
    return [
        Hit(
            file_id=first_id + i,
            path=f"/nowhere/fake-{i:05d}.jpg",
            kind="image",
            score=0.3,
            relevance=0.5,
            rank=i + 1,
            size=1000,
            width=100,
            height=80,
            taken_at=None,
            camera=None,
        )
        for i in range(count)
    ]


def test_ten_thousand_results_scroll_to_the_end(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """A grid of 10,000 hits lays out and scrolls to the last one; only the tiles that were
    shown ask for a thumbnail (which for files not in the library fails quietly)."""
    hits = fake_hits(10_000)
    window.searcher.results.emit(hits)
    view, model = window.results_view, window.results_model
    assert model.rowCount() == 10_000
    assert window.results_stack.currentIndex() == 1
    last = model.index(9_999)

    def at_the_end() -> bool:
        view.scrollToBottom()
        return view.viewport().rect().intersects(view.visualRect(last))

    qtbot.waitUntil(at_the_end, timeout=WAIT_MS)
    view.viewport().repaint()
    view.setCurrentIndex(last)
    assert window.preview.hit() == hits[-1]
    qtbot.waitUntil(lambda: window.thumbnails.failed(hits[-1].file_id), timeout=WAIT_MS)
    settle_pools(window)
    requested = sum(window.thumbnails.failed(h.file_id) for h in hits)
    assert 0 < requested < 1_000
    tile = last.data(Qt.ItemDataRole.DecorationRole).toImage()
    assert tile == placeholder(view.zoom(), failed=True).toImage()


def test_models_pass_the_model_tester(
    qtmodeltester: Any, qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    """ResultsModel, RootsModel and FailedModel, filled with real data, follow Qt's rules."""
    (library / "broken.jpg").write_bytes(b"not a picture")
    qtbot.mouseClick(window.library_panel.rescan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.library_panel.failed.rowCount() == 1, timeout=WAIT_MS)
    wait_indexed(qtbot, window, indexed=11)
    search_for(qtbot, window, "lasagne")

    assert window.results_model.rowCount() == 11
    qtmodeltester.check(window.results_model)
    qtmodeltester.check(window.library_panel.roots)
    failed = window.library_panel.failed
    qtmodeltester.check(failed)
    assert "broken.jpg" in failed.index(0).data()

    cache = ThumbnailCache(lambda _file_id, _size: None, window)  # deleted with the window
    standalone = ResultsModel(cache, window)
    standalone.set_hits(fake_hits(50))
    qtmodeltester.check(standalone)
    standalone.set_hits([])
    qtmodeltester.check(standalone)
    cache.pool.waitForDone(WAIT_MS)
    QApplication.processEvents()
