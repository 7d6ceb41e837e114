"""The rows the library keeps, as plain values that every layer can pass around."""

import sqlite3
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from desktop_app.core import paths

IMAGE = "image"
DOCUMENT = "document"


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
    id: int
    modality: str
    model_id: str
    dim: int
    state: str


@dataclass(frozen=True)
class NewVector:
    """One embedding to commit; ``lines`` is the chunk's line range for documents."""

    vector: np.ndarray
    lines: tuple[int, int] | None = None
