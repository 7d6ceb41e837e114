"""Background work for the GUI: long generators and one-shot calls, off the UI thread.

A :class:`GeneratorTask` drives one of the core's progress generators (indexing) in a QThread
and forwards each report as a signal; pause, resume and cancel go through the core's
:class:`Control`. :func:`run_async` runs a short call (a search, a thumbnail) on the global
thread pool and delivers its result or its error on the UI thread. Workers never touch
widgets or QPixmap; results cross threads through queued signals.
"""

import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal

from desktop_app.core.errors import KnownError
from desktop_app.core.progress import Control


class GeneratorTask(QThread):
    """Runs ``make(control)`` (a generator) in its own thread; emits each item it yields.

    ``finished`` (QThread's own) fires after the generator is exhausted, failed or cancelled.
    """

    progress = Signal(object)
    failed = Signal(str)

    def __init__(
        self, make: Callable[[Control], Iterator[Any]], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("snapfind-task")
        self.control = Control()
        self._make = make

    def begin(self) -> None:
        """Start at low priority, so the UI and other apps stay responsive."""
        self.start(QThread.Priority.LowPriority)

    def run(self) -> None:
        try:
            for item in self._make(self.control):
                self.progress.emit(item)
        except KnownError as err:
            self.failed.emit(str(err))
        except Exception:  # a bug: show it, keep the app alive
            self.failed.emit("Unexpected error:\n" + traceback.format_exc(limit=6))

    def cancel(self) -> None:
        self.control.cancel()


class _Relay(QObject):
    done = Signal(object)
    error = Signal(str)


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn, self._relay = fn, relay

    def run(self) -> None:
        try:
            result = self._fn()
        except KnownError as err:
            self._relay.error.emit(str(err))
        except Exception:  # a bug: report it rather than kill the worker
            self._relay.error.emit("Unexpected error:\n" + traceback.format_exc(limit=6))
        else:
            self._relay.done.emit(result)


_pending: set[_Relay] = set()
_pending_lock = threading.Lock()


def run_async(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[str], None] | None = None,
    pool: QThreadPool | None = None,
    owner: QObject | None = None,
) -> None:
    """Run ``fn`` on a pool thread; call ``on_done(result)`` or ``on_error(msg)`` on the UI
    thread (the relay object lives on the caller's thread, so its signals are queued). With
    an ``owner`` (the widget the answer is for), nothing is called once it is deleted: a
    window closed while the work ran."""
    if owner is not None:
        on_done = _while_alive(owner, on_done)
        on_error = _while_alive(owner, on_error) if on_error is not None else None
    relay = _Relay()
    with _pending_lock:
        _pending.add(relay)

    def release() -> None:
        with _pending_lock:
            _pending.discard(relay)
        relay.deleteLater()

    relay.done.connect(on_done)
    relay.done.connect(release)
    if on_error is not None:
        relay.error.connect(on_error)
    relay.error.connect(release)
    (pool or QThreadPool.globalInstance()).start(_Call(fn, relay))


def _while_alive(owner: QObject, call: Callable[[Any], None]) -> Callable[[Any], None]:
    def guarded(value: Any) -> None:
        if shiboken6.isValid(owner):
            call(value)

    return guarded
