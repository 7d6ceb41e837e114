"""Moving a library's vectors to another engine (hnswlib files <-> Milvus), from SQLite.

Nothing is embedded again: every vector is read from SQLite, the source of truth, and uploaded
to the target in batches. The move is resumable: what the target already holds is skipped
(labels are never reused, so a label held is a label done), so after a crash, a cancel or a
dropped connection the same move picks up where it stopped. The library switches to the target
only once every set is complete there; until then it keeps using, and searching, the old one.
What the old engine kept is left in place (a move back only fills in what changed since).
"""

import time
from collections.abc import Generator
from pathlib import Path

import numpy as np

from desktop_app.core.db.library import Library
from desktop_app.core.progress import Control, Progress
from desktop_app.core.vectors.choice import BackendChoice, save_choice

PHASE = "moving"
_BATCH = 2000
# An hnswlib target saves its whole file each time: often enough to resume, not so often
# that saving dominates.
_SAVE_EVERY = 100_000


def move_library(
    home: Path, target: BackendChoice, control: Control | None = None
) -> Generator[Progress, None, None]:
    """Copy every vector set into ``target``, then make it the library's backend.

    Yields progress in vectors; raises KnownError if the target fails (run it again to
    resume), LibraryBusyError if another Snapfind is updating the library.
    """
    control = control or Control()
    library = Library(home, writer=True, backend=target)
    try:
        reader = library.reader()
        sets = reader.vector_sets()
        total = sum(reader.vector_count(s.id) for s in sets)
        done = 0
        started = time.monotonic()
        yield Progress(PHASE, total, 0, message=_where(target))
        for vset in sets:
            backend = library.vector_store.open(vset.id, vset.space, vset.dim, vset.model_id)
            committed = reader.labels(vset.id)
            held = backend.labels()
            missing = sorted(committed - held)
            done += len(committed) - len(missing)
            unsaved = 0
            for start in range(0, len(missing), _BATCH):
                control.checkpoint()
                pairs = list(reader.vectors_by_label(vset.id, missing[start : start + _BATCH]))
                if pairs:
                    labels, vectors = zip(*pairs, strict=True)
                    backend.add(list(labels), np.stack(vectors))
                done += len(pairs)
                unsaved += len(pairs)
                if unsaved >= _SAVE_EVERY:
                    backend.save()
                    unsaved = 0
                yield _progress(total, done, started, vset.space)
            backend.remove(held - committed)
            backend.save()
        save_choice(home, target)
        yield Progress("done", total, done, message=f"The library now uses {_where(target)}.")
    finally:
        library.close()


def _progress(total: int, done: int, started: float, space: str) -> Progress:
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else None
    return Progress(PHASE, total, done, rate=rate, eta_s=eta, current=space)


def _where(choice: BackendChoice) -> str:
    if choice.kind == "hnswlib":
        return "the embedded hnswlib index"
    shown = choice.describe()
    return f"Milvus at {shown['uri']} (collections {choice.prefix}_set*)"
