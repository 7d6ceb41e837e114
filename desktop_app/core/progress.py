"""Progress reports and cooperative pause/cancel for long work.

Long work is a plain generator that yields :class:`Progress`; whoever drives it (a CLI loop, a
GUI worker thread) can pause, resume or cancel through a :class:`Control` shared with it. The
generator calls :meth:`Control.checkpoint` between steps, so a cancel takes effect after the
current batch is safely committed.
"""

import threading
import time
from dataclasses import dataclass, replace

from desktop_app.core.errors import CancelledError


@dataclass(frozen=True)
class Progress:
    phase: str  # 'scanning' | 'images' | 'documents' | 'done' | 'cancelled'
    total: int = 0  # files this phase will process
    done: int = 0  # processed so far (embedded, reused or failed)
    failed: int = 0
    bytes_done: int = 0
    rate: float = 0.0  # files per second over the phase so far
    eta_s: float | None = None
    current: str | None = None
    message: str = ""


class Control:
    """Shared between the driver and the work; all methods are thread-safe."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # wake a paused worker so it can stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def checkpoint(self) -> None:
        """Block while paused; raise :class:`CancelledError` once cancelled."""
        self._running.wait()
        if self._cancel.is_set():
            raise CancelledError


class RateMeter:
    """Files/s and ETA for one phase, from its start."""

    def __init__(self, phase: str, total: int) -> None:
        self._start = time.monotonic()
        self.progress = Progress(phase=phase, total=total)

    def update(
        self, *, done: int = 0, failed: int = 0, nbytes: int = 0, current: str | None = None
    ) -> Progress:
        p = self.progress
        new_done = p.done + done
        elapsed = max(time.monotonic() - self._start, 1e-6)
        rate = new_done / elapsed
        eta = (p.total - new_done) / rate if rate > 0 else None
        self.progress = replace(
            p,
            done=new_done,
            failed=p.failed + failed,
            bytes_done=p.bytes_done + nbytes,
            rate=rate,
            eta_s=eta,
            current=current,
        )
        return self.progress
