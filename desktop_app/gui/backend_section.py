"""The settings dialog's vector store rows: embedded hnswlib, or a Milvus server or Lite file.

The rows only gather the choice; moving the library is long work that re-uploads every vector
from SQLite, run by whoever applies the dialog (as ``snapfind-cli backend use`` does). The token
is typed into a password field and is never shown back: an empty field keeps the saved one.
"""

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit

BACKENDS = (
    ("hnswlib", "On this computer (hnswlib; fastest for one person)"),
    ("milvus", "Milvus server or Milvus Lite file (large or shared libraries)"),
)


@dataclass(frozen=True)
class BackendFields:
    kind: str
    uri: str = ""
    token: str = ""  # "" keeps the saved token
    database: str = ""


class BackendRows:
    """Adds its rows to ``form``; ``current`` is :meth:`BackendChoice.describe`'s dict."""

    def __init__(self, form: QFormLayout, current: dict[str, Any]) -> None:
        self.form = form
        self._current = current
        self.kind = QComboBox()
        for value, label in BACKENDS:
            self.kind.addItem(label, value)
        self.kind.setCurrentIndex(max(0, self.kind.findData(current.get("backend", "hnswlib"))))
        self.uri = QLineEdit(str(current.get("uri", "")))
        self.uri.setPlaceholderText("http://server:19530, or a file such as ~/library.milvus.db")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        saved = current.get("token") == "set"
        self.token.setPlaceholderText("saved (leave empty to keep)" if saved else "user:password")
        database = current.get("database", "")
        self.database = QLineEdit("" if database == "default" else str(database))
        self.database.setPlaceholderText("default")
        self.note = QLabel()
        self.note.setWordWrap(True)
        form.addRow("Vector store", self.kind)
        form.addRow("Milvus address", self.uri)
        form.addRow("Milvus token", self.token)
        form.addRow("Milvus database", self.database)
        form.addRow("", self.note)
        self.kind.currentIndexChanged.connect(self._changed)
        self.uri.textChanged.connect(self._changed)
        self.database.textChanged.connect(self._changed)
        self._changed()

    def _changed(self) -> None:
        milvus = self.kind.currentData() == "milvus"
        for widget in (self.uri, self.token, self.database):
            self.form.setRowVisible(widget, milvus)
        if self.changed:
            self.note.setText(
                "Applying moves every vector to the new store from the copies the library keeps "
                "(nothing is re-embedded). It can be stopped and resumed; searches use the old "
                "store until it is done."
            )
        else:
            self.note.setText("")

    @property
    def changed(self) -> bool:
        fields = self.fields()
        if fields.kind != self._current.get("backend", "hnswlib"):
            return True
        database = self._current.get("database", "")
        return fields.kind == "milvus" and (
            fields.uri != self._current.get("uri", "")
            or bool(fields.token)
            or fields.database != ("" if database == "default" else database)
        )

    def fields(self) -> BackendFields:
        if self.kind.currentData() != "milvus":
            return BackendFields("hnswlib")
        return BackendFields(
            "milvus", self.uri.text().strip(), self.token.text(), self.database.text().strip()
        )
