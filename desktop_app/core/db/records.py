"""The rows the library keeps, as plain values that every layer can pass around."""

import sqlite3
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from desktop_app.core import paths
from desktop_app.core.kinds.base import Span


@dataclass(frozen=True)
class Root:
    id: int
    path: str
    added_at: float


@dataclass(frozen=True)
class FileRecord:
    """One row of ``files``, with the path decoded back to a filesystem path."""

    id: int
    root_id: int
    path: str
    size: int
    mtime_ns: int
    hash: str | None
    kind: str
    width: int | None
    height: int | None
    taken_at: float | None
    camera: str | None
    status: str
    error: str | None
    duration: float | None = None  # seconds (videos, recordings)
    media: str | None = None  # JSON details of a video or recording
    tags: str | None = None  # the words its camera or photo manager wrote (EXIF/XMP/IPTC)
    exposure: bool | None = None  # a camera recorded an exposure (None: not known)

    @classmethod
    def from_row(cls, row: sqlite3.Row | dict[str, Any]) -> "FileRecord":
        return cls(
            id=row["id"],
            root_id=row["root_id"],
            path=paths.from_db(row["path"]),
            size=row["size"],
            mtime_ns=row["mtime_ns"],
            hash=row["hash"],
            kind=row["kind"],
            width=row["width"],
            height=row["height"],
            taken_at=row["taken_at"],
            camera=row["camera"],
            status=row["status"],
            error=row["error"],
            duration=row["duration"],
            media=row["media"],
            tags=row["tags"],
            exposure=None if row["exposure"] is None else bool(row["exposure"]),
        )


class KnownFile(NamedTuple):
    """What a re-scan compares a file on disk with (a plain tuple: 100k of them are cheap)."""

    id: int
    size: int
    mtime_ns: int
    hash: str | None
    kind: str


@dataclass(frozen=True)
class VectorSet:
    """One model's vectors in one embedding space ("clip", "text"); ``state`` is "building"
    until every file that has units in the space is embedded, then "ready"."""

    id: int
    space: str
    model_id: str
    dim: int
    state: str


@dataclass(frozen=True)
class NewUnit:
    """One embedded unit to commit: its vector, its place in the file, a text unit's words."""

    vector: np.ndarray
    span: Span | None = None
    text: str | None = None


@dataclass
class FileUnits:
    """What one finished file gives a commit: its metadata, its new units per vector set, and
    whether it is now embedded in every space its kind fills (else it stays pending)."""

    record: FileRecord
    meta: dict[str, Any]
    units: dict[int, list[NewUnit]]
    complete: bool = True
