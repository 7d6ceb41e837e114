"""Conditions on the files a search may return: date taken, folder, type, shape, size, camera,
where a picture came from (a camera, or a screen), and whether the file has text in it.

They become one SQL condition over ``files``, evaluated before the nearest-neighbour search so
that the top ``k`` is the top ``k`` of the filtered set (see :mod:`search`), not a post-filter
that leaves too few results.
"""

import os
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from desktop_app.core import paths
from desktop_app.core.errors import KnownError
from desktop_app.core.kinds import registry
from desktop_app.core.vectors.backend import Scope

ORIENTATIONS = ("landscape", "portrait", "square")
# Where a picture came from: a camera recorded an exposure (time, aperture, ISO) in its EXIF; a
# screenshot, a drawing or an exported graphic has none. CLIP alone ranks camera photos of
# screens for "screenshot": this asks the metadata instead.
ORIGINS = ("camera", "screenshot")
# Width and height within this fraction of each other count as square.
SQUARE_TOLERANCE = 0.02
_ALIASES = {
    "jpg": "jpeg",
    "tif": "tiff",
    "heif": "heic",
    "txt": "text",
    "md": "markdown",
    "docx": "word",
    "pptx": "powerpoint",
    "slides": "powerpoint",
    "odt": "opendocument",
    "odp": "opendocument",
    "htm": "html",
    "ebook": "epub",
}
# Plural and everyday names for the kinds.
_KIND_WORDS = {
    "images": "image",
    "pictures": "image",
    "photos": "image",
    "documents": "document",
    "notes": "document",
    "videos": "video",
    "movies": "video",
    "clips": "video",
    "raws": "raw",
}


@dataclass(frozen=True)
class Filters:
    """Every field narrows the search; the defaults allow everything."""

    after: float | None = None  # taken at or after (epoch seconds)
    before: float | None = None  # taken before
    folders: tuple[str, ...] = ()  # under any of these folders
    types: tuple[str, ...] = ()  # file type names or kind names (see the kinds registry)
    orientation: str | None = None
    min_side: int | None = None  # shorter side at least this many pixels
    camera: str | None = None  # camera make/model contains this (any case)
    origin: str | None = None  # "camera" (exposure data) or "screenshot" (a picture without)
    has_text: bool = False  # words were read in it: a document's text, text in a picture…

    def __post_init__(self) -> None:
        if self.origin is not None and self.origin not in ORIGINS:
            raise KnownError(f"Unknown origin {self.origin!r}: use {', '.join(ORIGINS)}.")
        if self.orientation is not None and self.orientation not in ORIENTATIONS:
            raise KnownError(
                f"Unknown orientation {self.orientation!r}: use {', '.join(ORIENTATIONS)}."
            )
        for name in self.types:
            canonical(name)
        if self.after is not None and self.before is not None and self.after >= self.before:
            raise KnownError("The date range is empty: the start is not before the end.")

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) not in (None, (), False) for f in fields(self))

    def where(self) -> tuple[str, list[Any]]:
        """An SQL condition over ``files f`` and its parameters ("1" when nothing is set)."""
        parts: list[str] = []
        params: list[Any] = []
        if self.folders:
            either = []
            for folder in self.folder_paths():
                prefix = paths.to_db(folder.rstrip(os.sep) + os.sep)
                either.append("(f.path = ? OR substr(f.path, 1, ?) = ?)")
                params += [paths.to_db(folder), len(prefix), prefix]
            parts.append("(" + " OR ".join(either) + ")")
        if self.after is not None:
            parts.append("f.taken_at >= ?")
            params.append(self.after)
        if self.before is not None:
            parts.append("f.taken_at < ?")
            params.append(self.before)
        if self.types:
            kinds = [canonical(t) for t in self.types if canonical(t) in registry.names()]
            types = registry.file_types()
            extensions = [
                e for t in self.types if canonical(t) in types for e in types[canonical(t)]
            ]
            either = [f"f.kind IN ({','.join('?' * len(kinds))})"] if kinds else []
            either += ["lower(f.path) LIKE ?"] * len(extensions)
            parts.append("(" + " OR ".join(either) + ")")
            params += kinds + [f"%{e}" for e in extensions]
        if self.orientation is not None:
            parts.append(_ORIENTATION_SQL[self.orientation])
            if self.orientation == "square":
                params.append(SQUARE_TOLERANCE)
            else:
                params.append(1 + SQUARE_TOLERANCE)
        if self.min_side is not None:
            parts.append("min(f.width, f.height) >= ?")
            params.append(self.min_side)
        if self.camera:
            parts.append("f.camera LIKE ? ESCAPE '\\'")
            params.append("%" + _escape_like(self.camera.strip()) + "%")
        if self.origin == "camera":
            parts.append("f.exposure = 1")
        elif self.origin == "screenshot":
            parts.append("(f.exposure = 0 AND f.kind = 'image')")
        if self.has_text:
            parts.append(
                "EXISTS (SELECT 1 FROM units t WHERE t.file_id = f.id AND t.text IS NOT NULL)"
            )
        return (" AND ".join(parts) or "1"), params

    def scope(self) -> Scope:
        """The same conditions as :meth:`where`, for an engine that filters by itself."""
        kinds = tuple(canonical(t) for t in self.types if canonical(t) in registry.names())
        types = registry.file_types()
        extensions = tuple(
            e for t in self.types if canonical(t) in types for e in types[canonical(t)]
        )
        return Scope(
            after=self.after,
            before=self.before,
            folders=tuple(paths.to_db(f) for f in self.folder_paths()),
            folder_separator=os.sep,
            type_kinds=kinds,
            type_extensions=extensions,
            orientation=self.orientation,
            square_tolerance=SQUARE_TOLERANCE,
            min_side=self.min_side,
            camera=self.camera.strip() if self.camera else None,
        )

    def allows_kind(self, kind: str) -> bool:
        """Whether the type filter lets any file of ``kind`` (image, document…) through."""
        if not self.types:
            return True
        wanted = {canonical(t) for t in self.types}
        types = registry.file_types()
        return kind in wanted or any(
            t in types and registry.kind_of_type(t) == kind for t in wanted
        )

    def folder_paths(self) -> list[str]:
        return [os.path.abspath(os.path.expanduser(f)) for f in self.folders]


_ORIENTATION_SQL = {
    "landscape": "f.width > f.height * ?",
    "portrait": "f.height > f.width * ?",
    "square": "abs(f.width - f.height) <= max(f.width, f.height) * ?",
}


def canonical(type_name: str) -> str:
    """A kind or file type name as the registry spells it ("JPG" -> "jpeg", "photos" ->
    "image"); raises a :class:`KnownError` listing the choices for any other word."""
    name = type_name.strip().lower().lstrip(".")
    name = _ALIASES.get(name, name)
    name = _KIND_WORDS.get(name, name)
    if name in registry.names() or name in registry.file_types():
        return name
    for type_name, extensions in registry.file_types().items():  # "dng", "nef" -> "raw"
        if "." + name in extensions:
            return type_name
    raise KnownError(
        f"Unknown file type {type_name!r}: use {', '.join(registry.names())} or one of "
        f"{', '.join(registry.file_types())}."
    )


def parse_date(value: str, *, end: bool = False) -> float:
    """A date as a person writes it (2024, 2024-06, 2024-06-30, or an ISO time), as epoch
    seconds in local time: the start of that period, or with ``end`` the start of the next one
    (for an inclusive "up to and including June 2024")."""
    text = value.strip()
    try:
        if len(text) == 4 and text.isdigit():
            year = int(text)
            return datetime(year + 1 if end else year, 1, 1).timestamp()
        if len(text) == 7 and text[4] == "-":
            year, month = int(text[:4]), int(text[5:])
            if end:
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            return datetime(year, month, 1).timestamp()
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day).timestamp()
            return moment + 86400 if end else moment
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise KnownError(
            f"Cannot read the date {value!r}: write it as 2024, 2024-06 or 2024-06-30."
        ) from None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
