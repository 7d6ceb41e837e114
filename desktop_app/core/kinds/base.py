"""What every media kind shares: the extractor protocol, units, spans and embedding spaces.

A file's *kind* (picture, document, later video, audio…) says how it is read; an embedding
*space* says which model turns its units into vectors. They are not the same thing: one file
can give units in several spaces (a picture: a CLIP vector now, OCR text later; a video: frames
and a transcript), and one space holds units of several kinds (the text space: notes, and later
transcripts and text read in pictures).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from desktop_app.core.kinds.speech import Transcriber

# The embedding spaces. CLIP's joint picture/text space, and sentence embeddings of text.
CLIP = "clip"
TEXT = "text"
# The spaces whose units are words, stored with their vectors (a hit quotes them).
WORD_SPACES = frozenset({TEXT})

SpanUnit = Literal["line", "second", "page"]

# The passes a person can switch off (Settings), by name: see :attr:`Pass.switch`.
READ_TEXT_IN_PICTURES = "read text in pictures"


class DecodeError(Exception):
    """This file cannot be used; the message says why, in words a person understands."""


@dataclass(frozen=True)
class Span:
    """Where in a file a unit sits: lines ``start``-``end`` (1-based, inclusive), or seconds,
    or pages."""

    start: float
    end: float
    unit: SpanUnit

    def describe(self) -> str:
        """The place as a person reads it: "lines 3-7", "@ 01:23", "page 4"."""
        if self.unit == "second":
            return f"@ {clock(self.start)}"
        first, last = int(self.start), int(self.end)
        word = "line" if self.unit == "line" else "page"
        return f"{word} {first}" if first == last else f"{word}s {first}-{last}"


def clock(seconds: float) -> str:
    """A moment as a person reads it: "01:23", "1:02:03"."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    clock = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours}:{clock}" if hours else clock


@dataclass(frozen=True)
class Pass:
    """One sweep of the indexer over a kind's files, filling some of its spaces.

    Slow work (reading text in pictures, transcribing speech) is a ``later`` pass: the indexer
    runs every kind's quick passes over the whole library first, so that a library is
    searchable by look within minutes and by its words after. Each pass is its own progress
    phase, named by ``label`` ("images", "text in images"), and can be paused or crash in the
    middle without losing the passes done.
    """

    label: str
    spaces: tuple[str, ...]
    later: bool = False
    # How progress names the work ("Transcribing 3 of 41 recordings").
    verb: str = "Indexing"
    # Files committed together (0: the indexer's batch). Slow files (a recording takes seconds
    # to minutes) go one at a time, so a pause or a crash loses at most the file in hand.
    files_per_batch: int = 0
    # The seconds of media a file holds, from its header, where the work grows with a file's
    # length: progress then tells the time of media left ("12 min of audio left").
    measure: Callable[[str], float | None] | None = None
    # The switch a person can turn this pass off with (e.g. :data:`READ_TEXT_IN_PICTURES`);
    # None: it always runs. Switched off, the kind's files count as indexed without this
    # pass's spaces, and what it stored before stays searchable.
    switch: str | None = None


@dataclass(frozen=True)
class Unit:
    """What gets one vector: a picture, a chunk of a document, later a video frame, a spoken
    segment or a block of text read in a picture.

    ``pixels`` is the space's model input, already prepared (resized, normalised) in the decode
    worker, so that only model-sized inputs wait in memory; ``text`` is a text unit's words,
    embedded and also stored, so that a hit's snippet never re-reads the file.
    """

    space: str
    pixels: Any = None
    text: str | None = None
    span: Span | None = None


@dataclass
class Extracted:
    """One file's metadata (the ``files`` columns it fills) and its units. Without a
    ``taken_at`` of its own (EXIF, a container's creation time), a file is dated by its
    modification time, which the scan already read."""

    meta: dict[str, Any] = field(default_factory=dict)
    units: list[Unit] = field(default_factory=list)


class Source(Protocol):
    """The file an extractor reads. Pictures and notes take the whole content at once
    (``read``); a kind whose files can be huge (videos, recordings, long PDFs) opens ``path``
    itself and streams it, so a file never has to fit in memory."""

    @property
    def path(self) -> str: ...

    def read(self) -> bytes:
        """The whole content, read once; raises :class:`DecodeError` when it cannot be read."""
        ...


class UnitModels(Protocol):
    """What extractors may ask of a space's model while they cut a file into units: prepare a
    picture for it, or count tokens to fit its window. Only the spaces asked for are loaded."""

    def wants(self, space: str) -> bool:
        """Whether units in ``space`` are wanted now (its model is loaded); an extractor skips
        the work of units nobody will embed."""
        ...

    def picture_input(self, space: str) -> tuple[Callable[[Any], Any], int | None]:
        """(prepare an upright RGB picture for the space's model, the JPEG draft size)."""
        ...

    def text_window(self, space: str) -> tuple[int, Callable[[str], int]]:
        """(the space's model's token window, a token counter)."""
        ...

    def transcriber(self) -> "Transcriber":
        """The speech-to-text model (not an embedding space: it makes text units), loaded on
        first use; raises :class:`DecodeError` when there is none."""
        ...

    def checkpoint(self) -> None:
        """Called by long extractions (a recording's transcript) between steps: blocks while
        indexing is paused, raises to stop it."""
        ...


class Extractor(Protocol):
    """One media kind: which files it claims and how one file becomes units.

    ``extract`` runs in the decode worker, so it must be thread-safe and raise
    :class:`DecodeError` (never anything else) for a file it cannot use.
    """

    @property
    def name(self) -> str:
        """The kind's name as stored in ``files.kind``: "image", "document"."""
        ...

    @property
    def label(self) -> str:
        """The kind in a sentence, plural ("images", "documents"); also its indexing phase."""
        ...

    @property
    def extensions(self) -> frozenset[str]:
        """Lower-case file name endings it claims, with the dot."""
        ...

    @property
    def file_types(self) -> Mapping[str, Sequence[str]]:
        """File types a person can filter by, each with the extensions that make it."""
        ...

    @property
    def spaces(self) -> tuple[str, ...]:
        """The embedding spaces its units go into."""
        ...

    @property
    def passes(self) -> tuple[Pass, ...]:
        """How its spaces are filled: usually one pass over all of them; slow ones later.
        Together they cover :attr:`spaces`, each space once."""
        ...

    @property
    def typical_units(self) -> int:
        """About how many units a file gives in a space: a search's first guess of how many
        neighbours to fetch for ``k`` different files (it fetches more when short)."""
        ...

    def sniff(self, head: bytes) -> bool:
        """Whether the first bytes of a file without an extension are this kind."""
        ...

    def extract(self, source: Source, models: UnitModels) -> Extracted:
        """The file's metadata and the units of the spaces ``models`` wants now (one pass's);
        raises :class:`DecodeError` when it is unusable."""
        ...
