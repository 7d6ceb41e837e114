"""The indexing pipeline: scan, then embed what is pending, in batches, committing as it goes.

``run_index`` is a generator of :class:`Progress`. Each batch is committed to SQLite and then
added to the in-memory index, so a search running at the same time sees every committed file,
and a cancel or crash loses at most the batch in flight. Images are read and decoded in a
worker thread two batches ahead of the model, so decoding overlaps encoding and the model never
waits for a batch unless decoding is the slower side. JPEGs are decoded at reduced scale (DCT
scaling) down to the model's input size, which is 3-4x cheaper on camera-sized photos and keeps
the embeddings within the bound the benchmark checks. The model's share of the cores is set by
:class:`threads.ThreadBudget`, and indexing runs at background priority. A file that cannot be
read or decoded is recorded with its error and the rest goes on.
"""

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from desktop_app.core.db.library import Library
from desktop_app.core.db.records import DOCUMENT, IMAGE, FileRecord, NewVector, VectorSet
from desktop_app.core.db.storage import storage_error
from desktop_app.core.encoders.base import ImageTextEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.errors import CancelledError
from desktop_app.core.indexing.scanner import bytes_hash
from desktop_app.core.indexing.sync import sync
from desktop_app.core.indexing.threads import ThreadBudget, lower_priority
from desktop_app.core.kinds.base import DecodeError
from desktop_app.core.kinds.chunking import chunk_text
from desktop_app.core.kinds.document import decode_text
from desktop_app.core.kinds.image import decode_image
from desktop_app.core.progress import Control, Progress, RateMeter
from desktop_app.core.vectors.backend import VectorBackend

IMAGE_BATCH = 16
BATCHES_AHEAD = 2
DOCUMENT_BATCH = 8
SAVE_INTERVAL_S = 30.0


@dataclass
class _Prepared:
    """A file read (and, for images, decoded) ahead of the model."""

    record: FileRecord
    nbytes: int = 0
    hash: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    pixels: Any = None  # the model's prepared input, not the full-size picture
    error: str | None = None
    seconds: float = 0.0  # decode-worker CPU time spent on it


def _read(record: FileRecord) -> tuple[bytes | None, str | None]:
    try:
        with open(record.path, "rb") as handle:
            return handle.read(), None
    except FileNotFoundError:
        return None, "file vanished before it could be read"
    except PermissionError:
        return None, "permission denied"
    except OSError as err:
        return None, f"cannot read ({err.strerror or err})"


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _prepare_image(
    record: FileRecord, prepare: Callable[[Image.Image], Any], draft_size: int | None
) -> _Prepared:
    # CPU time, not wall time: a worker starved by the model's threads waits longer, which
    # is the model's cost, not decoding's (wall time made the budget take cores away).
    start = time.thread_time()
    prepared = _decode_and_prepare(record, prepare, draft_size)
    prepared.seconds = time.thread_time() - start
    return prepared


def _decode_and_prepare(
    record: FileRecord, prepare: Callable[[Image.Image], Any], draft_size: int | None
) -> _Prepared:
    data, error = _read(record)
    if data is None:
        return _Prepared(record, error=error)
    prepared = _Prepared(record, nbytes=len(data), hash=bytes_hash(data))
    try:
        image, meta = decode_image(data, draft_size=draft_size)
    except DecodeError as err:
        prepared.error = str(err)
        return prepared
    prepared.pixels = prepare(image)
    prepared.meta = {
        "hash": prepared.hash,
        "width": meta.width,
        "height": meta.height,
        "taken_at": meta.taken_at or _mtime(record.path),
        "camera": meta.camera,
    }
    return prepared


class _Committer:
    """Commits finished files of one vector set and keeps its index and the clock in step."""

    def __init__(self, library: Library, vset: VectorSet, index: VectorBackend) -> None:
        self.library, self.vset, self.index = library, vset, index
        self._last_save = time.monotonic()

    def commit(
        self,
        done: list[tuple[FileRecord, dict[str, Any], list[NewVector]]],
        failures: list[tuple[FileRecord, str, str | None]],
    ) -> None:
        store = self.library.store
        if done:
            added = store.commit_vectors(self.vset.id, done)
            if added:
                labels, vectors = zip(*added, strict=True)
                self.index.add(list(labels), np.stack(vectors))
        if failures:
            store.record_failures([(rec.id, err, digest) for rec, err, digest in failures])
        if time.monotonic() - self._last_save > SAVE_INTERVAL_S:
            self.index.save()
            self._last_save = time.monotonic()


def run_index(
    library: Library,
    clip: Callable[[], ImageTextEncoder],
    documents: Callable[[], SentenceTransformerEncoder],
    control: Control,
    *,
    model_ids: Callable[[str], str | None] = lambda modality: None,
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
    threads: int = 0,
) -> Iterator[Progress]:
    """Scan every root, then embed pending documents and images. See the module docstring.

    ``model_ids(modality)`` names the model that is now chosen for a modality (None if it is
    not known without loading it), so that a model change re-embeds even when no file changed.
    ``threads`` fixes the image model's thread count (0: decided by :class:`ThreadBudget`).
    """
    try:
        yield Progress("scanning", message="Looking for new and changed files")
        for report in sync(library.store, library.store.roots(), exclude, include_hidden):
            control.checkpoint()
            yield Progress("scanning", done=report.seen, message=f"{report.seen} files found")
        library.drop_labels(report.freed)
        if _needs_work(library, DOCUMENT, model_ids(DOCUMENT)):
            yield from _embed_documents(library, documents(), control)
        if _needs_work(library, IMAGE, model_ids(IMAGE)):
            yield from _embed_images(library, clip(), control, threads)
        yield Progress(
            "done",
            message=_summary(
                report.added, report.changed, report.moved, report.removed, report.offline_roots
            )
            + "".join(f"; cannot read folder {i.path}: {i.error}" for i in report.issues),
        )
    except CancelledError:
        yield Progress("cancelled", message="Stopped; everything finished so far is kept")
    except (OSError, sqlite3.Error) as err:
        # A full or read-only data folder stops the run; everything committed stays.
        known = storage_error(err, library.home)
        if known is None:
            raise
        raise known from err
    finally:
        library.save_indexes()


def _summary(added: int, changed: int, moved: int, removed: int, offline: list[str]) -> str:
    parts = [f"{added} new", f"{changed} changed", f"{moved} moved", f"{removed} removed"]
    text = ", ".join(parts)
    if offline:
        text += f"; {len(offline)} folder(s) offline, kept as they were: {', '.join(offline)}"
    return text


def _needs_work(library: Library, kind: str, model_id: str | None) -> bool:
    """Pending files, a half-built set, or a different model chosen than the one that built."""
    sets = library.store.vector_sets(kind)
    return bool(
        library.store.pending_files(kind, limit=1)
        or any(s.state == "building" for s in sets)
        or (sets and model_id is not None and model_id not in {s.model_id for s in sets})
    )


def _finish_if_complete(library: Library, vset: VectorSet, kind: str) -> None:
    if not library.store.pending_files(kind, limit=1):
        library.finish_set(vset)


class _NoThreads:
    """For encoders without a thread setting (test doubles): the budget changes nothing."""

    def set_threads(self, threads: int) -> None:
        return None


def _embed_images(
    library: Library, encoder: ImageTextEncoder, control: Control, threads: int = 0
) -> Iterator[Progress]:
    vset = library.target_set(IMAGE, IMAGE, encoder.model_id, encoder.dim)
    committer = _Committer(library, vset, library.index_for(vset))
    pending = library.store.pending_files(IMAGE)
    meter = RateMeter("images", len(pending))
    batches = [pending[i : i + IMAGE_BATCH] for i in range(0, len(pending), IMAGE_BATCH)]
    draft_size: int | None = getattr(encoder, "draft_size", None)
    yield meter.progress
    lower_priority()
    threaded: Any = encoder if hasattr(encoder, "set_threads") else _NoThreads()
    budget = ThreadBudget(threaded, threads)
    with ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="snapfind-decode", initializer=lower_priority
    ) as pool:

        def submit(batch: list[FileRecord]) -> list[Future[_Prepared]]:
            return [
                pool.submit(_prepare_image, rec, encoder.prepare_image, draft_size) for rec in batch
            ]

        ahead = [submit(batch) for batch in batches[:BATCHES_AHEAD]]
        try:
            for number in range(len(batches)):
                control.checkpoint()
                current = [f.result() for f in ahead.pop(0)]
                if number == 0:
                    budget.first_batch(sum(item.seconds for item in current), len(current))
                # Keep the worker decoding ahead while this batch is being encoded.
                if number + BATCHES_AHEAD < len(batches):
                    ahead.append(submit(batches[number + BATCHES_AHEAD]))
                start = time.perf_counter()
                counts = _encode_and_commit(current, encoder, vset, committer)
                budget.record(
                    sum(item.seconds for item in current),
                    time.perf_counter() - start,
                    len(current),
                )
                yield meter.update(**counts)
        finally:
            for futures in ahead:
                for future in futures:
                    future.cancel()
            budget.close()
    _finish_if_complete(library, vset, IMAGE)


def _encode_and_commit(
    batch: list[_Prepared], encoder: ImageTextEncoder, vset: VectorSet, committer: _Committer
) -> dict[str, Any]:
    store = committer.library.store
    done: list[tuple[FileRecord, dict[str, Any], list[NewVector]]] = []
    failures: list[tuple[FileRecord, str, str | None]] = []
    to_encode: list[_Prepared] = []
    for item in batch:
        if item.error is not None:
            failures.append((item.record, item.error, item.hash))
        elif item.hash and (twin := store.vectors_for_hash(vset.id, item.hash)):
            done.append((item.record, item.meta, twin))  # same content already embedded
        else:
            to_encode.append(item)
    if to_encode:
        vectors = encoder.embed_prepared([item.pixels for item in to_encode])
        for item, vector in zip(to_encode, vectors, strict=True):
            done.append((item.record, item.meta, [NewVector(vector)]))
    committer.commit(done, failures)
    return {
        "done": len(batch),
        "failed": len(failures),
        "nbytes": sum(item.nbytes for item in batch),
        "current": batch[-1].record.path if batch else None,
    }


def _embed_documents(
    library: Library, encoder: SentenceTransformerEncoder, control: Control
) -> Iterator[Progress]:
    vset = library.target_set(DOCUMENT, DOCUMENT, encoder.model_id, encoder.dim)
    committer = _Committer(library, vset, library.index_for(vset))
    pending = library.store.pending_files(DOCUMENT)
    meter = RateMeter("documents", len(pending))
    yield meter.progress
    for start in range(0, len(pending), DOCUMENT_BATCH):
        control.checkpoint()
        batch = pending[start : start + DOCUMENT_BATCH]
        done: list[tuple[FileRecord, dict[str, Any], list[NewVector]]] = []
        failures: list[tuple[FileRecord, str, str | None]] = []
        nbytes = 0
        for record in batch:
            data, error = _read(record)
            digest = bytes_hash(data) if data is not None else None
            nbytes += len(data or b"")
            try:
                if data is None:
                    raise DecodeError(error or "cannot read")
                text = decode_text(data)
            except DecodeError as err:
                failures.append((record, str(err), digest))
                continue
            meta = {"hash": digest, "taken_at": _mtime(record.path)}
            twin = library.store.vectors_for_hash(vset.id, digest or "")
            if twin:
                done.append((record, meta, twin))
                continue
            chunks = chunk_text(text, encoder.max_tokens, encoder.count_tokens)
            vectors = encoder.embed_texts([c.text for c in chunks])
            done.append(
                (
                    record,
                    meta,
                    [
                        NewVector(v, (c.line_start, c.line_end))
                        for c, v in zip(chunks, vectors, strict=True)
                    ],
                )
            )
        committer.commit(done, failures)
        yield meter.update(
            done=len(batch), failed=len(failures), nbytes=nbytes, current=batch[-1].path
        )
    _finish_if_complete(library, vset, DOCUMENT)
