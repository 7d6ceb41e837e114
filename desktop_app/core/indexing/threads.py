"""How many cores the image model gets while pictures are decoded beside it.

The decode worker and the model share the machine. torch's worker threads wait for each other
at every step, so when the decode worker takes one of their cores, all of them stall: running
the model on every core is only worth it while decoding is cheap. With ``d`` the decode
worker's CPU time per picture and ``m`` the model's time per picture on all cores, sharing every
core costs about ``m + d`` per picture, and leaving one core to decoding about
``max(m · cores / (cores − 1), d)``; on two cores the first wins exactly when ``d < m``. The
budget starts with one core left to decoding (every core when the first batch decoded clearly
cheaply) and re-decides from the measured times, unless the person fixed a thread count in the
settings. Indexing threads run at background priority so
the window stays responsive.
"""

import os
import threading
from typing import Protocol

# Relative margin before switching, so measurement noise does not flip the choice each batch.
HYSTERESIS = 0.2
BACKGROUND_NICE = 10
# Pictures measured before deciding: one indexer batch, so a small library is not spent on a
# poor choice.
MIN_PICTURES = 16
# Decode CPU time per picture below which the first batch already gets every core: the fastest
# image tower measured on this class of CPU (ViT-B-32 int8, 2 threads) takes about 20 ms a
# picture, so decoding at under half of that cannot be the bottleneck. Small JPEGs decode in
# 3-5 ms; camera JPEGs, even at draft scale, in 30-40 ms.
CHEAP_DECODE_S = 0.010


class ThreadedModel(Protocol):
    def set_threads(self, threads: int) -> None: ...


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def yield_idle_cores() -> None:
    """Make the model's worker threads sleep when idle instead of spinning, so the decode worker
    (at background priority) gets the core it waits for: indexing 400 pictures took 10.3-10.6 s
    with passive waiting against 11.0-11.1 s with active (2 cores, ViT-B-32-256 bf16). Only
    effective before torch loads its OpenMP runtime, so each face calls it first; a value the
    person set is kept."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def lower_priority() -> None:
    """Run the calling thread (and threads it starts later) at background priority.

    Only threads other than the main one: in the CLI the main thread is the whole program, and
    a priority once lowered cannot be raised again without privileges.
    """
    if threading.current_thread() is threading.main_thread() or not hasattr(os, "setpriority"):
        return
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        if current < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except OSError:  # not permitted here: the work still runs, at normal priority
        pass


class ThreadBudget:
    """Sets the model's thread count from measured decode and model times."""

    def __init__(self, model: ThreadedModel, fixed: int = 0, decode_workers: int = 1) -> None:
        self.model = model
        self.fixed = fixed
        self.all = cores()
        self.shared = max(1, self.all - decode_workers)
        self.threads = fixed or self.shared
        self._decode_s = self._model_s = 0.0
        self._pictures = 0
        self.model.set_threads(self.threads)

    def first_batch(self, decode_s: float, pictures: int) -> None:
        """Decide the first batch's threads from its decoding alone (done before the model
        runs): clearly cheap decoding gets every core at once instead of after a batch."""
        if not self.fixed and pictures and decode_s / pictures < CHEAP_DECODE_S:
            self._switch(self.all)

    def record(self, decode_s: float, model_s: float, pictures: int) -> None:
        """Add one batch's decode-worker and model seconds; re-decide every few batches."""
        self._decode_s += decode_s
        self._model_s += model_s
        self._pictures += pictures
        if self.fixed or self.all == self.shared or self._pictures < MIN_PICTURES:
            return
        decode = self._decode_s / self._pictures
        model = self._model_s / self._pictures
        if self.threads == self.shared:
            if decode < model * self.shared / self.all * (1 - HYSTERESIS):
                self._switch(self.all)
        elif decode > max(model - decode, 1e-6) * (1 + HYSTERESIS):
            # On every core the model's time includes the stalls decoding causes (about d).
            self._switch(self.shared)

    def _switch(self, threads: int) -> None:
        self.threads = threads
        self.model.set_threads(threads)
        self._decode_s = self._model_s = 0.0
        self._pictures = 0

    def close(self) -> None:
        """Give queries every core again (or the person's fixed count)."""
        self.model.set_threads(self.fixed or self.all)
