"""Schema migrations: a library written by an earlier Snapfind opens, keeps what it can, and
re-reads only what it must."""

import fcntl
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EngineFactory
from gui_support import make_notes, make_photos

from desktop_app.core.db.migrations import MIGRATIONS
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.errors import KnownError
from desktop_app.core.indexing.scanner import content_hash
from desktop_app.core.kinds.base import CLIP, TEXT
from desktop_app.core.kinds.image import decode_image


def _schema_2_library(
    home: Path, photos: list[Path], notes: list[Path], clip: OpenClipEncoder, text: Any
) -> None:
    """A library as version 2 wrote it: kinds as vector-set modalities, float32 rows in
    ``vectors`` with line ranges, index files named after the modality."""
    home.mkdir(parents=True)
    conn = sqlite3.connect(home / "library.db", isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.execute(
        "INSERT INTO roots (id, path, added_at) VALUES (1, ?, 0)", (str(photos[0].parents[1]),)
    )
    conn.execute(
        "INSERT INTO vector_sets VALUES (1, 'image', ?, ?, 'image-1.hnsw', 'ready', ?, 0)",
        (clip.model_id, clip.dim, len(photos)),
    )
    conn.execute(
        "INSERT INTO vector_sets VALUES (2, 'document', ?, ?, 'document-2.hnsw', 'ready', ?, 0)",
        (text.model_id, text.dim, len(notes)),
    )
    files = [(p, "image") for p in photos] + [(p, "document") for p in notes]
    for file_id, (path, kind) in enumerate(files, start=1):
        st = os.stat(path)
        conn.execute(
            "INSERT INTO files (id, root_id, path, size, mtime_ns, hash, kind, status)"
            " VALUES (?, 1, ?, ?, ?, ?, ?, 'indexed')",
            (file_id, str(path), st.st_size, st.st_mtime_ns, content_hash(str(path)), kind),
        )
    pictures = [decode_image(p.read_bytes(), draft_size=clip.draft_size)[0] for p in photos]
    for label, vector in enumerate(clip.embed_images(pictures)):
        conn.execute(
            "INSERT INTO vectors VALUES (1, ?, ?, NULL, NULL, ?)",
            (label, label + 1, vector.astype(np.float32).tobytes()),
        )
    texts = [p.read_text("utf-8") for p in notes]
    for label, vector in enumerate(text.embed_texts(texts)):
        lines = len(texts[label].splitlines())
        conn.execute(
            "INSERT INTO vectors VALUES (2, ?, ?, 1, ?, ?)",
            (label, len(photos) + label + 1, lines, vector.astype(np.float32).tobytes()),
        )
    conn.close()


def test_a_schema_2_library_keeps_its_pictures_and_rereads_its_notes(
    make_engine: EngineFactory,
    home: Path,
    tmp_path: Path,
    tiny_clip: OpenClipEncoder,
    minilm: SentenceTransformerEncoder,
    picture_batches: list[int],
) -> None:
    photos = make_photos(tmp_path / "library" / "photos", 4)
    notes = make_notes(tmp_path / "library" / "notes")
    _schema_2_library(home, photos, notes, tiny_clip, minilm)
    engine = make_engine()
    store = engine.library.reader()
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert [(s.space, s.state) for s in store.vector_sets()] == [(CLIP, "ready"), (TEXT, "ready")]
    # Pictures wait for the text-in-images pass (OCR); their CLIP vectors stay.
    assert engine.status().counts["image"] == {"pending": 4}
    assert engine.status().counts["document"] == {"pending": 3}  # their words are not stored
    before = engine.search_image(str(photos[2]), k=1)  # searchable as migrated
    assert Path(before[0].path) == photos[2] and before[0].score == pytest.approx(1.0, abs=1e-5)
    notes_before = engine.search("cooking pasta", k=3, kinds=("document",))
    assert notes_before and all(h.snippet is None for h in notes_before)

    picture_batches.clear()  # the picture query above ran the picture tower
    assert list(engine.index())[-1].phase == "done"
    assert picture_batches == [], "migrated pictures were embedded again"
    assert engine.status().counts["document"] == {"indexed": 3}
    assert engine.status().counts["image"] == {"indexed": 4}
    notes_after = engine.search("cooking pasta", k=3, kinds=("document",))
    assert notes_after[0].snippet and notes_after[0].line_start == 1
    assert store.vector_count(store.vector_sets(TEXT)[0].id) >= 3


def test_a_library_from_a_newer_snapfind_is_refused(make_engine: EngineFactory, home: Path) -> None:
    home.mkdir(parents=True)
    conn = sqlite3.connect(home / "library.db")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(KnownError, match="newer Snapfind"):
        make_engine()
    with open(home / "writer.lock", "a+") as handle:  # the refused open let the lock go
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
