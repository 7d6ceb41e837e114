"""The library's background indexing and its folder watcher, kept apart from the window.

One index pass runs at a time, in a :class:`GeneratorTask`: on launch to catch up, when the
folders change, and when the watcher sees changes. A request while a pass runs queues one more
pass after it (its scan may have missed what just changed); any number of requests queue just
one. Shutting down stops the watcher, forgets a queued pass, cancels the running one and waits
for it, so nothing starts after the window is gone. The window connects the signals to its
status strip and banner; it never touches the task or the watcher.
"""

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app.core.engine import Engine
from desktop_app.core.indexing.watcher import FolderWatcher, WatchMode
from desktop_app.gui.tasks import GeneratorTask

STOP_WAIT_MS = 60_000  # a cancelled pass stops after its batch; a slow disk may take a while


class IndexingController(QObject):
    """Owns the index passes and the folder watcher of one library."""

    progress = Signal(object)  # each Progress of the running pass
    failed = Signal(str)  # the running pass stopped with this message
    finished = Signal()  # a pass ended: done, failed or cancelled
    _changed = Signal()  # from the watcher's thread; queued to this object's thread

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._task: GeneratorTask | None = None  # the running pass, or the last one
        self._again = False  # one more pass once this one ends
        self._closing = False
        self._held = False  # the library is being moved: no pass until released
        self._watcher: FolderWatcher | None = None
        self._changed.connect(self.start)

    # -- passes --------------------------------------------------------------------------------

    def start(self) -> None:
        """Index now, or once more after the pass that is running."""
        if self._closing:
            return
        if self.running() or self._held:
            self._again = True
            return
        self._again = False
        task = GeneratorTask(self._engine.index, self)
        task.progress.connect(self.progress)
        task.failed.connect(self.failed)
        task.finished.connect(self._finished)
        self._task = task
        task.begin()

    def running(self) -> bool:
        return self._task is not None and self._task.isRunning()

    def set_paused(self, paused: bool) -> None:
        """Hold the running pass after its current batch, or let it go on."""
        if self._task is not None:
            (self._task.control.pause if paused else self._task.control.resume)()

    def cancel(self) -> None:
        """Stop the running pass and the one queued after it; what was committed is kept.
        Returns once it has stopped, so the library can be changed under it."""
        if self._task is not None and self._task.isRunning():
            self._again = False
            self._task.cancel()
            self._task.wait(STOP_WAIT_MS)

    def _finished(self) -> None:
        self.finished.emit()
        if self._again:
            QTimer.singleShot(0, self.start)

    def hold(self) -> None:
        """Stop watching and indexing until :meth:`release` (the library is being moved to
        another vector store); a request meanwhile becomes one pass after the release."""
        self._held = True
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self.cancel()

    def release(self) -> None:
        """Watch again and catch up with what changed while held."""
        self._held = False
        if self._closing:
            return
        self.watch()
        self.start()

    # -- the watcher ---------------------------------------------------------------------------

    def watch(self) -> None:
        """Watch the library's folders as they are now (again, after they changed)."""
        if self._watcher is not None:
            self._watcher.stop()
        self._watcher = self._engine.watch(self._changed.emit)

    def watch_modes(self) -> dict[str, WatchMode]:
        """How each folder is watched (events, polling, offline), by folder; empty before the
        watcher starts."""
        return {m.root: m for m in self._watcher.modes} if self._watcher else {}

    # -- the end -------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop watching and indexing for good and wait for the pass to stop; what was indexed
        so far is kept, and nothing queued (a watcher event, a second pass) starts again."""
        self._closing = True
        self._again = False
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self._task is not None:
            self._task.cancel()
            self._task.wait(STOP_WAIT_MS)
