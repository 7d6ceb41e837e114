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
    verb: str = "Indexing"  # what is done to the phase's files ("Transcribing")
    media_s: float | None = None  # seconds of media the phase's files hold (recordings)
    media_done_s: float = 0.0

    @property
    def media_left_s(self) -> float | None:
        return None if self.media_s is None else max(0.0, self.media_s - self.media_done_s)

    def headline(self) -> str:
        """The phase in words: "Transcribing 3 of 41 recordings · 12 min of audio left"."""
        at = min(self.done + 1, self.total) if self.done < self.total else self.done
        text = f"{self.verb} {at} of {self.total} {self.phase}"
        left = self.media_left_s
        if left is not None and self.done < self.total:
            text += f" · {_duration(left)} of audio left"
        return text


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


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

    def __init__(
        self, phase: str, total: int, *, verb: str = "Indexing", media_s: float | None = None
    ) -> None:
        self._start = time.monotonic()
        self.progress = Progress(phase=phase, total=total, verb=verb, media_s=media_s)

    def update(
        self,
        *,
        done: int = 0,
        failed: int = 0,
        nbytes: int = 0,
        current: str | None = None,
        media_s: float = 0.0,
    ) -> Progress:
        p = self.progress
        new_done = p.done + done
        media_done = p.media_done_s + media_s
        elapsed = max(time.monotonic() - self._start, 1e-6)
        rate = new_done / elapsed
        eta = (p.total - new_done) / rate if rate > 0 else None
        if p.media_s is not None and media_done > 0:  # long files take long: time by length
            eta = max(0.0, p.media_s - media_done) * elapsed / media_done
        self.progress = replace(
            p,
            done=new_done,
            failed=p.failed + failed,
            bytes_done=p.bytes_done + nbytes,
            rate=rate,
            eta_s=eta,
            current=current,
            media_done_s=media_done,
        )
        return self.progress
