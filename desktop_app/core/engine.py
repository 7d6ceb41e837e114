"""The one facade both faces (CLI and GUI) use. Everything here is headless and Qt-free.

Models load lazily, on first use, and stay warm. Encoders come in through constructor
arguments so tests can hand in small deterministic models; by default they are built from the
person's settings. Every public method is safe to call from any thread; index() is a generator
meant to run in one worker at a time.
"""

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core import paths
from desktop_app.core.db.library import Library
from desktop_app.core.db.records import FileRecord, Root
from desktop_app.core.db.storage import storage_error
from desktop_app.core.db.text_lines import load_text_lines
from desktop_app.core.encoders import catalog as model_catalog
from desktop_app.core.encoders.base import DocumentTextEncoder, ImageTextEncoder
from desktop_app.core.encoders.chosen import models_in_use
from desktop_app.core.engine_models import EngineModels
from desktop_app.core.errors import KnownError, NotIndexedError
from desktop_app.core.indexing.completeness import settle
from desktop_app.core.indexing.indexer import run_index
from desktop_app.core.indexing.sync import root_offline
from desktop_app.core.indexing.watcher import FolderWatcher
from desktop_app.core.kinds import registry
from desktop_app.core.kinds.base import CLIP, READ_TEXT_IN_PICTURES, DecodeError, Span
from desktop_app.core.kinds.document import DocumentExtractor
from desktop_app.core.kinds.image import ImageExtractor
from desktop_app.core.kinds.raw import RawExtractor
from desktop_app.core.kinds.speech import Transcriber
from desktop_app.core.kinds.video import VideoExtractor
from desktop_app.core.ocr.reader import TextLine
from desktop_app.core.progress import Control, Progress
from desktop_app.core.searching import browse as browsing
from desktop_app.core.searching import terms as query_terms
from desktop_app.core.searching.duplicates import DEFAULT_LEVEL, find_groups, parse_threshold
from desktop_app.core.searching.duplicates import Group as DuplicateGroup
from desktop_app.core.searching.duplicates import Report as DuplicateReport
from desktop_app.core.searching.filters import Filters
from desktop_app.core.searching.ranking import Hit
from desktop_app.core.searching.runner import QueryRunner
from desktop_app.core.searching.terms import Query
from desktop_app.core.settings import Settings
from desktop_app.core.thumbnails import page_thumbnail, thumbnail, video_thumbnail


@dataclass(frozen=True)
class RootStatus:
    path: str
    online: bool
    indexed: int
    pending: int
    failed: int
    searchable: int = 0  # of the pending: found by look already, their words still to read


@dataclass(frozen=True)
class Status:
    home: str
    roots: list[RootStatus]
    counts: dict[str, dict[str, int]]  # kind -> status -> n
    model: str
    vector_sets: list[dict[str, object]]
    database_bytes: int
    index_bytes: int
    thumbnail_bytes: int
    errors: int = field(default=0)
    read_text_in_pictures: bool = True  # the setting: OCR on


def _folder_bytes(folder: Path) -> int:
    total = 0
    for base, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.path.getsize(os.path.join(base, name))
            except OSError:
                continue
    return total


class Engine(EngineModels):
    """Open a library in ``home`` (see :func:`paths.resolve_home`) as its writer or a reader."""

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        writer: bool = True,
        clip_loader: Callable[[], ImageTextEncoder] | None = None,
        text_loader: Callable[[], DocumentTextEncoder] | None = None,
        speech_loader: Callable[[], Transcriber] | None = None,
    ) -> None:
        self.home = paths.resolve_home(home)
        self.library = Library(self.home, writer=writer)
        self.catalog = model_catalog.ModelCatalog(self.home)
        self._settings_path = self.home / "settings.json"
        self.settings = Settings.load(self._settings_path)
        self.encoders = models_in_use(
            self.catalog, self.settings, clip=clip_loader, text=text_loader, speech=speech_loader
        )
        self._queries = QueryRunner(self.library, self.encoders.get, self.file)

    def close(self) -> None:
        from desktop_app.core.encoders.packed_clip import PackedClipEncoder

        clip = self.encoders.clip.loaded()
        if isinstance(clip, PackedClipEncoder):
            # A load of the full model still under way in the background: let it end before
            # the process can (a thread killed inside torch's import could hang the exit).
            # Never longer than today's path, which loads it before the first picture.
            clip.wait_for_full_model()
        self.library.close()

    def reopen(self, *, writer: bool = True) -> None:
        """Open the library again, as its writer or a reader, and let go of the one open.

        A move to another vector store (:mod:`db.moving`) needs the writer lock: the engine
        becomes a reader meanwhile (searches go on, on the old store), then the writer again,
        on whichever store the library then names. The new library is opened before the old
        one closes, so a search never finds none; writer to writer cannot (one lock).
        """
        old = self.library
        if old.writer and writer:
            old.close()
        new = Library(self.home, writer=writer)
        self.library, self._queries = new, QueryRunner(new, self.encoders.get, self.file)
        old.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- roots -------------------------------------------------------------------------------

    def roots(self) -> list[Root]:
        return self.library.reader().roots()

    def add_root(self, folder: str | os.PathLike[str], *, exist_ok: bool = False) -> Root:
        """Add a folder to the library; one already in it (or inside one) is an error, or
        with ``exist_ok`` gives the library's folder that holds it."""
        path = os.path.abspath(os.fspath(folder))
        if not os.path.isdir(path):
            raise KnownError(f"{paths.display(path)} is not a folder.")
        for root in self.roots():
            if path == root.path or path.startswith(root.path.rstrip(os.sep) + os.sep):
                if exist_ok:
                    return root
                raise KnownError(
                    f"{paths.display(path)} is already in the library "
                    f"(inside {paths.display(root.path)})."
                )
        return self.library.store.add_root(path)

    def remove_root(self, folder: str | os.PathLike[str]) -> None:
        """Forget a folder and its entries. The files themselves are never touched."""
        path = os.path.abspath(os.fspath(folder))
        for root in self.roots():
            if root.path == path:
                self.library.drop_labels(self.library.store.remove_root(root.id))
                self.library.save_indexes()
                return
        raise NotIndexedError(f"{paths.display(path)} is not one of the library's folders.")

    # -- indexing ----------------------------------------------------------------------------

    def index(self, control: Control | None = None) -> Iterator[Progress]:
        """Scan every folder and embed what is new or changed; see :mod:`indexer`."""
        return run_index(
            self.library,
            self.encoders.get,
            control or Control(),
            model_ids=self.encoders.model_id,
            exclude=self.settings.exclude,
            include_hidden=self.settings.include_hidden,
            threads=self.settings.threads,
            transcriber=self.encoders.speech,
            switched_off=self._switched_off,
        )

    def _switched_off(self) -> frozenset[str]:
        """The passes the person turned off, read by the running index at every batch: a
        change applies at once."""
        on = self.settings.read_text_in_pictures
        return frozenset() if on else frozenset({READ_TEXT_IN_PICTURES})

    def set_read_text_in_pictures(self, on: bool) -> None:
        """Read text in pictures (OCR) or not. Off, pictures count as indexed by their look
        alone and text read before stays searchable; on again, the next index run reads the
        pictures not read yet, and until then they count as pending."""
        self.settings.read_text_in_pictures = on
        self.settings.save(self._settings_path)
        if self.library.writer:  # the counts a face shows follow at once, not at the next run
            settle(self.library, self._switched_off())

    def watch(self, on_change: Callable[[], None]) -> FolderWatcher:
        """Start watching every root; ``on_change`` runs (in a background thread) after changes
        settle, and the caller then runs :meth:`index`. Stop it with ``.stop()``."""
        watcher = FolderWatcher([r.path for r in self.roots()], on_change, ignore=[str(self.home)])
        watcher.start()
        return watcher

    def retry_failed(self) -> int:
        return self.library.store.retry_failed()

    # -- search ------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load what the first search needs (the searchable indexes and the query models), so
        that it answers as fast as the next ones; a face calls this in the background at start.

        Models for a space with nothing indexed are not loaded (a picture library's text space
        is empty until OCR finds words). Safe from any thread.
        """
        for space in registry.spaces():
            vset = self.library.searchable_set(space)
            if vset is None or not self.library.reader().holds_units(vset.id):
                continue
            self.library.index_for(vset)
            if self.encoders.available(space):
                # The first call also pays torch's set-up.
                self.encoders.get(space).embed_texts(["a photo"])
        self.prepare_text_queries()

    def search(
        self,
        text: str,
        k: int = 20,
        *,
        kinds: tuple[str, ...] = (),
        filters: Filters | None = None,
    ) -> list[Hit]:
        """Pictures (CLIP) and documents (MiniLM) for a description, merged by relevance;
        ``kinds`` limits the results to those kinds of file (default: all)."""
        return self.query(Query((query_terms.text(text),)), k, kinds=kinds, filters=filters)

    def search_image(
        self,
        image: str | os.PathLike[str] | bytes,
        k: int = 20,
        *,
        filters: Filters | None = None,
    ) -> list[Hit]:
        """Pictures like a given one: a file anywhere, or raw bytes (dropped or pasted)."""
        return self.query(Query((query_terms.image(image),)), k, filters=filters)

    def similar(
        self,
        target: int | str | os.PathLike[str],
        k: int = 20,
        *,
        filters: Filters | None = None,
        at: float | None = None,
    ) -> list[Hit]:
        """More like an indexed file, from its stored vector (no re-embedding); excludes it.
        ``at``: a video's moment, so that frame is the query rather than the whole video."""
        record = self.file(target)
        term = query_terms.indexed_file(record.id, at=at)
        return self.query(Query((term,)), k, filters=filters)

    def query(
        self,
        query: Query,
        k: int = 20,
        *,
        kinds: tuple[str, ...] = (),
        filters: Filters | None = None,
        mode: str = "fused",
    ) -> list[Hit]:
        """The best ``k`` files for a query of weighted terms; see :class:`QueryRunner`
        (``mode``: "fused", or "meaning" / "keywords" alone)."""
        return self._queries.run(
            query, k, kinds=kinds or registry.names(), filters=filters or Filters(), mode=mode
        )

    def browse(self, kinds: Sequence[str], filters: Filters | None = None) -> browsing.Timeline:
        """The indexed files of ``kinds`` passing ``filters``, newest first, in month groups:
        the library without a query. Ids only; :meth:`browse_page` makes the hits shown."""
        return browsing.timeline(self.library.reader(), kinds, filters or Filters())

    def browse_page(self, file_ids: Sequence[int]) -> list[Hit | None]:
        """Hits for rows of a timeline (None for a file gone since)."""
        return browsing.page(self.library.reader(), file_ids)

    def duplicate_scan(
        self,
        threshold: float | str = DEFAULT_LEVEL,
        folders: Sequence[str] | None = None,
        control: Control | None = None,
    ) -> Iterator[Progress | DuplicateReport]:
        """Groups of duplicate pictures (see :mod:`duplicates`): progress, then one report.

        ``threshold`` is a cosine or a level name ("exact", "near", "similar"); ``folders``
        limits the scan to those library folders. Files are never touched.
        """
        cosine = parse_threshold(threshold)
        vset = self.library.searchable_set(CLIP)
        if vset is None:
            yield DuplicateReport([], cosine, 0)
            return
        reader = self.library.reader()
        wanted = {os.path.abspath(f) for f in folders} if folders is not None else None
        root_ids = None if wanted is None else {r.id for r in reader.roots() if r.path in wanted}
        index = self.library.index_for(vset)
        yield from find_groups(reader, vset.id, index, cosine, root_ids=root_ids, control=control)

    def duplicates(
        self, threshold: float | str = DEFAULT_LEVEL, folders: Sequence[str] | None = None
    ) -> list[DuplicateGroup]:
        """The groups of :meth:`duplicate_scan`, largest first, each with its keeper first."""
        scan = self.duplicate_scan(threshold, folders)
        return next(r for r in scan if isinstance(r, DuplicateReport)).groups

    # -- files, thumbnails, status -----------------------------------------------------------

    def file(self, target: int | str | os.PathLike[str]) -> FileRecord:
        store = self.library.reader()
        if isinstance(target, int):
            record = store.file(target)
        else:
            record = store.file_by_path(os.path.abspath(os.fspath(target)))
        if record is None:
            raise NotIndexedError(f"{target} is not in the library.")
        return record

    def thumbnail(
        self,
        target: int | str | os.PathLike[str],
        size: int = 256,
        *,
        at: float | None = None,
        page: int = 1,
    ) -> Path | None:
        """A cached JPEG thumbnail of an indexed picture or RAW photo, of a video's frame at
        ``at`` seconds (default: its first), or of a PDF's ``page``; None for other
        documents."""
        record = self.file(target)
        pictured = (ImageExtractor.name, RawExtractor.name, VideoExtractor.name)
        is_pdf = record.kind == DocumentExtractor.name and record.path.lower().endswith(".pdf")
        if not record.hash or (record.kind not in pictured and not is_pdf):
            return None
        try:
            if record.kind == VideoExtractor.name:
                return video_thumbnail(
                    self.library.thumbnail_dir, record.path, record.hash, size, at or 0.0
                )
            if is_pdf:
                return page_thumbnail(
                    self.library.thumbnail_dir, record.path, record.hash, size, page
                )
            return thumbnail(self.library.thumbnail_dir, record.path, record.hash, size)
        except DecodeError as err:
            raise KnownError(f"No thumbnail for {paths.display(record.path)}: {err}.") from None
        except OSError as err:
            raise storage_error(err, self.home) or err from None

    def moments(self, target: int | str | os.PathLike[str]) -> list[Span]:
        """The moments of an indexed video that were embedded (its kept frames), in order."""
        record = self.file(target)
        vset = self.library.searchable_set(CLIP)
        if vset is None:
            return []
        return self.library.reader().spans_of_file(vset.id, record.id)

    def text_lines(self, target: int | str) -> list[TextLine]:
        """The lines of text read in an indexed picture, with their boxes ([] when none)."""
        record = self.file(target)
        if not record.hash:
            return []
        return load_text_lines(self.library.reader().conn, record.hash)

    def cameras(self) -> list[str]:
        """The cameras named in the library's pictures, for a camera filter to offer."""
        return self.library.reader().cameras()

    def errors(self) -> list[FileRecord]:
        return self.library.reader().failed_files()

    def root_status(self) -> list[RootStatus]:
        """Each folder with its counts: cheap (one query), for a face to refresh often."""
        store = self.library.reader()
        per_root = store.count_by_root()
        return [
            RootStatus(
                r.path,
                not root_offline(r.path, any(n for (rid, _), n in per_root.items() if rid == r.id)),
                per_root.get((r.id, "indexed"), 0),
                per_root.get((r.id, "pending"), 0),
                per_root.get((r.id, "failed"), 0),
                per_root.get((r.id, "searchable"), 0),
            )
            for r in store.roots()
        ]

    def status(self) -> Status:
        """Everything about the library, disk use included (walks the data folder)."""
        store = self.library.reader()
        counts: dict[str, dict[str, int]] = {kind: {} for kind in registry.names()}
        for (kind, state), n in store.count_by_status().items():
            counts.setdefault(kind, {})[state] = n
        roots = self.root_status()
        sets = [
            {
                "space": s.space,
                "modality": ",".join(registry.kinds_in(s.space)),  # kept for --json readers
                "model_id": s.model_id,
                "dim": s.dim,
                "state": s.state,
                "vectors": store.vector_count(s.id),
            }
            for s in store.vector_sets()
        ]
        db = self.home / "library.db"
        db_bytes = sum(p.stat().st_size for p in (db, db.with_name("library.db-wal")) if p.exists())
        return Status(
            home=str(self.home),
            roots=roots,
            counts=counts,
            model=self.settings.clip_model,
            vector_sets=sets,
            database_bytes=db_bytes,
            index_bytes=self.library.vector_store.disk_bytes(),
            thumbnail_bytes=_folder_bytes(self.library.thumbnail_dir),
            errors=sum(c.get("failed", 0) for c in counts.values()),
            read_text_in_pictures=self.settings.read_text_in_pictures,
        )
