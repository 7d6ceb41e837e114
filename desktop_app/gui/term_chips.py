"""The query's extra terms as chips: a picture (or words) with a weight, for or against.

Each chip has a +/− toggle (look for this / avoid this), a weight slider (0.1× to 3×) and a
remove button. The words typed in the search field are the main term; chips are added by
dropping or pasting pictures, *More like this*, or the + button beside the field.
"""

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from desktop_app.core.searching.terms import Term

_SLIDER_STEPS = 10  # slider units per 1.0 of weight
_MAX_WEIGHT = 3.0
_NAME_CHARS = 24


class TermChip(QFrame):
    """One term. ``term()`` reads its current sign and weight."""

    changed = Signal()
    removed = Signal()

    def __init__(self, term: Term, label: str, image: QImage | None = None) -> None:
        super().__init__()
        self._term = term
        self.setObjectName("termChip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 1, 1, 1)
        layout.setSpacing(2)
        self.sign = QToolButton()
        self.sign.setCheckable(True)
        self.sign.setChecked(term.weight < 0)
        self.sign.setAutoRaise(True)
        self.sign.setAccessibleName("Avoid this")
        self.picture = QLabel()
        if image is not None and not image.isNull():
            small = image.scaled(
                QSize(28, 28),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self.picture.setPixmap(QPixmap.fromImage(small))
            self.picture.setFixedSize(QSize(28, 28))
        else:
            self.picture.hide()
        self.name = QLabel(label if len(label) <= _NAME_CHARS else label[: _NAME_CHARS - 1] + "…")
        self.weight = QSlider(Qt.Orientation.Horizontal)
        self.weight.setRange(1, int(_MAX_WEIGHT * _SLIDER_STEPS))
        self.weight.setValue(round(min(abs(term.weight), _MAX_WEIGHT) * _SLIDER_STEPS))
        self.weight.setFixedWidth(64)
        self.weight.setAccessibleName("Weight")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Remove this from the search")
        self.close_button.setAccessibleName(f"Remove {label} from the search")
        for widget in (self.sign, self.picture, self.name, self.weight, self.close_button):
            layout.addWidget(widget)
        self._label = label
        self.sign.toggled.connect(self._update)
        self.weight.valueChanged.connect(self._update)
        self.close_button.clicked.connect(self.removed)
        self._update()

    def term(self) -> Term:
        magnitude = self.weight.value() / _SLIDER_STEPS
        return self._term.with_weight(-magnitude if self.sign.isChecked() else magnitude)

    def _update(self) -> None:
        against = self.sign.isChecked()
        self.sign.setText("−" if against else "+")
        self.sign.setToolTip(
            "Avoiding this: click to look for it instead"
            if against
            else "Looking for this: click to avoid it instead"
        )
        weight = self.weight.value() / _SLIDER_STEPS
        self.weight.setToolTip(f"Weight {weight:.1f}×")
        self.setToolTip(f"{'Avoid' if against else 'Like'} {self._label} (weight {weight:.1f}×)")
        self.setProperty("against", against)
        self.changed.emit()


class TermChips(QWidget):
    """The row of chips; ``changed`` fires on any add, remove, toggle or weight change."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._chips: list[TermChip] = []
        self.hide()

    def add(self, term: Term, label: str, image: QImage | None = None) -> TermChip:
        chip = TermChip(term, label, image)
        chip.changed.connect(self.changed)
        chip.removed.connect(lambda: self.remove(chip))
        self._chips.append(chip)
        self._layout.addWidget(chip)
        self.show()
        self.changed.emit()
        return chip

    def remove(self, chip: TermChip) -> None:
        self._chips.remove(chip)
        chip.hide()
        chip.deleteLater()
        self.setVisible(bool(self._chips))
        self.changed.emit()

    def clear(self) -> None:
        for chip in self._chips:
            chip.hide()
            chip.deleteLater()
        self._chips = []
        self.hide()

    def chips(self) -> list[TermChip]:
        return list(self._chips)

    def terms(self) -> list[Term]:
        return [chip.term() for chip in self._chips]
