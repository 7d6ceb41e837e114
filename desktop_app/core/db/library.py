"""One library on disk: the SQLite store, the vector indexes beside it, and the writer lock.

A library is opened either as the single *writer* (which holds an exclusive lock file for as
long as it is open, saves indexes and repairs them after a crash) or as a *reader* (which
repairs its in-memory copy of an index from SQLite but never writes). Readers in other
threads of the writer's process share its in-memory indexes.

The indexes are vector backends (:mod:`desktop_app.core.vectors.backend`) opened through a
vector store: the one the library's backend choice names (hnswlib files in ``indexes/`` unless
it was moved to Milvus, see :mod:`desktop_app.core.vectors.choice`), or one the caller gives.
The library only keeps them consistent with SQLite, and never learns where or how they are kept.
A store other machines can reach (a Milvus server) makes the writer also hold a lease beside the
database (:mod:`.writer_lease`), since the local lock does not reach across machines.
"""

import os
import threading
from pathlib import Path
from typing import IO

from desktop_app.core.db.label_facts import LabelFacts
from desktop_app.core.db.records import VectorSet
from desktop_app.core.db.storage import storage_error
from desktop_app.core.db.store import Store
from desktop_app.core.db.writer_lease import WriterLease
from desktop_app.core.errors import KnownError, LibraryBusyError
from desktop_app.core.kinds import registry
from desktop_app.core.vectors.backend import VectorBackend, VectorStore
from desktop_app.core.vectors.choice import BackendChoice, load_choice, open_store

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock, single-instance by the GUI
    fcntl = None  # type: ignore[assignment]


class Library:
    def __init__(
        self,
        home: Path,
        *,
        writer: bool = True,
        vector_store: VectorStore | None = None,
        backend: BackendChoice | None = None,
    ) -> None:
        self.home = home
        self.writer = writer
        self.thumbnail_dir = home / "thumbnails"
        self._local = threading.local()
        self._lease: WriterLease | None = None
        self._closed = False
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise KnownError(f"Cannot use the data folder {home}: {err.strerror or err}.") from None
        self.backend = backend or load_choice(home)
        self._lock_file: IO[str] | None = self._take_lock() if writer else None
        try:
            self.store = Store(home / "library.db")
            self.vector_store: VectorStore = vector_store or self._open_store()
            if writer and getattr(self.vector_store, "shared", False):
                self._lease = WriterLease(home)
                self._lease.acquire()
        except BaseException:  # a newer schema, a damaged file, no server: release the lock
            self._release()
            raise
        self._indexes: dict[int, VectorBackend] = {}
        self._indexes_lock = threading.Lock()

    def _open_store(self) -> VectorStore:
        try:
            return open_store(
                self.home, self.backend, LabelFacts(self.reader), read_only=not self.writer
            )
        except OSError as err:
            raise KnownError(
                f"Cannot use the data folder {self.home}: {err.strerror or err}."
            ) from None

    def reader(self) -> Store:
        """This thread's own read connection (WAL: reads never wait for the writer)."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = Store(self.store.path)
        return store

    def _take_lock(self) -> IO[str] | None:
        if fcntl is None:
            return None
        handle = open(self.home / "writer.lock", "a+", encoding="utf-8")  # noqa: SIM115 - held open
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise LibraryBusyError(
                f"Another Snapfind is updating the library in {self.home}. Wait for it to "
                "finish (or close it), then try again."
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def close(self) -> None:
        """Save and let go of everything; closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.writer:
                self.save_indexes()
        finally:  # a full disk or a lost server must not keep the database open or a lock held
            self._release()

    def _release(self) -> None:
        store: Store | None = getattr(self, "store", None)
        if store is not None:
            store.close()
        closer = getattr(getattr(self, "vector_store", None), "close", None)
        if callable(closer):
            closer()
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # -- vector sets and their indexes ---------------------------------------------------------

    def index_for(self, vset: VectorSet) -> VectorBackend:
        """The set's index, loaded and reconciled with SQLite on first use."""
        with self._indexes_lock:
            index = self._indexes.get(vset.id)
            if index is None:
                index = self.vector_store.open(vset.id, vset.space, vset.dim, vset.model_id)
                reader = self.reader()
                index.reconcile(
                    lambda: reader.labels(vset.id),
                    lambda labels: reader.vectors_by_label(vset.id, labels),
                    summary=reader.label_summary(vset.id),
                )
                if self.writer and index.needs_save:
                    index.save()
                self._indexes[vset.id] = index
            return index

    def searchable_set(self, space: str) -> VectorSet | None:
        """The complete set of a space; while the first one builds, that one."""
        sets = self.reader().vector_sets(space)
        ready = [s for s in sets if s.state == "ready"]
        chosen = ready or sets
        return chosen[0] if chosen else None

    def target_set(self, space: str, model_id: str, dim: int) -> VectorSet:
        """The set new vectors go into; a new model starts a new set and re-embeds every file
        with units in the space.

        The previous model's set stays searchable until the new one is complete.
        """
        existing = {s.model_id for s in self.store.vector_sets(space)}
        vset = self.store.ensure_vector_set(space, model_id, dim)
        if model_id not in existing and existing:
            self.store.reset_status(registry.kinds_in(space))
        self._forget(self.store.drop_abandoned(space, vset.id))
        return vset

    def finish_set(self, vset: VectorSet) -> None:
        """All files are embedded: the set becomes the searchable one, older sets go."""
        self._forget(self.store.mark_ready(vset.id))

    def _forget(self, dropped: list[VectorSet]) -> None:
        """Delete the indexes of sets SQLite dropped."""
        for old in dropped:
            with self._indexes_lock:
                index = self._indexes.pop(old.id, None)
            if index is not None:
                index.drop()
            else:
                self.vector_store.drop(old.id)

    def drop_labels(self, freed: dict[int, list[int]]) -> None:
        for set_id, labels in freed.items():
            with self._indexes_lock:
                index = self._indexes.get(set_id)
            if index is not None:
                index.remove(labels)
            # An index not loaded yet drops these labels when reconciled on load.

    def save_indexes(self) -> None:
        if self._lease is not None:
            self._lease.check()
        with self._indexes_lock:
            indexes = list(self._indexes.values())
        for index in indexes:
            try:
                index.save()
            except OSError as err:
                # The previous file stays in place; SQLite still holds every vector.
                known = storage_error(err, self.home)
                if known is None:
                    raise
                raise known from err
