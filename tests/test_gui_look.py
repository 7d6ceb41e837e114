"""How the window looks and reads: a toolbar of named icons that follow a dark palette, the
library view drawn in the palette's colours, names on every icon-only button, tiles that
announce their file, and the keyboard path from the search field into the pictures."""

from pathlib import Path

import pytest
from gui_support import search_for
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from desktop_app.gui.icons import is_dark
from desktop_app.gui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("qt_pools_idle")


def _dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.Base, "#17181a"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Button, "#2b2c2f"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
        (QPalette.ColorRole.Highlight, "#8ab4f8"),
        (QPalette.ColorRole.Mid, "#5f6368"),
        (QPalette.ColorRole.PlaceholderText, "#9aa0a6"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


def _lightness_range(image: QImage) -> tuple[int, int]:
    """The darkest and lightest opaque pixels' lightness."""
    values = [
        image.pixelColor(x, y).lightness()
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() > 200
    ]
    return min(values), max(values)


@pytest.fixture
def dark(qapp: QApplication):  # type: ignore[no-untyped-def]
    light = qapp.palette()
    qapp.setPalette(_dark_palette())
    yield
    qapp.setPalette(light)


def test_toolbar_icons_have_names_and_follow_the_palette(
    qtbot: QtBot, qapp: QApplication, window: MainWindow
) -> None:
    actions = window.toolbar.actions()
    assert [a.text() for a in actions] == [
        "&Add folder…",
        "Search by &image…",
        "Find &duplicates…",
        "&Settings…",
    ]
    for action in actions:
        assert not action.icon().isNull()
        assert window.toolbar.widgetForAction(action).accessibleName()
    light_icon = actions[3].icon().pixmap(24, 24).toImage()
    assert _lightness_range(light_icon)[0] < 100  # dark strokes on a light window
    light = qapp.palette()
    qapp.setPalette(_dark_palette())
    try:
        qtbot.wait(20)  # the palette change reaches the widgets as an event
        assert is_dark()
        dark_icon = window.toolbar.actions()[3].icon().pixmap(24, 24).toImage()
        assert _lightness_range(dark_icon)[1] > 180  # light strokes on a dark window
    finally:
        qapp.setPalette(light)


@pytest.mark.usefixtures("dark")
def test_library_view_follows_a_dark_palette(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    qtbot.waitUntil(lambda: window.browse_page.model.rowCount() == 8)
    view = window.browse_view
    image = view.viewport().grab().toImage()
    header = image.copy(0, 0, image.width(), view.header_height())
    darkest, lightest = _lightness_range(header)
    assert darkest < 60 and lightest > 180  # light month name on the dark base


def test_every_icon_only_button_has_a_name(qtbot: QtBot, window: MainWindow, library: Path) -> None:
    window.search_bar.set_text("lasagne")
    window.search_bar.keep_words()  # a chip, with its ✕
    for button in window.findChildren(QAbstractButton):
        if button.objectName().startswith("qt_") or isinstance(button.parent(), QLineEdit):
            continue  # Qt's own (toolbar overflow, the field's clear button), named by Qt
        if not any(c.isalpha() for c in button.text()):
            name = button.accessibleName()
            assert name, f"{button.objectName()} {button.parent()!r} {button.text()!r} unnamed"


def test_tiles_announce_their_file_and_match(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    qtbot.waitUntil(lambda: window.browse_page.model.rowCount() == 8)
    said = window.browse_page.model.index(0).data(Qt.ItemDataRole.AccessibleTextRole)
    assert said.startswith("photo") and ".jpg, " in said
    search_for(qtbot, window, "lasagne")
    said = window.results_model.index(0).data(Qt.ItemDataRole.AccessibleTextRole)
    assert said.endswith("% match") and "." in said


def test_tab_goes_from_the_search_field_to_the_pictures(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    window.search_bar.edit.setFocus()
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Tab)
    assert window.browse_view.hasFocus()
    search_for(qtbot, window, "lasagne")
    window.search_bar.edit.setFocus()
    qtbot.keyClick(window.search_bar.edit, Qt.Key.Key_Tab)
    assert window.results_view.hasFocus()


def test_library_panel_shows_an_offline_badge(
    qtbot: QtBot, window: MainWindow, library: Path
) -> None:
    import shutil

    roots = window.library_panel.roots
    online = roots.index(0).data(Qt.ItemDataRole.DecorationRole)
    assert not online.isNull()
    moved = library.with_name("unplugged")
    shutil.move(library, moved)
    try:
        window.refresh_library()
        assert "Offline" in roots.index(0).data()
        offline = roots.index(0).data(Qt.ItemDataRole.DecorationRole)
        assert offline.pixmap(24, 24).toImage() != online.pixmap(24, 24).toImage()
    finally:
        shutil.move(moved, library)
        window.refresh_library()


def test_metadata_and_checks_read_as_words(qtbot: QtBot, window: MainWindow) -> None:
    """A camera name padded with NUL bytes is shown without boxes; a precision check says
    passed or refused and how fast, not its cosine figures."""
    from desktop_app.gui.settings_dialog import plain_check

    bar = window.search_bar.filter_bar
    bar.set_cameras(["Canon EOS 5D\x00\x00\x00", "\x00"])
    assert [bar.camera.itemText(i) for i in range(bar.camera.count())] == [
        "Any camera",
        "Canon EOS 5D",
    ]
    check = (
        "bf16: passed — cosine to fp32 mean 0.99996, min 0.99990; error 0.4% of the gap "
        "between pictures; top-10 overlap 100%; 1.85× fp32 speed"
    )
    assert plain_check(check) == "bf16: passed, 1.85× as fast as the reference"


def test_landscape_and_portrait_tiles_end_on_the_same_line(qtbot: QtBot) -> None:
    """Pictures stand on the tile's bottom edge, right above the caption, whatever their
    shape (a centred landscape floated above its name, out of line with portraits)."""
    from PySide6.QtGui import QPixmap

    from desktop_app.gui.thumbnails import standing_square

    for width, height in ((200, 100), (100, 200)):
        picture = QPixmap(width, height)
        picture.fill(QColor("red"))
        tile = standing_square(picture, 100).toImage()
        assert tile.pixelColor(50, 99).alpha() == 255  # the bottom row is picture
    landscape = standing_square(QPixmap(200, 100), 100).toImage()
    assert landscape.pixelColor(50, 10).alpha() == 0  # the band is above, not below
