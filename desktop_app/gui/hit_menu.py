"""The right-click menu of a tile, in the results and in the library view alike."""

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QMenu, QWidget

from desktop_app.core.searching.ranking import Hit
from desktop_app.gui.preview import open_file, show_in_folder
from desktop_app.gui.results import HitRole


def pop_up_hit_menu(
    view: QAbstractItemView,
    position: QPoint,
    parent: QWidget,
    more_like_this: Callable[[Hit], None],
) -> None:
    """The menu of the tile at ``position`` (none on empty space); it deletes itself on close,
    so menus do not pile up under ``parent``."""
    index = view.indexAt(position)
    if not index.isValid():
        return
    hit: Hit = index.data(HitRole)
    menu = QMenu(parent)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    menu.addAction("More like this", lambda: more_like_this(hit))
    menu.addAction("Open", lambda: open_file(hit.path))
    menu.addAction("Show in folder", lambda: show_in_folder(hit.path))
    menu.addAction("Copy path", lambda: QGuiApplication.clipboard().setText(hit.path))
    menu.popup(view.viewport().mapToGlobal(position))
