"""The main toolbar: the File menu's everyday commands as icons with their names beside them
(a name is clearer than an icon alone, and is what a screen reader says). The icons follow
the palette: a switch between light and dark redraws them."""

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QToolBar, QWidget

from desktop_app.gui.icons import icon


class MainToolBar(QToolBar):
    def __init__(self, window: QMainWindow, actions: dict[str, QAction]) -> None:
        super().__init__("Main toolbar", window)
        self.setObjectName("main-toolbar")
        self.setMovable(False)
        self.setIconSize(QSize(20, 20))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setAccessibleName("Main toolbar")
        self._actions = actions
        for action in actions.values():
            self.addAction(action)
            button = self.widgetForAction(action)
            if button is not None:
                button.setAccessibleName(action.text().replace("&", "").rstrip("…"))
        self._set_icons()
        window.installEventFilter(self)

    def _set_icons(self, palette: QPalette | None = None) -> None:
        for name, action in self._actions.items():
            action.setIcon(icon(name, palette or self.palette()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self._set_icons(QApplication.palette())
        elif event.type() == QEvent.Type.PaletteChange and isinstance(watched, QWidget):
            self._set_icons(watched.palette())
        return False
