"""The lines of text read in pictures, with their boxes, kept by content hash for the preview.

Stored as plain rows, not vectors: the text units (see :mod:`desktop_app.core.kinds.
picture_text`) carry the words that are searched; these say where each read line sits, so the
preview can draw the boxes of the lines a hit matched.
"""

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from desktop_app.core.ocr.reader import TextLine


def save_text_lines(conn: sqlite3.Connection, content_hash: str, lines: Sequence[Any]) -> None:
    """Replace the lines kept for a content (``lines``: :class:`TextLine` values, in order)."""
    conn.execute("DELETE FROM text_lines WHERE hash = ?", (content_hash,))
    conn.executemany(
        "INSERT INTO text_lines (hash, line, text, score, box) VALUES (?, ?, ?, ?, ?)",
        [
            (content_hash, number, line.text, line.score, json.dumps(line.box))
            for number, line in enumerate(lines, start=1)
        ],
    )


def load_text_lines(conn: sqlite3.Connection, content_hash: str) -> list[TextLine]:
    """The lines read in a content, in reading order ([] when none were read)."""
    rows = conn.execute(
        "SELECT text, score, box FROM text_lines WHERE hash = ? ORDER BY line", (content_hash,)
    ).fetchall()
    return [
        TextLine(text, tuple((float(x), float(y)) for x, y in json.loads(box)), float(score))
        for text, score, box in rows
    ]
