"""The one list of media kinds. A new kind is a module in this folder plus a line here.

Scanner, filters, search and the faces ask this registry which kinds exist, which files each
claims, the file types a person can filter by, and which embedding spaces each fills.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from desktop_app.core.errors import KnownError
from desktop_app.core.kinds.audio import AudioExtractor
from desktop_app.core.kinds.base import Extractor
from desktop_app.core.kinds.document import DocumentExtractor
from desktop_app.core.kinds.image import ImageExtractor
from desktop_app.core.kinds.raw import RawExtractor
from desktop_app.core.kinds.video import VideoExtractor

_KINDS: list[Extractor] = [
    ImageExtractor(),
    DocumentExtractor(),
    RawExtractor(),
    VideoExtractor(),
    AudioExtractor(),
]


def kinds() -> tuple[Extractor, ...]:
    """Every kind, in the order results and counts list them."""
    return tuple(_KINDS)


def names() -> tuple[str, ...]:
    return tuple(kind.name for kind in _KINDS)


def get(name: str) -> Extractor:
    for kind in _KINDS:
        if kind.name == name:
            return kind
    raise KnownError(f"Unknown kind of file {name!r}: use {', '.join(names())}.")


def spaces() -> tuple[str, ...]:
    """Every embedding space some kind fills, each once, in registry order."""
    return tuple(dict.fromkeys(space for kind in _KINDS for space in kind.spaces))


def kinds_in(space: str) -> tuple[str, ...]:
    """The kinds whose units go into ``space``."""
    return tuple(kind.name for kind in _KINDS if space in kind.spaces)


def file_types() -> dict[str, tuple[str, ...]]:
    """File type name -> its extensions, across kinds."""
    return {name: tuple(exts) for kind in _KINDS for name, exts in kind.file_types.items()}


def kind_of_type(type_name: str) -> str:
    """The kind a file type belongs to ("jpeg" -> "image")."""
    return next(kind.name for kind in _KINDS if type_name in kind.file_types)


def kind_of(path: str, name: str) -> str | None:
    """The kind that claims a file: by extension, else (no extension) by its first bytes."""
    ext = os.path.splitext(name)[1].lower()
    if ext:
        return next((kind.name for kind in _KINDS if ext in kind.extensions), None)
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return None
    return next((kind.name for kind in _KINDS if kind.sniff(head)), None)


@contextmanager
def registered(extractor: Extractor) -> Iterator[Extractor]:
    """Add a kind for the duration of a ``with`` block (plug-ins and tests)."""
    _KINDS.append(extractor)
    try:
        yield extractor
    finally:
        _KINDS.remove(extractor)
