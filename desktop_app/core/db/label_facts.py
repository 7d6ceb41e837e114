"""What a vector store that filters by itself needs to know about each label's file.

A server-side engine (Milvus) evaluates a search's filters next to the vectors, so it keeps a
copy of the few file attributes the filters look at. SQLite stays their source: this reads them
for given labels, and names the labels whose file moved since a moment (a move keeps a file's
labels but changes its folder, name and root).
"""

import os
from collections.abc import Callable
from typing import Any

from desktop_app.core.db.store import Store
from desktop_app.core.vectors.backend import FileFacts

_CHUNK = 500


class LabelFacts:
    """:class:`~desktop_app.core.vectors.backend.LabelFactSource` over a library's SQLite.

    ``reader`` returns the calling thread's own connection (see :meth:`Library.reader`).
    """

    def __init__(self, reader: Callable[[], Store]) -> None:
        self._reader = reader

    def facts(self, set_id: int, labels: list[int]) -> dict[int, FileFacts]:
        """label -> its file's attributes, for the labels SQLite holds."""
        out: dict[int, FileFacts] = {}
        conn = self._reader().conn
        for start in range(0, len(labels), _CHUNK):
            chunk = labels[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                "SELECT u.label, u.file_id, f.root_id, f.path, f.kind, f.taken_at, f.width,"
                " f.height, f.camera FROM units u JOIN files f ON f.id = u.file_id"
                f" WHERE u.set_id = ? AND u.label IN ({marks})",
                (set_id, *chunk),
            )
            for row in rows:
                out[row[0]] = _facts(row)
        return out

    def moved_since(self, set_id: int, moment: float) -> list[int]:
        """Labels of files whose record changed after ``moment`` (epoch seconds)."""
        rows = self._reader().conn.execute(
            "SELECT u.label FROM units u JOIN files f ON f.id = u.file_id"
            " WHERE u.set_id = ? AND f.updated_at > ?",
            (set_id, moment),
        )
        return [row[0] for row in rows]


def _facts(row: Any) -> FileFacts:
    _, file_id, root_id, path, kind, taken_at, width, height, camera = row
    return FileFacts(
        file_id=file_id,
        root_id=root_id,
        path=path,
        extension=os.path.splitext(path)[1].lower(),
        kind=kind,
        taken_at=taken_at,
        width=width,
        height=height,
        camera=camera,
    )
