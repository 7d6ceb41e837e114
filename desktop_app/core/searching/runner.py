"""Running a query of weighted terms against the library: embed each term in each embedding
space, combine them, find the nearest files that pass the filters, and calibrate relevance.

Kept apart from the :class:`~desktop_app.core.engine.Engine` facade, which hands in its models
(loaded lazily, one per space) and its file lookup.
"""

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from PIL import Image

from desktop_app.core import paths
from desktop_app.core.db.library import Library
from desktop_app.core.db.records import FileRecord, VectorSet
from desktop_app.core.encoders.base import ImageTextEncoder, TextEncoder, normalise
from desktop_app.core.errors import KnownError
from desktop_app.core.indexing.sync import root_offline
from desktop_app.core.kinds import registry
from desktop_app.core.kinds.base import WORD_SPACES, DecodeError
from desktop_app.core.kinds.image import decode_image
from desktop_app.core.searching import keywords, relevance
from desktop_app.core.searching.companions import collapse
from desktop_app.core.searching.filters import Filters
from desktop_app.core.searching.fusion import fuse
from desktop_app.core.searching.ranking import Calibrate, Hit, merge, rank
from desktop_app.core.searching.terms import MAX_TEXT_CHARS, Query, Term
from desktop_app.core.vectors.backend import Scope, ScopedSearch

# Which rankings answer a query: both fused (the default), or one alone (for comparison).
FUSED, MEANING, KEYWORDS = "fused", "meaning", "keywords"
MODES = (FUSED, MEANING, KEYWORDS)
_PAIR_SLACK = 8  # extra hits fetched, as RAW + JPEG pairs shown once leave fewer than k


def _plain(term: Term) -> Term:
    """A term as the meaning search embeds it: words without quotes and ``name:`` prefixes."""
    if term.kind != "text":
        return term
    words = keywords.parse(str(term.value))
    return replace(term, value=words.meaning_text) if words.required else term


class QueryRunner:
    """Answers queries for one library; safe to use from several threads at once."""

    def __init__(
        self,
        library: Library,
        encoders: Callable[[str], TextEncoder],
        file: Callable[[int], FileRecord],
    ) -> None:
        self.library = library
        self._encoders = encoders
        self._file = file
        self._neutral = relevance.NeutralVectors(library.home / "models" / "neutral")

    def run(
        self,
        query: Query,
        k: int,
        *,
        kinds: tuple[str, ...],
        filters: Filters,
        mode: str = FUSED,
    ) -> list[Hit]:
        """The best ``k`` files for a query of weighted terms (see :mod:`terms`), each with a
        calibrated relevance (see :mod:`relevance`), under ``filters``.

        A space is searched when every term has a place in it: words everywhere, pictures
        where the space's model embeds pictures (CLIP), indexed files where they have units.
        The words are also looked up in the keyword index (names, folders, tags, every unit's
        text; see :mod:`keywords`) and both rankings fused (see :mod:`fusion`); ``mode``
        keeps one side only ("meaning", "keywords") for comparison. Indexed files used as
        terms are left out of the results. Files in folders that are offline (an unplugged
        drive) are hidden until the folder is back. Each file appears once, at its best hit
        across spaces, and a RAW photo with its camera's JPEG once (see :mod:`companions`).
        """
        if query.is_empty:
            return []
        if mode not in MODES:
            raise KnownError(f"Unknown search mode {mode!r}: use {', '.join(MODES)}.")
        # Words only: with a picture among the terms, a file must look like it, which no
        # word in its name says.
        terms = query.effective
        words = keywords.parse(
            " ".join(str(t.value) for t in terms if t.weight > 0)
            if all(t.kind == "text" for t in terms)
            else ""
        )
        wanted = tuple(kind for kind in kinds if filters.allows_kind(kind))
        where, online = self._where(filters)  # once per query: it looks at every folder
        scope = replace(filters.scope(), roots=online)
        fetch = k + _PAIR_SLACK
        names_only = not words.is_empty and all(t.field for t in words.tokens)
        meaning: list[Hit] = []
        if mode != KEYWORDS and not (names_only and query.words_only):
            meaning = self._meaning(query, fetch, wanted, where, scope)
        if mode == MEANING or words.is_empty or not wanted:
            hits = meaning
        else:
            condition, params = where
            condition += f" AND f.kind IN ({','.join('?' * len(wanted))})"
            reader = self.library.reader()
            found = keywords.search(reader.conn, words, fetch, (condition, [*params, *wanted]))
            shown = {hit.file_id for hit in meaning}
            records = reader.files([m.file_id for m in found if m.file_id not in shown])
            hits = fuse(meaning, found, records, fetch, required=words.required)
        return collapse(self.library.reader(), hits, k)

    def _meaning(
        self,
        query: Query,
        k: int,
        wanted: tuple[str, ...],
        where: tuple[str, list[object]],
        scope: Scope,
    ) -> list[Hit]:
        """The meaning search: each space's nearest files, merged by relevance."""
        terms = tuple(_plain(t) for t in query.effective)
        exclude = frozenset(int(t.value) for t in terms if t.kind == "file" and t.weight > 0)
        lists = []
        for space in registry.spaces():
            held = registry.kinds_in(space)
            kept = [kind for kind in held if kind in wanted]
            if not kept:
                continue
            if space in WORD_SPACES and any(t.kind == "image" for t in terms):
                continue  # a picture has no place among words: their model need not load
            vset = self._vector_set(space, terms)
            if vset is None:
                continue
            embedded = [self._embed_term(t, space, vset) for t in terms]
            vectors = [v for v in embedded if v is not None]
            if len(vectors) < len(terms):
                continue
            weights = np.array([t.weight for t in terms], dtype=np.float32)
            combined = normalise(weights @ np.stack(vectors))
            calibrate = self._calibration(query, space, vset, combined)
            condition, params = where
            if len(kept) < len(held):  # the space also holds kinds left out
                condition += f" AND f.kind IN ({','.join('?' * len(kept))})"
                params = params + kept
            units = max(registry.get(kind).typical_units for kind in kept)
            narrowed = replace(scope, kinds=tuple(kept) if len(kept) < len(held) else ())
            lists.append(
                self._rank(
                    vset, combined, k, calibrate, (condition, params, narrowed), exclude, units
                )
            )
        if not lists:
            self._check_indexed(terms)
        return merge(lists, k)

    def _check_indexed(self, terms: tuple[Term, ...]) -> None:
        """A file asked about ("more like this") that no space holds yet is an error to show,
        not an empty result."""
        reader = self.library.reader()
        for term in terms:
            if term.kind != "file":
                continue
            record = self._file(int(term.value))
            sets = [self.library.searchable_set(s) for s in registry.get(record.kind).spaces]
            if not any(v is not None and reader.vectors_of_file(v.id, record.id) for v in sets):
                raise KnownError(f"{paths.display(record.path)} is not indexed yet.")

    def _vector_set(self, space: str, terms: tuple[Term, ...]) -> VectorSet | None:
        """The vectors this query can be compared with.

        After a model change the previous model's set stays searchable until the new one is
        complete, but its vectors are in another space (perhaps of another size). A query of
        indexed files only ("more like this") stays in that complete set, since it uses their
        stored vectors; any query the current model must embed searches the files it has
        re-embedded so far instead.
        """
        vset = self.library.searchable_set(space)
        if vset is None or not self.library.reader().holds_units(vset.id):
            return None  # an empty space (pictures without text): its model need not load
        if all(t.kind == "file" for t in terms):
            return vset
        model_id = self._encoders(space).model_id
        if vset.model_id == model_id:
            return vset
        return next(
            (s for s in self.library.reader().vector_sets(space) if s.model_id == model_id), None
        )

    def _embed_term(self, term: Term, space: str, vset: VectorSet) -> np.ndarray | None:
        """The term's unit vector in ``space``; None if it has no place there."""
        if term.kind == "text":
            # Lone surrogates (undecodable bytes in argv) crash the tokenizers: make them U+FFFD.
            words = str(term.value)[:MAX_TEXT_CHARS]
            words = words.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            return self._encoders(space).embed_texts([words])[0]
        if term.kind == "image":
            model = self._encoders(space)
            if not isinstance(model, ImageTextEncoder):
                return None
            # At the reduced JPEG scale the indexer uses (DCT scaling, 3-4x faster on camera
            # JPEGs), so a picture that is in the library embeds exactly as it was indexed.
            picture = self._read_picture(term.value, model.draft_size)
            return model.embed_images([picture])[0]
        record = self._file(int(term.value))
        if space not in registry.get(record.kind).spaces:
            return None
        reader = self.library.reader()
        if term.at is not None:
            moment = reader.vector_at(vset.id, record.id, term.at)
            if moment is not None:
                return normalise(moment)
        stored = reader.vectors_of_file(vset.id, record.id)
        if not stored:  # not in this space (yet): a video whose soundtrack waits, or is silent
            return None
        return normalise(np.mean(stored, axis=0))

    @staticmethod
    def _read_picture(source: str | bytes | int, draft_size: int | None) -> Image.Image:
        if isinstance(source, bytes):
            data, label = source, "the pasted image"
        else:
            label = paths.display(str(source))
            try:
                with open(source, "rb") as handle:
                    data = handle.read()
            except OSError as err:
                raise KnownError(f"Cannot read {label}: {err.strerror or err}.") from None
        try:
            picture, _ = decode_image(data, draft_size=draft_size)
        except DecodeError as err:
            raise KnownError(f"Cannot search by {label}: {err}.") from None
        return picture

    def _calibration(
        self, query: Query, space: str, vset: VectorSet, combined: np.ndarray
    ) -> Calibrate:
        """How this query's cosines become relevances; see :mod:`relevance`."""
        if query.words_only:
            model = self._encoders(space)
            neutral = self._neutral.get(space, model)
            scale = model.logit_scale
            index = self.library.index_for(vset)
            return lambda scores, labels: relevance.against_neutral(
                scores, index.vectors(labels), neutral, scale
            )
        sample = self.library.index_for(vset).sample()
        return lambda scores, _: relevance.against_library(scores, combined, sample)

    def _where(self, filters: Filters) -> tuple[tuple[str, list[object]], tuple[int, ...] | None]:
        """The filters' SQL condition, plus: nothing from a folder that is offline (an
        unplugged drive) until it is back; and the online roots when some are offline."""
        condition, params = filters.where()
        roots = self.library.reader().roots()
        online = [r.id for r in roots if not root_offline(r.path, True)]
        if len(online) < len(roots):
            condition += f" AND f.root_id IN ({','.join('?' * len(online)) or 'NULL'})"
            params = params + online
            return (condition, params), tuple(online)
        return (condition, params), None

    def _rank(
        self,
        vset: VectorSet,
        query: np.ndarray,
        k: int,
        calibrate: Calibrate,
        where: tuple[str, list[object], Scope],
        exclude: frozenset[int],
        units_per_file: int,
    ) -> list[Hit]:
        """The space's best ``k``. A backend that filters by itself (Milvus) is handed the
        filters as a scope; otherwise SQLite names the labels that pass them."""
        reader = self.library.reader()
        condition, params, scope = where
        index = self.library.index_for(vset)
        allowed = None
        scoped: Scope | None = None
        if condition != "1" and isinstance(index, ScopedSearch):
            scoped = scope
        elif condition != "1":
            allowed = reader.labels_matching(vset.id, condition, params)
        return rank(
            reader,
            vset.id,
            index,
            query,
            k,
            calibrate,
            allowed=allowed,
            scope=scoped,
            check=(condition, params) if scoped is not None and scoped.approximate else None,
            exclude_files=exclude,
            units_per_file=units_per_file,
            with_words=vset.space in WORD_SPACES,
        )
