"""hnswlib indexes in one folder of the library: a file per vector set, named by its id.

A set's index is ``set-{id}.hnsw`` (with the files :func:`.hnsw.companions` names beside it):
the id alone names it, so nothing about files is recorded in SQLite and a set keeps its file
whatever its space is called. Libraries written before this layout named the file after the
set's modality (``image-3.hnsw``); opening such a set adopts the old files by renaming them,
which keeps their modification time, so the state file still describes its index and the open
stays fast.
"""

import os
import re
from pathlib import Path

from desktop_app.core.vectors.hnsw import (
    DEFAULT_PARAMS,
    HnswBackend,
    HnswParams,
    companions,
    fsync,
)

# The old layout: "{modality}-{set id}.hnsw", the modality in lowercase letters.
_LEGACY_NAME = re.compile(r"(?!set-)[a-z]+-\d+\.hnsw")


class HnswStore:
    """A :class:`~.backend.VectorStore` of hnswlib files in ``folder``.

    A ``read_only`` store (a library opened as a reader) never renames or deletes a file: it
    reads an old-layout file where it lies, and the writer adopts it.
    """

    def __init__(
        self, folder: Path, params: HnswParams = DEFAULT_PARAMS, *, read_only: bool = False
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.params = params
        self.read_only = read_only

    def path(self, set_id: int) -> Path:
        """Where set ``set_id``'s index file is saved."""
        return self.folder / f"set-{set_id}.hnsw"

    def open(self, set_id: int, space: str, dim: int, model_id: str = "") -> HnswBackend:
        """The set's index as last saved; empty if there is no readable file. The file name
        depends on neither ``space`` nor ``model_id`` (set ids are never reused)."""
        path = self.path(set_id)
        if not path.exists():
            path = self._adopt(set_id, path)
        backend = HnswBackend(path, dim, self.params)
        backend.load()
        return backend

    def drop(self, set_id: int) -> None:
        for path in (self.path(set_id), *self._legacy(set_id)):
            for file in (path, *companions(path)):
                file.unlink(missing_ok=True)

    def disk_bytes(self) -> int:
        total = 0
        for file in self.folder.iterdir():
            try:
                total += file.stat().st_size
            except OSError:  # removed meanwhile
                continue
        return total

    def _legacy(self, set_id: int) -> list[Path]:
        """The set's old-layout index files (``image-1.hnsw`` is set 1's, ``image-11.hnsw``
        is not)."""
        candidates = self.folder.glob(f"*-{set_id}.hnsw")
        return sorted(p for p in candidates if _LEGACY_NAME.fullmatch(p.name))

    def _adopt(self, set_id: int, path: Path) -> Path:
        """Rename the set's old-layout files to ``path`` and its companions; returns the
        file to load (the old one, where a read-only store leaves it)."""
        legacy = self._legacy(set_id)
        if not legacy:
            return path
        old = legacy[0]
        if self.read_only:
            return old
        old_state, old_tmp, old_state_tmp = companions(old)
        state = companions(path)[0]
        # The state file first: after a crash between the two renames the index is still
        # there to adopt, and its state file is already in place.
        if old_state.exists():
            os.rename(old_state, state)
        os.rename(old, path)
        for leftover in (old_tmp, old_state_tmp):  # a save a crash interrupted
            leftover.unlink(missing_ok=True)
        fsync(self.folder)
        return path
