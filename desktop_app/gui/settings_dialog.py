"""Settings: picture model, speed/precision, data folder, exclusions, hidden files, threads,
and where vectors are kept (see backend_section)."""

import os
import re
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from desktop_app.gui.backend_section import BackendFields, BackendRows

IMPORT_CHOICE = "__import__"
PRECISION_CHOICES = (
    ("auto", "Automatic (fastest path that matches fp32)"),
    ("fp32", "fp32 (reference, slowest)"),
    ("bf16", "bf16 weights (about 2× faster on CPUs with bf16)"),
    ("onnx-int8", "ONNX Runtime int8 (fastest; may lose accuracy)"),
)


@dataclass
class SettingsChoice:
    model: str
    import_file: str | None
    import_arch: str | None
    data_folder: str
    exclude: list[str]
    include_hidden: bool
    threads: int
    precision: str = "auto"
    backend: BackendFields | None = None  # set when the vector store is to change
    read_text_in_pictures: bool = True


class SettingsDialog(QDialog):
    def __init__(
        self,
        models: list[dict[str, object]],
        current_model: str,
        data_folder: str,
        exclude: list[str],
        include_hidden: bool,
        threads: int,
        parent: QWidget | None = None,
        *,
        precision: str = "auto",
        precision_checks: list[str] | None = None,
        backend: dict[str, Any] | None = None,
        read_text_in_pictures: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        form = self.form = QFormLayout()
        self.model = QComboBox()
        for m in models:
            state = "" if m.get("available") else f" — {m.get('download_mb', '?')} MB download"
            zero_shot = m.get("imagenet_zero_shot")
            accuracy = f" ({zero_shot}% ImageNet)" if zero_shot else ""
            self.model.addItem(f"{m['name']}{accuracy}{state}", m["name"])
            self.model.setItemData(
                self.model.count() - 1,
                m.get("summary") or m.get("file"),
                Qt.ItemDataRole.ToolTipRole,
            )
        self.model.addItem("Import a weights file…", IMPORT_CHOICE)
        self.model.setCurrentIndex(max(0, self.model.findData(current_model)))
        self._current_model = current_model
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        self.import_arch = QLineEdit("ViT-B-32")
        self.import_arch.setToolTip("open_clip architecture of the file, e.g. ViT-B-32")
        self.import_file = ""
        form.addRow("Picture model", self.model)
        form.addRow("", self.model_note)
        form.addRow("Architecture", self.import_arch)
        folder_row = QHBoxLayout()
        self.data_folder = QLineEdit(data_folder)
        browse = QPushButton("Browse…")
        folder_row.addWidget(self.data_folder, 1)
        folder_row.addWidget(browse)
        form.addRow("Data folder", folder_row)
        self.exclude = QPlainTextEdit("\n".join(exclude))
        self.exclude.setPlaceholderText("One folder name or pattern per line, e.g. *.tmp or Raw")
        self.exclude.setFixedHeight(90)
        form.addRow("Exclude", self.exclude)
        self.include_hidden = QCheckBox("Include hidden files and folders")
        self.include_hidden.setChecked(include_hidden)
        form.addRow("", self.include_hidden)
        self.read_text = QCheckBox("Read text in pictures (OCR)")
        self.read_text.setChecked(read_text_in_pictures)
        self.read_text.setToolTip(
            "Off: pictures are indexed by their look alone and text already read stays "
            "searchable. On again: the pictures not read yet are read in the background."
        )
        read_text_note = QLabel("Find screenshots and signs by their words; slower indexing.")
        read_text_note.setWordWrap(True)
        style = self.read_text.style()
        indent = style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth) + style.pixelMetric(
            QStyle.PixelMetric.PM_CheckBoxLabelSpacing
        )
        read_text_note.setContentsMargins(indent, 0, 0, 0)  # under the box's words
        read_text_rows = QVBoxLayout()
        read_text_rows.setSpacing(2)
        read_text_rows.addWidget(self.read_text)
        read_text_rows.addWidget(read_text_note)
        form.addRow("", read_text_rows)
        self.threads = QSpinBox()
        self.threads.setRange(0, os.cpu_count() or 1)
        self.threads.setSpecialValueText("All cores")
        self.threads.setValue(threads)
        form.addRow("Indexing threads", self.threads)
        self.precision = QComboBox()
        for value, label in PRECISION_CHOICES:
            self.precision.addItem(label, value)
        self.precision.setCurrentIndex(max(0, self.precision.findData(precision)))
        self.precision.setToolTip(
            "Each faster path is checked against fp32 on its first use and refused if it "
            "changes the results; pictures indexed before stay valid."
        )
        form.addRow("Speed/precision", self.precision)
        self.precision_checks = QLabel(
            "\n".join(plain_check(c) for c in precision_checks or [])
            or "Not checked yet: the check runs when pictures are next indexed."
        )
        self.precision_checks.setToolTip("\n".join(precision_checks or []))  # the figures
        self.precision_checks.setWordWrap(True)
        form.addRow("", self.precision_checks)
        self.backend = BackendRows(form, backend) if backend is not None else None
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        layout.addWidget(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        browse.clicked.connect(self._browse)
        self.model.currentIndexChanged.connect(self._model_changed)
        self._model_changed()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_folder.text())
        if folder:
            self.data_folder.setText(folder)

    def _model_changed(self) -> None:
        choice = self.model.currentData()
        importing = choice == IMPORT_CHOICE
        self.form.setRowVisible(self.import_arch, importing)
        if importing:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import model weights", "", "Weights (*.safetensors *.bin *.pt *.pth)"
            )
            if not path:
                self.model.setCurrentIndex(max(0, self.model.findData(self._current_model)))
                return
            self.import_file = path
            self.model_note.setText(f"Will import {path} and re-index your pictures with it.")
        elif choice != self._current_model:
            self.model_note.setText(
                "Changing the model re-indexes every picture in the background; searches keep "
                "using the current model until that is done."
            )
        else:
            self.model_note.setText("")

    def choice(self) -> SettingsChoice:
        importing = self.model.currentData() == IMPORT_CHOICE
        return SettingsChoice(
            model=self._current_model if importing else str(self.model.currentData()),
            import_file=self.import_file if importing else None,
            import_arch=self.import_arch.text().strip() if importing else None,
            data_folder=self.data_folder.text().strip(),
            exclude=[
                line.strip() for line in self.exclude.toPlainText().splitlines() if line.strip()
            ],
            include_hidden=self.include_hidden.isChecked(),
            threads=self.threads.value(),
            precision=str(self.precision.currentData()),
            backend=self.backend.fields() if self.backend and self.backend.changed else None,
            read_text_in_pictures=self.read_text.isChecked(),
        )


def plain_check(summary: str) -> str:
    """A precision check's verdict in words ("bf16: passed, 1.9× as fast as the reference")
    instead of its cosine figures, which stay in the tooltip."""
    verdict = summary.split(" — ")[0]
    speed = re.search(r"([\d.]+)× fp32 speed", summary)
    return f"{verdict}, {speed.group(1)}× as fast as the reference" if speed else verdict
