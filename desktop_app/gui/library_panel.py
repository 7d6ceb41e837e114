"""The library panel: folders with their counts and watch state, and the files that failed."""

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.db.records import FileRecord
from desktop_app.core.engine import RootStatus
from desktop_app.core.indexing.watcher import WatchMode
from desktop_app.gui.icons import icon

Index = QModelIndex | QPersistentModelIndex
PathRole = Qt.ItemDataRole.UserRole + 1


class RootsModel(QAbstractListModel):
    """One row per library folder: its path, counts, and whether it is watched live."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._roots: list[RootStatus] = []
        self._modes: dict[str, WatchMode] = {}

    def set_roots(self, roots: list[RootStatus], modes: dict[str, WatchMode]) -> None:
        self.beginResetModel()
        self._roots, self._modes = list(roots), dict(modes)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._roots)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._roots):
            return None
        root = self._roots[index.row()]
        mode = self._modes.get(root.path)
        if role == Qt.ItemDataRole.DecorationRole:  # an offline folder's badge
            return icon("offline" if not root.online else "folder")
        if role == Qt.ItemDataRole.DisplayRole:
            counts = f"{root.indexed} indexed · {root.pending} pending · {root.failed} failed"
            total = root.indexed + root.pending + root.failed
            if root.pending and total:  # this folder's own progress
                counts += f" · {100 * (total - root.pending) // total}% done"
            if root.searchable:  # a later pass (text in pictures, speech) still to come
                counts += f"\n{root.indexed + root.searchable} searchable, words still being read"
            state = ""
            if not root.online:
                state = "\nOffline: entries kept until it returns"
            elif mode is not None and mode.mode == "polling":
                state = f"\nNo live updates: {mode.reason}"
            return f"{root.path}\n{counts}{state}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return mode.reason if mode is not None and mode.reason else root.path
        if role == PathRole:
            return root.path
        return None


class FailedModel(QAbstractListModel):
    """Files that could not be indexed, with the reason."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._files: list[FileRecord] = []

    def set_files(self, files: list[FileRecord]) -> None:
        self.beginResetModel()
        self._files = list(files)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._files)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._files):
            return None
        record = self._files[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{record.path}\n{record.error}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return record.error
        if role == PathRole:
            return record.path
        return None


class LibraryPanel(QWidget):
    """Folders (add, remove, re-scan) above the list of failed files."""

    add_requested = Signal()
    remove_requested = Signal(str)
    rescan_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.roots = RootsModel(self)
        self.failed = FailedModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        title = QLabel("<b>Folders</b>")
        layout.addWidget(title)
        self.roots_view = QListView()
        self.roots_view.setModel(self.roots)
        self.roots_view.setWordWrap(True)
        self.roots_view.setAlternatingRowColors(True)
        self.roots_view.setAccessibleName("Library folders")
        layout.addWidget(self.roots_view, 3)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QToolButton()
        self.remove_button.setText("Remove")
        self.remove_button.setToolTip("Forget this folder (its files are not touched)")
        self.rescan_button = QToolButton()
        self.rescan_button.setText("Re-scan")
        for widget in (self.add_button, self.remove_button, self.rescan_button):
            buttons.addWidget(widget)
        buttons.addStretch()
        layout.addLayout(buttons)
        self.failed_label = QLabel()
        layout.addWidget(self.failed_label)
        self.failed_view = QListView()
        self.failed_view.setModel(self.failed)
        self.failed_view.setWordWrap(True)
        self.failed_view.setAccessibleName("Files that could not be indexed")
        layout.addWidget(self.failed_view, 2)
        self.add_button.clicked.connect(self.add_requested)
        self.rescan_button.clicked.connect(self.rescan_requested)
        self.remove_button.clicked.connect(self._remove_selected)
        self.roots_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def update_state(
        self, roots: list[RootStatus], modes: dict[str, WatchMode], failed: list[FileRecord]
    ) -> None:
        selected = self.selected_root()
        self.roots.set_roots(roots, modes)
        self.failed.set_files(failed)
        self.failed_label.setText(
            f"<b>Could not index</b> ({len(failed)})" if failed else "<b>Could not index</b>: none"
        )
        for row in range(self.roots.rowCount()):
            if self.roots.index(row).data(PathRole) == selected:
                self.roots_view.setCurrentIndex(self.roots.index(row))
        self._update_buttons()

    def selected_root(self) -> str | None:
        index = self.roots_view.currentIndex()
        return index.data(PathRole) if index.isValid() else None

    def _remove_selected(self) -> None:
        path = self.selected_root()
        if path:
            self.remove_requested.emit(path)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self.roots_view.currentIndex().isValid())
