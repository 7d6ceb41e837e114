"""The app's icons: the desktop theme's where it has one, else the set shipped in
``desktop_app/resources/icons`` (simple line drawings in a light-theme and a dark-theme
variant, picked by the palette in use, so they stay visible on a dark desktop)."""

from pathlib import Path

from PySide6.QtGui import QIcon, QPalette
from PySide6.QtWidgets import QApplication

ICONS_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"
# Our name -> the freedesktop theme name tried first.
THEME_NAMES = {
    "add-folder": "folder-new",
    "search-image": "image-x-generic",
    "duplicates": "edit-copy",
    "settings": "preferences-system",
    "folder": "folder",
    "offline": "network-offline",
    "filters": "view-filter",
}


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette draws light text on a dark window."""
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def bundled(name: str, palette: QPalette | None = None) -> QIcon:
    variant = "dark" if is_dark(palette) else "light"
    return QIcon(str(ICONS_DIR / variant / f"{name}.svg"))


def icon(name: str, palette: QPalette | None = None) -> QIcon:
    """The theme's icon for ``name``, or the bundled one for the palette's brightness."""
    return QIcon.fromTheme(THEME_NAMES[name], bundled(name, palette))
