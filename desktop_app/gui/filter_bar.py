"""The collapsible filter bar: kind, folder, file type, orientation, dates, size, camera, where a
picture came from (camera or screen) and whether a file has text.

Every change emits ``changed``; the window re-runs the query with :meth:`FilterBar.filters`,
which the engine applies inside the search (see :mod:`desktop_app.core.searching.filters`).
"""

from datetime import datetime

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.kinds import registry
from desktop_app.core.searching.filters import Filters
from desktop_app.gui.widgets import readable

# The kinds and file types come from the kinds registry, so a new kind appears here by itself.
KIND_CHOICES = (
    ("All", registry.names()),
    *((kind.label[:1].upper() + kind.label[1:], (kind.name,)) for kind in registry.kinds()),
)
_TYPE_LABELS = {
    "jpeg": "JPEG",
    "webp": "WebP",
    "text": "Text",
    "markdown": "Markdown",
    "webm": "WebM",
    "mpeg": "MPEG",
    "raw": "RAW",
}
TYPE_CHOICES = (
    ("Any type", None),
    *((_TYPE_LABELS.get(name, name.upper()), name) for name in registry.file_types()),
)
ORIENTATION_CHOICES = (
    ("Any shape", None),
    ("Landscape", "landscape"),
    ("Portrait", "portrait"),
    ("Square", "square"),
)
ORIGIN_CHOICES = (
    ("Any source", None),
    ("Camera photos", "camera"),
    ("Screenshots", "screenshot"),
)
_ANY_CAMERA = "Any camera"


class FilterBar(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        rows = QVBoxLayout(self)  # two rows: in one, the bar widened the window past 1024 px
        rows.setContentsMargins(0, 0, 0, 0)
        first, second = QHBoxLayout(), QHBoxLayout()
        rows.addLayout(first)
        rows.addLayout(second)
        self.kind = _combo(KIND_CHOICES, "Kind of results")
        self.folder = _combo((("All folders", None),), "Search in one folder only")
        self.file_type = _combo(TYPE_CHOICES, "File type")
        self.orientation = _combo(ORIENTATION_CHOICES, "Orientation")
        self.use_from, self.date_from = _date_filter("From", "Taken on or after this day")
        self.use_to, self.date_to = _date_filter("To", "Taken on or before this day")
        self.min_side = QSpinBox()
        self.min_side.setRange(0, 20000)
        self.min_side.setSingleStep(100)
        self.min_side.setSuffix(" px")
        self.min_side.setSpecialValueText("Any size")
        self.min_side.setToolTip("Smallest side at least this many pixels")
        self.camera = _combo(((_ANY_CAMERA, None),), "Camera")
        self.origin = _combo(
            ORIGIN_CHOICES,
            "Camera photos (the camera recorded an exposure) or screenshots and graphics",
        )
        self.has_text = QCheckBox("Has text")
        self.has_text.setToolTip("Only files with words in them: documents, text read in pictures")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove every filter")
        for combo in (self.kind, self.folder, self.file_type, self.orientation, self.camera):
            first.addWidget(combo)
        first.addStretch(1)
        size_label = QLabel("Size")
        size_label.setBuddy(self.min_side)
        for widget in (
            self.use_from,
            self.date_from,
            self.use_to,
            self.date_to,
            size_label,
            self.min_side,
            self.origin,
            self.has_text,
            self.clear_button,
        ):
            second.addWidget(widget)
        second.addStretch(1)
        for combo in (self.folder, self.camera):  # long paths and names must not widen it
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(14)
        for combo in (
            self.kind,
            self.folder,
            self.file_type,
            self.orientation,
            self.camera,
            self.origin,
        ):
            combo.currentIndexChanged.connect(self.changed)
        for box in (self.use_from, self.use_to, self.has_text):
            box.toggled.connect(self.changed)
        self.use_from.toggled.connect(self.date_from.setEnabled)
        self.use_to.toggled.connect(self.date_to.setEnabled)
        self.date_from.dateChanged.connect(self._date_changed)
        self.date_to.dateChanged.connect(self._date_changed)
        self.min_side.editingFinished.connect(self.changed)
        self.min_side.valueChanged.connect(self._min_side_stepped)
        self.clear_button.clicked.connect(self.clear)
        self.hide()

    def _date_changed(self) -> None:
        if self.use_from.isChecked() or self.use_to.isChecked():
            self.changed.emit()

    def _min_side_stepped(self) -> None:
        if not self.min_side.hasFocus():  # arrows or wheel: apply now; typing waits for Enter
            self.changed.emit()

    # -- reading -----------------------------------------------------------------------------

    def kinds(self) -> tuple[str, ...]:
        kinds: tuple[str, ...] = self.kind.currentData()
        return kinds

    def filters(self) -> Filters:
        folder = self.folder.currentData()
        file_type = self.file_type.currentData()
        return Filters(
            after=_day_start(self.date_from.date()) if self.use_from.isChecked() else None,
            before=_day_start(self.date_to.date().addDays(1)) if self.use_to.isChecked() else None,
            folders=(folder,) if folder else (),
            types=(file_type,) if file_type else (),
            orientation=self.orientation.currentData(),
            min_side=self.min_side.value() or None,
            camera=self.camera.currentData(),
            origin=self.origin.currentData(),
            has_text=self.has_text.isChecked(),
        )

    def active_count(self) -> int:
        """How many filters narrow the results (the kind choice included)."""
        f = self.filters()
        values = (
            f.after,
            f.before,
            f.folders,
            f.types,
            f.orientation,
            f.min_side,
            f.camera,
            f.origin,
            f.has_text,
        )
        return sum(1 for v in values if v) + (self.kind.currentIndex() != 0)

    # -- changing ----------------------------------------------------------------------------

    def clear(self) -> None:
        widgets = (
            self.kind,
            self.folder,
            self.file_type,
            self.orientation,
            self.camera,
            self.origin,
        )
        for widget in (*widgets, self.use_from, self.use_to, self.has_text, self.min_side):
            widget.blockSignals(True)
        for combo in widgets:
            combo.setCurrentIndex(0)
        self.use_from.setChecked(False)
        self.use_to.setChecked(False)
        self.has_text.setChecked(False)
        self.date_from.setEnabled(False)
        self.date_to.setEnabled(False)
        self.min_side.setValue(0)
        for widget in (*widgets, self.use_from, self.use_to, self.has_text, self.min_side):
            widget.blockSignals(False)
        self.changed.emit()

    def set_folders(self, folders: list[str]) -> None:
        _refill(
            self.folder,
            "All folders",
            [(f.rstrip("/").rsplit("/", 1)[-1] or f, f) for f in folders],
        )

    def set_cameras(self, cameras: list[str]) -> None:
        _refill(self.camera, _ANY_CAMERA, [(readable(c), c) for c in cameras if readable(c)])


def _combo(choices: tuple[tuple[str, object], ...], tip: str) -> QComboBox:
    combo = QComboBox()
    for label, data in choices:
        combo.addItem(label, data)
    combo.setToolTip(tip)
    combo.setAccessibleName(tip)
    return combo


def _date_filter(label: str, tip: str) -> tuple[QCheckBox, QDateEdit]:
    box = QCheckBox(label)
    box.setToolTip(tip)
    edit = QDateEdit(QDate.currentDate())
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setEnabled(False)
    edit.setToolTip(tip)
    return box, edit


def _refill(combo: QComboBox, first: str, items: list[tuple[str, str]]) -> None:
    """Replace the choices, keeping the current one when it is still offered."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(first, None)
    for label, data in items:
        combo.addItem(label, data)
        combo.setItemData(combo.count() - 1, data, Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)
    if combo.currentData() != current:
        combo.currentIndexChanged.emit(combo.currentIndex())


def _day_start(day: QDate) -> float:
    return datetime(day.year(), day.month(), day.day()).timestamp()
