"""Moving the library to another vector store from the Settings dialog, in the background.

The move itself is the core's resumable generator (:func:`db.moving.move_library`), which
needs the library's writer lock: while it runs, indexing and the folder watcher are held, and
the engine is reopened as a reader, so searches go on against the old store. When it ends, the
engine is the writer again, on the new store if every vector got there, else on the old one
(the choice only flips once the move is complete). Opening and closing stores may wait on a
server, so that happens in the worker too; the window only shows the progress dialog.
"""

import json
from collections.abc import Iterator

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.db.moving import PHASE as MOVING
from desktop_app.core.db.moving import move_library
from desktop_app.core.engine import Engine
from desktop_app.core.errors import CancelledError, KnownError
from desktop_app.core.progress import Control, Progress
from desktop_app.core.vectors.choice import HNSWLIB, MILVUS, BackendChoice, next_choice
from desktop_app.gui.backend_section import BackendFields
from desktop_app.gui.indexing import IndexingController
from desktop_app.gui.tasks import GeneratorTask

MOVED, STOPPED, FAILED = "moved", "stopped", "failed"
CANCELLED = "cancelled"
UNFINISHED_KEY = "vectors/unfinished_move"  # where a stopped move to Milvus was going


def moving(engine: Engine, target: BackendChoice, control: Control) -> Iterator[Progress]:
    """The worker's whole job: let go of the writer lock, move, take it back."""
    engine.reopen(writer=False)  # searches go on, on the old store, while the move writes
    try:
        yield from move_library(engine.home, target, control)
    except CancelledError:
        yield Progress(CANCELLED)
    finally:
        engine.reopen(writer=True)  # on the new store if the move completed, else the old


def place(choice: BackendChoice) -> str:
    """Where a choice keeps vectors, in words (never the token)."""
    if choice.kind == HNSWLIB:
        return "the index on this computer (hnswlib)"
    shown = choice.describe()
    return f"Milvus Lite in {shown['uri']}" if shown["lite"] else f"Milvus at {shown['uri']}"


class MoveDialog(QDialog):
    """Window-modal progress of a move: vectors moved of all, speed, time left, and Stop.

    Closing it (Esc, the title bar) asks the move to stop, as Stop does; the dialog itself
    closes only when the worker has ended, through :meth:`finish`.
    """

    stop_requested = Signal()

    def __init__(self, target: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Moving the library")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self.headline = QLabel(f"Moving the library's vectors to {target}")
        self.headline.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the first report says how many
        self.bar.setFormat("%v of %m vectors")
        self.detail = QLabel(
            "Opening the library… Nothing is embedded again: the vectors are copied from "
            "the library's own database."
        )
        self.detail.setWordWrap(True)
        self.hint = QLabel(
            "You can stop at any time: applying the same choice in Settings again resumes "
            "where it stopped."
        )
        self.hint.setWordWrap(True)
        muted = self.hint.palette()  # secondary text, readable (a disabled label is too faint)
        muted.setColor(
            QPalette.ColorRole.WindowText, muted.color(QPalette.ColorRole.PlaceholderText)
        )
        self.hint.setPalette(muted)
        buttons = QDialogButtonBox()
        self.stop_button = QPushButton("Stop")
        buttons.addButton(self.stop_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.stop_button.clicked.connect(self.reject)
        for widget in (self.headline, self.bar, self.detail, self.hint, buttons):
            layout.addWidget(widget)
        self._finished = False

    def show_progress(self, progress: Progress) -> None:
        if progress.phase not in (MOVING, "done"):
            return
        self.bar.setRange(0, max(progress.total, 1))
        self.bar.setValue(progress.done)
        if progress.phase == "done":
            self.detail.setText("Opening the library on its new store…")
        elif self.stop_button.isEnabled():
            self.detail.setText(_speed(progress))

    def reject(self) -> None:
        """Stop, not close: the move stops after its current batch, then the dialog goes."""
        if self._finished:
            super().reject()
            return
        if self.stop_button.isEnabled():
            self.stop_button.setEnabled(False)
            self.detail.setText("Stopping after the vectors being sent now…")
            self.stop_requested.emit()

    def finish(self) -> None:
        self._finished = True
        self.done(QDialog.DialogCode.Accepted)


def _speed(progress: Progress) -> str:
    if not progress.rate:
        return "Starting…"
    text = f"{progress.rate:,.0f} vectors a second"
    if progress.eta_s is not None and progress.done < progress.total:
        minutes = round(progress.eta_s / 60)
        text += " · " + ("under a minute left" if minutes < 1 else f"about {minutes} min left")
    return text


class VectorMove(QObject):
    """Runs one move at a time for the window and says how it ended.

    ``ended`` carries the outcome (MOVED, STOPPED or FAILED) and a message for a person; the
    library is open again (as the writer, unless reopening failed: FAILED says so), indexing
    and watching have resumed, and the window only has to refresh and show the message.

    A move to Milvus that did not finish is remembered in the window's settings (address,
    database and collection prefix; never the token), so that asking for the same server
    again resumes into the same collections instead of starting new ones.
    """

    ended = Signal(str, str)

    def __init__(
        self,
        engine: Engine,
        indexing: IndexingController,
        window: QWidget,
        settings: QSettings,
    ) -> None:
        super().__init__(window)
        self._engine = engine
        self._settings = settings
        self._indexing = indexing
        self._window = window
        self.task: GeneratorTask | None = None
        self.dialog: MoveDialog | None = None
        self._old = self._target = BackendChoice()
        self._last: Progress | None = None  # the last report of the move, not its cancel
        self._error = ""

    def running(self) -> bool:
        return self.task is not None and self.task.isRunning()

    def start(self, fields: BackendFields) -> None:
        """Move the library to the store these fields name (from the Settings dialog)."""
        if self.running():
            return
        current = self._engine.library.backend
        if fields.kind == MILVUS and not fields.uri:
            self.ended.emit(
                FAILED,
                "The vector store was not changed: type the Milvus server's address "
                "(http://server:19530) or a Milvus Lite file (such as ~/library.milvus.db).",
            )
            return
        try:
            target = next_choice(
                current,
                fields.kind,
                uri=fields.uri,
                token=fields.token,
                database=fields.database,
                prefix=self._unfinished_prefix(current, fields),
            )
        except KnownError as err:
            self.ended.emit(FAILED, f"The vector store was not changed: {err}")
            return
        self._old, self._target = current, target
        self._last, self._error = None, ""
        self._indexing.hold()
        self.dialog = MoveDialog(place(target), self._window)
        task = self.task = GeneratorTask(
            lambda control: moving(self._engine, target, control), self
        )
        task.progress.connect(self._progress)
        task.failed.connect(self._failed)
        task.finished.connect(self._finished)
        self.dialog.stop_requested.connect(task.cancel)
        self.dialog.open()
        task.begin()

    def _progress(self, progress: Progress) -> None:
        if progress.phase != CANCELLED:
            self._last = progress
        if self.dialog is not None:
            self.dialog.show_progress(progress)

    def _failed(self, message: str) -> None:
        self._error = message

    def _finished(self) -> None:
        if self.dialog is not None:
            self.dialog.finish()
            self.dialog.deleteLater()
            self.dialog = None
        outcome, message = self._outcome()
        self._remember(outcome)
        self._indexing.release()
        self.ended.emit(outcome, message)

    def _outcome(self) -> tuple[str, str]:
        last = self._last
        moved = last is not None and last.phase == "done"
        if self._error:
            if not self._engine.library.writer:
                return FAILED, (
                    f"{self._error}\n\nThe library can be searched but not updated until "
                    "Snapfind is restarted."
                )
            if moved:  # complete, but the new store would not open as the writer
                return FAILED, self._error
            return FAILED, (
                f"The library could not be moved to {place(self._target)}:\n\n{self._error}"
                f"\n\nIt still uses {place(self._old)}, and nothing was lost."
            )
        if moved and last is not None:
            return MOVED, f"{last.message} Nothing was embedded again."
        done = f" ({last.done:,} of {last.total:,} vectors copied)" if last and last.total else ""
        return STOPPED, (
            f"The move to {place(self._target)} stopped{done}. The library still uses "
            f"{place(self._old)}; apply the same choice in Settings again to resume the move."
        )

    def _unfinished_prefix(self, current: BackendChoice, fields: BackendFields) -> str:
        """The prefix of a stopped move to this same server and database, if any."""
        raw = self._settings.value(UNFINISHED_KEY, "")
        try:
            pending = json.loads(str(raw)) if raw else {}
            wanted = BackendChoice.milvus(fields.uri, prefix="x")
        except (ValueError, KnownError):
            return ""
        if (
            fields.kind != MILVUS
            or pending.get("home") != str(self._engine.home)
            or pending.get("uri", "").rstrip("/") != wanted.uri.rstrip("/")
            or pending.get("database", "") != fields.database
            or (current.kind == MILVUS and current.uri.rstrip("/") == wanted.uri.rstrip("/"))
        ):
            return ""
        return str(pending.get("prefix", ""))

    def _remember(self, outcome: str) -> None:
        if outcome == MOVED:
            self._settings.remove(UNFINISHED_KEY)
        elif self._target.kind == MILVUS:
            where = {"uri": self._target.uri, "database": self._target.database}
            pending = {"home": str(self._engine.home), **where, "prefix": self._target.prefix}
            self._settings.setValue(UNFINISHED_KEY, json.dumps(pending))

    def shutdown(self) -> None:
        """The window closes: stop a move and wait for the library to be open again."""
        if self.task is not None and self.task.isRunning():
            self.task.cancel()
            self.task.wait()
