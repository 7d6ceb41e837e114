"""The indexing pipeline: scan, then embed what is pending, in batches, committing as it goes.

``run_index`` is a generator of :class:`Progress`. It is one loop for every media kind and
pass (a kind fills its spaces in one pass, or leaves slow ones to a later pass): each
kind's extractor (see :mod:`desktop_app.core.kinds`) turns a file into metadata and units in a
decode worker that reads two batches ahead of the models, so reading and decoding overlap
encoding; each embedding space's model embeds its units of the batch at once; the batch is
committed to SQLite in one transaction and then added to the vector backends, so a search
running at the same time sees every committed file, and a cancel or crash loses at most the
batch in flight. A file is embedded only in the spaces where its vector set does not hold it
yet, and a file whose content was embedded before (a copy) reuses those units. The picture
model's share of the cores is set by :class:`threads.ThreadBudget`, and indexing runs at
background priority. A file that cannot be read or decoded is recorded with its error and the
rest goes on.
"""

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from desktop_app.core.db.library import Library
from desktop_app.core.db.records import FileRecord, FileUnits, NewUnit, VectorSet
from desktop_app.core.db.storage import storage_error
from desktop_app.core.encoders.base import DocumentTextEncoder, ImageTextEncoder, TextEncoder
from desktop_app.core.errors import CancelledError, KnownError
from desktop_app.core.indexing.completeness import (
    SwitchedOff,
    has_pending,
    kinds_filling,
    needs_work,
    newest_set,
    settle,
    spaces_on,
    switched_on,
)
from desktop_app.core.indexing.reading import FileSource
from desktop_app.core.indexing.sync import sync
from desktop_app.core.indexing.threads import ThreadBudget, lower_priority
from desktop_app.core.kinds import registry
from desktop_app.core.kinds.base import DecodeError, Extracted, Extractor, Pass, Unit
from desktop_app.core.kinds.speech import Transcriber
from desktop_app.core.progress import Control, Progress, RateMeter

FILE_BATCH = 16
# The first batch is smaller, so the first files are searchable about a second after the
# command starts (the model and its threads are still warming up then).
FIRST_BATCH = 4
BATCHES_AHEAD = 2
SAVE_INTERVAL_S = 30.0

# A space's model, loaded on first use: CLIP for "clip", the sentence model for "text".
Encoders = Callable[[str], TextEncoder]
# Files whose length is measured up front for a pass's "audio left"; the rest by their bytes.
MEASURED_FILES = 300


class SpaceModels:
    """The models of the spaces being filled, as extractors and the embedding step use them.

    Text models are shared between the decode worker (counting tokens to cut chunks) and the
    embedding step; a lock per space keeps one tokenizer call at a time, since fast tokenizers
    refuse concurrent use while a batch is encoded.
    """

    def __init__(
        self,
        encoders: dict[str, TextEncoder],
        transcriber: Callable[[], Transcriber] | None = None,
        control: Control | None = None,
    ) -> None:
        self.encoders = encoders
        self._locks = {space: threading.Lock() for space in encoders}
        self._transcriber = transcriber
        self._control = control or Control()

    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            raise DecodeError("no speech model is available to transcribe it")
        return self._transcriber()

    def checkpoint(self) -> None:
        self._control.checkpoint()

    def wants(self, space: str) -> bool:
        return space in self.encoders

    def _image(self, space: str) -> ImageTextEncoder:
        encoder = self.encoders[space]
        if not isinstance(encoder, ImageTextEncoder):
            raise TypeError(f"the {space} model does not embed pictures")
        return encoder

    def picture_input(self, space: str) -> tuple[Callable[[Any], Any], int | None]:
        encoder = self._image(space)
        return encoder.prepare_image, encoder.draft_size

    def text_window(self, space: str) -> tuple[int, Callable[[str], int]]:
        encoder = self.encoders[space]
        if not isinstance(encoder, DocumentTextEncoder):
            raise TypeError(f"the {space} model does not say how much text it reads")
        lock = self._locks[space]

        def count(text: str) -> int:
            with lock:
                return encoder.count_tokens(text)

        return encoder.max_tokens, count

    def embed(self, space: str, units: Sequence[Unit]) -> np.ndarray:
        """One vector per unit, in order: pixels through the picture tower, words through the
        text one (a space may hold both, e.g. video frames and their captions in CLIP's)."""
        vectors = np.zeros((len(units), self.encoders[space].dim), dtype=np.float32)
        pictures = [i for i, unit in enumerate(units) if unit.pixels is not None]
        words = [i for i, unit in enumerate(units) if unit.pixels is None]
        if pictures:
            prepared = [units[i].pixels for i in pictures]
            vectors[pictures] = self._image(space).embed_prepared(prepared)
        if words:
            with self._locks[space]:
                vectors[words] = self.encoders[space].embed_texts(
                    [units[i].text or "" for i in words]
                )
        return vectors


@dataclass
class _Prepared:
    """A file read and cut into units ahead of the models."""

    record: FileRecord
    nbytes: int = 0
    hash: str | None = None
    extracted: Extracted | None = None
    error: str | None = None
    seconds: float = 0.0  # decode-worker CPU time spent on it


def _prepare(record: FileRecord, kind: Extractor, models: SpaceModels) -> _Prepared:
    # CPU time, not wall time: a worker starved by the model's threads waits longer, which
    # is the model's cost, not decoding's (wall time made the budget take cores away).
    start = time.thread_time()
    source = FileSource(record.path)
    prepared = _Prepared(record, nbytes=record.size)
    try:
        prepared.extracted = kind.extract(source, models)
    except DecodeError as err:
        prepared.error = str(err)
    prepared.hash = source.content_hash()
    prepared.seconds = time.thread_time() - start
    return prepared


class _Committer:
    """Commits finished files and keeps the vector backends and the save clock in step."""

    def __init__(self, library: Library, targets: dict[str, VectorSet]) -> None:
        self.library = library
        self.indexes = {vset.id: library.index_for(vset) for vset in targets.values()}
        self._last_save = time.monotonic()

    def commit(
        self,
        done: list[FileUnits],
        failures: list[tuple[FileRecord, str, str | None]],
    ) -> None:
        added = self.library.store.commit_units(
            done, [(rec.id, err, digest) for rec, err, digest in failures]
        )
        for set_id, pairs in added.items():
            labels, vectors = zip(*pairs, strict=True)
            self.indexes[set_id].add(list(labels), np.stack(vectors))
        if time.monotonic() - self._last_save > SAVE_INTERVAL_S:
            for index in self.indexes.values():
                index.save()
            self._last_save = time.monotonic()


def run_index(
    library: Library,
    encoders: Encoders,
    control: Control,
    *,
    model_ids: Callable[[str], str | None] = lambda space: None,
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
    threads: int = 0,
    transcriber: Callable[[], Transcriber] | None = None,
    switched_off: SwitchedOff = frozenset,
) -> Iterator[Progress]:
    """Scan every root, then embed what is pending, pass by pass: every kind's quick passes,
    then the later ones (OCR, speech). See the module docstring.

    ``model_ids(space)`` names the model that is now chosen for a space (None if it is not
    known without loading it), so that a model change re-embeds even when no file changed.
    ``threads`` fixes the picture model's thread count (0: decided by :class:`ThreadBudget`).
    ``transcriber`` loads the speech model (on first use) for the kinds that transcribe.
    ``switched_off()`` names the passes a person turned off (reading text in pictures): they
    are skipped, a pass switched off while it runs stops after its batch, and files count as
    indexed without them.
    A kind whose model cannot be loaded (not downloaded yet) does not hold up the others: its
    error is raised once they are done.
    """
    unavailable: KnownError | None = None
    try:
        yield Progress("scanning", message="Looking for new and changed files")
        for report in sync(library.store, library.store.roots(), exclude, include_hidden):
            control.checkpoint()
            yield Progress("scanning", done=report.seen, message=f"{report.seen} files found")
        library.drop_labels(report.freed)
        settle(library, switched_off())
        for kind, step in _passes():
            if not switched_on(step, switched_off) or not any(
                needs_work(library, kind.name, space, model_ids(space)) for space in step.spaces
            ):
                continue
            loaded: dict[str, TextEncoder] = {}
            for space in step.spaces:
                try:
                    loaded[space] = encoders(space)
                except KnownError as err:  # e.g. not downloaded: the other spaces go on
                    unavailable = unavailable or err
            if loaded:
                models = SpaceModels(loaded, transcriber, control)
                yield from _embed_pass(library, kind, step, models, control, threads, switched_off)
        settle(library, switched_off())
        if unavailable is not None:
            raise unavailable
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


def _passes() -> Iterator[tuple[Extractor, Pass]]:
    """Every kind's quick passes, then every kind's later ones (see :class:`Pass`)."""
    for later in (False, True):
        for kind in registry.kinds():
            for step in kind.passes:
                if step.later == later:
                    yield kind, step


class _FixedThreads:
    """For kinds without a picture model: there is no thread budget to keep."""

    def first_batch(self, decode_s: float, files: int) -> None:
        return None

    def record(self, decode_s: float, model_s: float, files: int) -> None:
        return None

    def close(self) -> None:
        return None


def _budget(models: SpaceModels, threads: int) -> ThreadBudget | _FixedThreads:
    """The picture model shares the cores with the decode worker (see :mod:`threads`)."""
    pictures = [e for e in models.encoders.values() if isinstance(e, ImageTextEncoder)]
    return ThreadBudget(pictures[0], threads) if pictures else _FixedThreads()


def _embed_pass(
    library: Library,
    kind: Extractor,
    step: Pass,
    models: SpaceModels,
    control: Control,
    threads: int,
    switched_off: SwitchedOff,
) -> Iterator[Progress]:
    targets = {
        space: library.target_set(space, encoder.model_id, encoder.dim)
        for space, encoder in models.encoders.items()
    }
    # The kind's spaces that other passes fill: a file is indexed once their newest sets
    # hold it too (None: a space never filled yet, so no file of the kind is complete).
    # Passes switched off do not count (see :attr:`Pass.switch`).
    off = switched_off()
    others = {
        space: newest_set(library, space)
        for space in spaces_on(kind, off)
        if space not in step.spaces
    }
    pending = library.store.pending_files(kind.name, [vset.id for vset in targets.values()])
    if pending:  # else only a set left building (e.g. by a crash) to finish
        still_on = partial(switched_on, step, switched_off)
        yield from _embed_files(
            library, kind, step, pending, models, targets, others, control, threads, still_on
        )
    off = switched_off()
    for space, vset in targets.items():
        if not has_pending(library, kinds_filling(space, off), vset):
            library.finish_set(vset)


def _embed_files(
    library: Library,
    kind: Extractor,
    step: Pass,
    pending: list[FileRecord],
    models: SpaceModels,
    targets: dict[str, VectorSet],
    others: dict[str, VectorSet | None],
    control: Control,
    threads: int,
    still_on: Callable[[], bool],
) -> Iterator[Progress]:
    committer = _Committer(library, targets)
    lengths = _media_lengths(step, pending)
    meter = RateMeter(
        step.label,
        len(pending),
        verb=step.verb,
        media_s=sum(lengths.values()) if lengths is not None else None,
    )
    size = step.files_per_batch or FILE_BATCH
    first = min(size, FIRST_BATCH)
    batches = [pending[:first]] + [pending[i : i + size] for i in range(first, len(pending), size)]
    yield meter.progress
    lower_priority()
    budget = _budget(models, threads)
    with ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="snapfind-decode", initializer=lower_priority
    ) as pool:

        def submit(batch: list[FileRecord]) -> list[Future[_Prepared]]:
            return [pool.submit(_prepare, record, kind, models) for record in batch]

        ahead = [submit(batch) for batch in batches[:BATCHES_AHEAD]]
        try:
            for number in range(len(batches)):
                control.checkpoint()
                if not still_on():  # switched off meanwhile: the files left need it no more
                    return
                current = [f.result() for f in ahead.pop(0)]
                if number == 0:
                    budget.first_batch(sum(item.seconds for item in current), len(current))
                # Keep the worker reading ahead while this batch is being embedded.
                if number + BATCHES_AHEAD < len(batches):
                    ahead.append(submit(batches[number + BATCHES_AHEAD]))
                start = time.perf_counter()
                counts = _embed_and_commit(current, step, models, targets, others, committer)
                if lengths is not None:
                    counts["media_s"] = sum(lengths[item.record.id] for item in current)
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


def _media_lengths(step: Pass, pending: list[FileRecord]) -> dict[int, float] | None:
    """file id -> seconds of media, for a pass that measures them: read from the headers of
    the first files, estimated from the bytes of the rest (a header read costs a few ms)."""
    if step.measure is None:
        return None
    lengths: dict[int, float] = {}
    for record in pending[:MEASURED_FILES]:
        lengths[record.id] = step.measure(record.path) or 0.0
    measured_bytes = sum(record.size for record in pending[:MEASURED_FILES])
    per_byte = sum(lengths.values()) / measured_bytes if measured_bytes else 0.0
    for record in pending[MEASURED_FILES:]:
        lengths[record.id] = record.size * per_byte
    return lengths


def _embed_and_commit(
    batch: list[_Prepared],
    step: Pass,
    models: SpaceModels,
    targets: dict[str, VectorSet],
    others: dict[str, VectorSet | None],
    committer: _Committer,
) -> dict[str, Any]:
    """Embed the units each file still lacks, space by space, and commit the batch."""
    store = committer.library.store
    holds = store.embedded_sets([item.record.id for item in batch])
    loaded = len(targets) == len(step.spaces)  # else a space's model is missing
    done: list[FileUnits] = []
    failures: list[tuple[FileRecord, str, str | None]] = []
    to_embed: dict[str, list[tuple[int, Unit]]] = {}  # space -> (position in done, unit)
    for item in batch:
        if item.error is not None or item.extracted is None:
            failures.append((item.record, item.error or "cannot read", item.hash))
            continue
        per_set: dict[int, list[NewUnit]] = {}
        position = len(done)
        meta = item.extracted.meta | {"hash": item.hash}
        if meta.get("taken_at") is None:
            meta["taken_at"] = item.record.mtime_ns / 1e9
        complete = loaded and all(
            vset is not None and vset.id in holds[item.record.id] for vset in others.values()
        )
        done.append(FileUnits(item.record, meta, per_set, complete))
        for space, vset in targets.items():
            if vset.id in holds[item.record.id]:
                continue  # already embedded in this space
            twin = store.units_for_hash(vset.id, item.hash) if item.hash else None
            if twin is not None:
                per_set[vset.id] = twin  # same content already embedded
                continue
            per_set[vset.id] = []
            units = [u for u in item.extracted.units if u.space == space]
            to_embed.setdefault(space, []).extend((position, u) for u in units)
    for space, pairs in to_embed.items():
        if not pairs:
            continue
        vectors = models.embed(space, [unit for _, unit in pairs])
        set_id = targets[space].id
        for (position, unit), vector in zip(pairs, vectors, strict=True):
            done[position].units[set_id].append(NewUnit(vector, unit.span, unit.text))
    committer.commit(done, failures)
    return {
        "done": len(batch),
        "failed": len(failures),
        "nbytes": sum(item.nbytes for item in batch),
        "current": batch[-1].record.path if batch else None,
    }
