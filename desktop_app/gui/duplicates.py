"""The "Find duplicates" window: groups of copies side by side, so the person can decide.

A slider picks how alike pictures must be (exact copies → near-identical → similar shots). The
scan runs in a background task with a progress bar; moving the slider cancels a scan still
running and starts a new one. The list on the left holds the groups, largest first; the right
shows the chosen group's pictures side by side, the suggested one to keep first, each with its
size, resolution, date and path. The window only reveals files and copies their paths: it
never moves or deletes anything.
"""

import math
import os
import time
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
)
from PySide6.QtGui import QCloseEvent, QGuiApplication, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine import Engine
from desktop_app.core.progress import Progress
from desktop_app.core.searching.duplicates import (
    LEVEL_LABELS,
    LEVELS,
    Group,
    Member,
    Report,
    copy_list,
)
from desktop_app.gui.preview import CONFIRM_MS, reveal_failed, show_in_folder
from desktop_app.gui.tasks import GeneratorTask
from desktop_app.gui.thumbnails import ThumbnailCache, placeholder, standing_square
from desktop_app.gui.widgets import Banner
from desktop_app.humanize import human_bytes

ItemRole = Qt.ItemDataRole.UserRole + 1  # the Group or Member of a row
Index = QModelIndex | QPersistentModelIndex
GROUP_ICON, MEMBER_ICON = 64, 180


def alike(cosine: float) -> str:
    """A cosine as a percentage, rounded down: 0.99996 is "99.9%", only 1.0 is "100.0%"."""
    return f"{math.floor(cosine * 1000) / 10:.1f}%"


class _PictureListModel(QAbstractListModel):
    """Rows that each show one picture (by file id) from the shared thumbnail cache.

    Every row's picture is a square of the icon size, its placeholder included: a row keeps
    its size when the thumbnail arrives, so captions never overlap while the view waits.
    """

    def __init__(self, thumbnails: ThumbnailCache, icon_size: int, parent: QObject) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._icon_size = icon_size
        self._items: list[Any] = []
        self._squares: dict[int, QPixmap] = {}  # file id -> its thumbnail in the icon square
        thumbnails.ready.connect(self._thumbnail_ready)

    def _file_id(self, item: Any) -> int:
        raise NotImplementedError

    def _text(self, item: Any) -> str:
        raise NotImplementedError

    def _tooltip(self, item: Any) -> str:
        raise NotImplementedError

    def set_items(self, items: Sequence[Any]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self._squares.clear()
        self.endResetModel()

    def items(self) -> list[Any]:
        return list(self._items)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(item)
        if role == Qt.ItemDataRole.DecorationRole:
            return QIcon(self._square(self._file_id(item)))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item)
        if role == ItemRole:
            return item
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _square(self, file_id: int) -> QPixmap:
        square = self._squares.get(file_id)
        if square is not None:
            return square
        pixmap = self._thumbnails.picture(file_id)
        if pixmap is None:
            return placeholder(self._icon_size, self._thumbnails.failed(file_id))
        square = self._squares[file_id] = standing_square(pixmap, self._icon_size)
        return square

    def _thumbnail_ready(self, file_id: int) -> None:
        for row, item in enumerate(self._items):
            if self._file_id(item) == file_id:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class GroupsModel(_PictureListModel):
    """One row per group, shown by its keeper's picture."""

    def _file_id(self, item: Group) -> int:
        return item.members[0].file_id

    def _text(self, item: Group) -> str:
        kind = "identical files" if item.exact else f"≥ {alike(item.similarity)} alike"
        return f"{len(item.members)} pictures · {kind}\n{os.path.basename(item.members[0].path)}"

    def _tooltip(self, item: Group) -> str:
        return "\n".join(m.path for m in item.members)


class MembersModel(_PictureListModel):
    """The pictures of one group, the suggested keeper first."""

    def _file_id(self, item: Member) -> int:
        return item.file_id

    def _text(self, item: Member) -> str:
        if item.keep:
            verdict = "★ Suggested to keep"
        elif item.exact_copy:
            verdict = "Identical file"
        else:
            verdict = f"{alike(item.similarity)} alike"
        pixels = f"{item.width} × {item.height}" if item.width else "size unknown"
        taken = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.taken_at))
        return (
            f"{verdict}\n{os.path.basename(item.path)}\n{pixels} · {human_bytes(item.size)}\n"
            f"{taken}\n{os.path.dirname(item.path)}"
        )

    def _tooltip(self, item: Member) -> str:
        return item.path


class DuplicatesDialog(QDialog):
    """Non-modal: the person can keep searching in the main window while it is open."""

    def __init__(self, engine: Engine, thumbnails: ThumbnailCache, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find duplicates")
        self.resize(1100, 700)
        self._engine = engine
        self.levels: tuple[float, ...] = tuple(LEVELS.values())  # cosine per slider stop
        self._task: GeneratorTask | None = None
        self._unrevealed = ""  # the path a failed Reveal offers to copy
        self.groups_model = GroupsModel(thumbnails, GROUP_ICON, self)
        self.members_model = MembersModel(thumbnails, MEMBER_ICON, self)
        self._build()
        parent.installEventFilter(self)  # the main window closing stops a scan
        self.scan()

    def _build(self) -> None:
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, len(LEVELS) - 1)
        self.slider.setValue(list(LEVELS).index("near"))
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setAccessibleName("How alike pictures must be")
        self.slider.valueChanged.connect(self.scan)
        stops = QGridLayout()
        stops.addWidget(QLabel("How alike:"), 0, 0)
        stops.addWidget(self.slider, 0, 1, 1, 3)
        aligns = (Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignHCenter)
        for column, label in enumerate(LEVEL_LABELS.values(), start=1):
            text = QLabel(label.capitalize())
            text.setAlignment(aligns[column - 1] if column <= 2 else Qt.AlignmentFlag.AlignRight)
            stops.addWidget(text, 1, column)
        self.summary = QLabel()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.groups_view = QListView()
        self.groups_view.setModel(self.groups_model)
        self.groups_view.setIconSize(QSize(GROUP_ICON, GROUP_ICON))
        self.groups_view.setUniformItemSizes(True)
        self.groups_view.setAccessibleName("Duplicate groups")
        self.groups_view.selectionModel().currentChanged.connect(self._group_chosen)
        self.members_view = QListView()
        self.members_view.setModel(self.members_model)
        self.members_view.setViewMode(QListView.ViewMode.IconMode)
        self.members_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.members_view.setMovement(QListView.Movement.Static)
        self.members_view.setWordWrap(True)
        self.members_view.setIconSize(QSize(MEMBER_ICON, MEMBER_ICON))
        self.members_view.setGridSize(QSize(MEMBER_ICON + 60, MEMBER_ICON + 110))
        self.members_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.members_view.setAccessibleName("Pictures in the group")
        splitter = QSplitter()
        splitter.addWidget(self.groups_view)
        splitter.addWidget(self.members_view)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 800])
        self.reveal_button = QPushButton("Reveal")
        self.reveal_button.setToolTip("Show the selected picture in its folder")
        self.copy_button = QPushButton("Copy list")
        self.copy_button.setToolTip("Copy the paths of this group's pictures")
        self.copy_all_button = QPushButton("Copy all groups")
        self.copy_all_button.setToolTip("Copy every group's paths, a blank line between groups")
        close = QPushButton("Close")
        self.reveal_button.clicked.connect(self.reveal)
        self.copy_button.clicked.connect(lambda: self._copy([self.current_group()]))
        self.copy_all_button.clicked.connect(lambda: self._copy(self.groups_model.items()))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        note = QLabel("Nothing is ever deleted: decide, then tidy up in your file manager.")
        note.setEnabled(False)
        buttons.addWidget(note, 1)
        for button in (self.reveal_button, self.copy_button, self.copy_all_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(stops)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(splitter, 1)
        self.notice = Banner(self)
        self.notice.action_clicked.connect(lambda _action: self._copy_path(self._unrevealed))
        layout.addWidget(self.notice)
        layout.addLayout(buttons)
        self._show([])

    # -- scanning ------------------------------------------------------------------------------

    def threshold(self) -> float:
        return self.levels[self.slider.value()]

    def scan(self) -> None:
        """(Re)start the scan at the slider's level; a scan still running is cancelled."""
        self.stop()
        threshold = self.threshold()
        task = GeneratorTask(
            lambda control: self._engine.duplicate_scan(threshold, None, control), self
        )
        task.progress.connect(lambda item, t=task: self._progress(t, item))
        task.failed.connect(lambda message, t=task: self._failed(t, message))
        task.finished.connect(lambda t=task: self._finished(t))
        self._task = task
        self.progress.setRange(0, 0)
        self.progress.show()
        self.summary.setText("Looking for duplicates…")
        task.begin()

    def running(self) -> bool:
        return self._task is not None

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task.wait()
            self._task = None
            self.progress.hide()

    def _progress(self, task: GeneratorTask, item: Progress | Report) -> None:
        if task is not self._task:
            return  # a cancelled scan's last words
        if isinstance(item, Report):
            self._show(item.groups)
        elif item.total:
            self.progress.setRange(0, item.total)
            self.progress.setValue(item.done)

    def _failed(self, task: GeneratorTask, message: str) -> None:
        if task is self._task:
            self.summary.setText(message)

    def _finished(self, task: GeneratorTask) -> None:
        if task is self._task:
            self._task = None
            self.progress.hide()
        task.deleteLater()

    def _show(self, groups: list[Group]) -> None:
        self.groups_model.set_items(groups)
        self.members_model.set_items([])
        stop = list(LEVEL_LABELS.values())[self.slider.value()]
        pictures = sum(len(g.members) for g in groups)
        self.summary.setText(
            f"{len(groups)} groups, {pictures} pictures ({stop})"
            if groups
            else f"No duplicates ({stop})."
        )
        for button in (self.reveal_button, self.copy_button, self.copy_all_button):
            button.setEnabled(bool(groups))
        if groups:
            self.groups_view.setCurrentIndex(self.groups_model.index(0))

    # -- the chosen group ----------------------------------------------------------------------

    def current_group(self) -> Group | None:
        index = self.groups_view.currentIndex()
        return index.data(ItemRole) if index.isValid() else None

    def _group_chosen(self) -> None:
        group = self.current_group()
        self.members_model.set_items(group.members if group else [])

    def reveal(self) -> None:
        index = self.members_view.currentIndex()
        member = index.data(ItemRole) if index.isValid() else None
        group = self.current_group()
        if member is None and group is not None:
            member = group.members[0]
        if member is not None and not show_in_folder(member.path):
            self._unrevealed = member.path
            self.notice.show_message(reveal_failed(member.path), error=True, actions=("Copy path",))

    def _copy(self, groups: Sequence[Group | None]) -> None:
        chosen = [g for g in groups if g is not None]
        if chosen:
            QGuiApplication.clipboard().setText(copy_list(chosen))
            self.notice.show_message("Paths copied", timeout_ms=CONFIRM_MS)

    def _copy_path(self, path: str) -> None:
        QGuiApplication.clipboard().setText(path)
        self.notice.show_message("Path copied", timeout_ms=CONFIRM_MS)

    # -- closing -------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Close:
            self.stop()
        return super().eventFilter(watched, event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)


def open_duplicates(
    engine: Engine, thumbnails: ThumbnailCache, window: QWidget
) -> DuplicatesDialog:
    """Show the duplicates window that belongs to ``window`` (one each; closing ``window``
    stops its scan), scanning afresh if it was closed: the library may have changed since."""
    dialog = window.findChild(DuplicatesDialog)
    if dialog is None:
        dialog = DuplicatesDialog(engine, thumbnails, window)
    elif not dialog.isVisible() and not dialog.running():
        dialog.scan()
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
