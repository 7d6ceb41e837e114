"""The search bar: type to search (debounced), Enter to force, history, an image chip.

Typing emits a query 250 ms after the last key, so results follow the typing without a search
per keystroke; the window discards answers to queries that are no longer current. Up and Down
walk the history. An image query shows as a removable chip with its thumbnail.
"""

from PySide6.QtCore import QEvent, QObject, QSize, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

DEBOUNCE_MS = 250
HISTORY_SIZE = 50
KIND_CHOICES = (
    ("All", ("image", "document")),
    ("Images", ("image",)),
    ("Documents", ("document",)),
)


class ImageChip(QFrame):
    """The query picture, small, with a button to remove it."""

    removed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("imageChip")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 2, 2)
        self.picture = QLabel()
        self.picture.setFixedSize(QSize(28, 28))
        self.name = QLabel()
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Remove the image from the search")
        self.close_button.setAutoRaise(True)
        layout.addWidget(self.picture)
        layout.addWidget(self.name)
        layout.addWidget(self.close_button)
        self.close_button.clicked.connect(self.removed)
        self.hide()

    def show_image(self, image: QImage, name: str) -> None:
        small = image.scaled(
            28, 28, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.picture.setPixmap(QPixmap.fromImage(small))
        self.name.setText(name if len(name) <= 28 else name[:25] + "…")
        self.setToolTip(name)
        self.show()


class SearchBar(QWidget):
    text_query = Signal(str)
    image_removed = Signal()
    filters_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.chip = ImageChip()
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Describe what you are looking for, or drop a photo here…")
        self.edit.setClearButtonEnabled(True)
        self.edit.setAccessibleName("Search")
        self.kind = QComboBox()
        for label, kinds in KIND_CHOICES:
            self.kind.addItem(label, kinds)
        self.kind.setToolTip("Kind of results")
        self.folder = QComboBox()
        self.folder.setToolTip("Search in one folder only")
        self.folder.addItem("All folders", None)
        layout.addWidget(self.chip)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.kind)
        layout.addWidget(self.folder)
        self._history: list[str] = []
        self._history_model = QStringListModel(self)
        self._history_pos = -1
        completer = QCompleter(self._history_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.edit.setCompleter(completer)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit)
        self.edit.textEdited.connect(self._typed)
        self.edit.returnPressed.connect(self.submit)
        self.edit.installEventFilter(self)
        self.chip.removed.connect(self._chip_removed)
        self.kind.currentIndexChanged.connect(self.filters_changed)
        self.folder.currentIndexChanged.connect(self.filters_changed)

    # -- filters -------------------------------------------------------------------------------

    def kinds(self) -> tuple[str, ...]:
        kinds: tuple[str, ...] = self.kind.currentData()
        return kinds

    def folders(self) -> list[str] | None:
        folder = self.folder.currentData()
        return [folder] if folder else None

    def set_folders(self, folders: list[str]) -> None:
        current = self.folder.currentData()
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem("All folders", None)
        for path in folders:
            self.folder.addItem(path.rstrip("/").rsplit("/", 1)[-1] or path, path)
            self.folder.setItemData(self.folder.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        found = self.folder.findData(current)
        self.folder.setCurrentIndex(max(0, found))
        self.folder.blockSignals(False)

    # -- text ----------------------------------------------------------------------------------

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def show_image(self, image: QImage, name: str) -> None:
        self.chip.show_image(image, name)
        self.edit.clear()

    def clear_image(self) -> None:
        self.chip.hide()

    def submit(self) -> None:
        """Enter: search now and remember the query."""
        self._timer.stop()
        text = self.text()
        if text:
            self._remember(text)
        self._emit()

    def _typed(self, _text: str) -> None:
        self._history_pos = -1
        if self.chip.isVisible() and self.text():
            self.chip.hide()  # typing replaces the image query
        self._timer.start()

    def _emit(self) -> None:
        self.text_query.emit(self.text())

    def _chip_removed(self) -> None:
        self.chip.hide()
        self.image_removed.emit()

    def _remember(self, text: str) -> None:
        if text in self._history:
            self._history.remove(text)
        self._history.insert(0, text)
        del self._history[HISTORY_SIZE:]
        self._history_model.setStringList(self._history)

    def history(self) -> list[str]:
        return list(self._history)

    def set_history(self, items: list[str]) -> None:
        self._history = [str(i) for i in items][:HISTORY_SIZE]
        self._history_model.setStringList(self._history)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            popup = self.edit.completer().popup()
            popup_open = popup is not None and popup.isVisible()
            if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not popup_open:
                step = 1 if event.key() == Qt.Key.Key_Up else -1
                self._walk_history(step)
                return True
        return super().eventFilter(watched, event)

    def _walk_history(self, step: int) -> None:
        if not self._history:
            return
        self._history_pos = max(-1, min(len(self._history) - 1, self._history_pos + step))
        text = "" if self._history_pos < 0 else self._history[self._history_pos]
        self.edit.setText(text)
        self._timer.start()
