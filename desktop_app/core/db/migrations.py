"""Numbered schema migrations, tracked by SQLite's ``PRAGMA user_version``.

Each migration is one SQL script run inside a single transaction together with its version
bump, so a crash leaves the database at a whole version. Append new ones; never edit one that
has shipped.
"""

import sqlite3

from desktop_app.core.errors import KnownError

_M001_INITIAL = """
CREATE TABLE roots (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added_at REAL NOT NULL
);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    root_id INTEGER NOT NULL REFERENCES roots(id),
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT,                      -- blake2b-128 of the content; NULL until first read
    kind TEXT NOT NULL,             -- 'image' | 'document'
    width INTEGER,
    height INTEGER,
    taken_at REAL,                  -- EXIF DateTimeOriginal, else mtime (epoch seconds)
    camera TEXT,
    status TEXT NOT NULL,           -- 'pending' | 'indexed' | 'failed'
    error TEXT,
    updated_at REAL
);
CREATE INDEX files_root ON files(root_id);
CREATE INDEX files_hash ON files(hash);
CREATE INDEX files_kind_status ON files(kind, status);
CREATE TABLE vector_sets (
    id INTEGER PRIMARY KEY,
    modality TEXT NOT NULL,         -- 'image' (CLIP) | 'document' (sentence-transformers)
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    index_file TEXT NOT NULL,
    state TEXT NOT NULL,            -- 'building' | 'ready'
    next_label INTEGER NOT NULL,    -- labels are never reused
    created_at REAL NOT NULL,
    UNIQUE (modality, model_id)
);
CREATE TABLE vectors (
    set_id INTEGER NOT NULL REFERENCES vector_sets(id),
    label INTEGER NOT NULL,
    file_id INTEGER NOT NULL REFERENCES files(id),
    line_start INTEGER,             -- documents: first line of the chunk (1-based)
    line_end INTEGER,
    vector BLOB NOT NULL,           -- float32, L2-normalised; the index is rebuilt from these
    PRIMARY KEY (set_id, label)
);
CREATE INDEX vectors_set_file ON vectors(set_id, file_id);
CREATE INDEX vectors_file ON vectors(file_id);
"""

# Turning ANN labels into files reads (label → file, lines) only; each vectors row holds a 2 KB
# blob and fills a page of its own, so without this covering index every label of a result list
# cost a random page read (a 500-hit query on a 1M library: ~200 ms instead of a few).
_M002_LABEL_LOOKUP = """
CREATE INDEX vectors_label_lookup ON vectors(set_id, label, file_id, line_start, line_end);
"""

# Media kinds and embedding spaces come apart: a vector set belongs to a space ('clip', 'text'),
# not to a kind of file, and names no index file (its backend names its own by the set's id,
# which is therefore never reused). Each vector row becomes a *unit*: its span in the file
# (lines, seconds, pages), a text unit's words (so hits quote them without re-reading the file)
# and its vector. The table is altered in place, not copied: a copy would leave the old rows'
# pages free in the file, and a library twice its size. `embedded` records which files each set
# holds (possibly with no units), so that a file can be done in one space while still pending
# in another. Documents are marked pending so their chunks are read once more and their words
# stored; their old vectors stay searchable until then. Pictures keep theirs.
_M003_UNITS = """
CREATE TABLE new_vector_sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: old files never pass for a new set's
    space TEXT NOT NULL,            -- 'clip' (CLIP) | 'text' (sentence-transformers)
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    state TEXT NOT NULL,            -- 'building' | 'ready'
    next_label INTEGER NOT NULL,    -- labels are never reused
    created_at REAL NOT NULL,
    UNIQUE (space, model_id)
);
INSERT INTO new_vector_sets (id, space, model_id, dim, state, next_label, created_at)
    SELECT id, CASE modality WHEN 'image' THEN 'clip' WHEN 'document' THEN 'text'
        ELSE modality END, model_id, dim, state, next_label, created_at
    FROM vector_sets;
DROP TABLE vector_sets;
ALTER TABLE new_vector_sets RENAME TO vector_sets;
ALTER TABLE vectors RENAME TO units;
ALTER TABLE units RENAME COLUMN line_start TO span_start;  -- lines (1-based, inclusive), seconds…
ALTER TABLE units RENAME COLUMN line_end TO span_end;
ALTER TABLE units ADD COLUMN span_unit TEXT;  -- 'line' | 'second' | 'page'; NULL: the whole file
ALTER TABLE units ADD COLUMN text TEXT;       -- a text unit's words
UPDATE units SET span_unit = 'line' WHERE span_start IS NOT NULL;
DROP INDEX vectors_set_file;
DROP INDEX vectors_file;
DROP INDEX vectors_label_lookup;
CREATE INDEX units_set_file ON units(set_id, file_id);
CREATE INDEX units_file ON units(file_id);
CREATE INDEX units_label_lookup ON units(set_id, label, file_id, span_start, span_end, span_unit);
CREATE TABLE embedded (
    set_id INTEGER NOT NULL REFERENCES vector_sets(id),
    file_id INTEGER NOT NULL REFERENCES files(id),
    PRIMARY KEY (set_id, file_id)
) WITHOUT ROWID;
CREATE INDEX embedded_file ON embedded(file_id);
INSERT INTO embedded (set_id, file_id)
    SELECT s.id, f.id FROM vector_sets s JOIN files f ON f.kind = 'image'
    WHERE s.space = 'clip' AND (
        (s.state = 'ready' AND f.status = 'indexed'
            AND NOT EXISTS (SELECT 1 FROM vector_sets b WHERE b.space = 'clip'
                AND b.state = 'building'))
        OR EXISTS (SELECT 1 FROM units u WHERE u.set_id = s.id AND u.file_id = f.id));
UPDATE files SET status = 'pending' WHERE kind = 'document' AND status = 'indexed';
"""

# What was heard in a recording (or a video's soundtrack) besides its words: whether anyone
# speaks (music and silence are recorded as such, not as errors), the language, its length,
# and what was skipped (a capped 10-hour file). One row per file that was transcribed.
_M004_SPEECH_META = """
CREATE TABLE speech (
    file_id INTEGER PRIMARY KEY REFERENCES files(id),
    has_speech INTEGER NOT NULL,    -- 0: no words heard
    language TEXT,                  -- detected (or the model's only one), e.g. 'en'
    seconds REAL,                   -- the recording's length
    note TEXT                       -- what was not transcribed, and why
);
"""

# Videos (and later recordings) have a length, and details a preview shows: frame rate, codec,
# how many frames were kept and what was skipped (a long video's cap, damaged packets), as JSON.
_M005_VIDEO_META = """
ALTER TABLE files ADD COLUMN duration REAL;  -- seconds, for videos and recordings
ALTER TABLE files ADD COLUMN media TEXT;     -- JSON: fps, codec, frames kept, what was skipped
"""

# Words wherever they are (see :mod:`desktop_app.core.searching.keywords`). ``files`` gains the
# words a camera or photo manager wrote (EXIF/XMP/IPTC titles, descriptions, keywords, artist,
# lens: ``tags``) and whether the camera recorded an exposure (``exposure``: 1 a camera photo,
# 0 a picture without it such as a screenshot, NULL not read yet). Two FTS5 indexes, kept in
# step by triggers, hold the words: ``file_words`` a file's name, its folder below the library
# folder, and its tags and camera; ``unit_words`` the words of every unit that has some (a
# document's chunks; later text read in pictures and speech), over ``units`` as external content
# so the words are not stored twice. Both are filled here for an existing library.
_M006_KEYWORDS = """
ALTER TABLE files ADD COLUMN tags TEXT;
ALTER TABLE files ADD COLUMN exposure INTEGER;
CREATE VIRTUAL TABLE file_words USING fts5(
    name, folder, tags, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE VIEW file_words_source (id, name, folder, tags) AS
    SELECT f.id,
        substr(f.path, length(rtrim(f.path, replace(replace(f.path, '/', ''), '\\', ''))) + 1),
        substr(rtrim(f.path, replace(replace(f.path, '/', ''), '\\', '')),
            length(r.path) + 2),
        coalesce(f.tags, '') || ' ' || coalesce(f.camera, '')
    FROM files f JOIN roots r ON r.id = f.root_id;
CREATE TRIGGER file_words_insert AFTER INSERT ON files BEGIN
    INSERT INTO file_words (rowid, name, folder, tags)
        SELECT id, name, folder, tags FROM file_words_source WHERE id = new.id;
END;
CREATE TRIGGER file_words_update AFTER UPDATE OF path, root_id, tags, camera ON files BEGIN
    DELETE FROM file_words WHERE rowid = old.id;
    INSERT INTO file_words (rowid, name, folder, tags)
        SELECT id, name, folder, tags FROM file_words_source WHERE id = new.id;
END;
CREATE TRIGGER file_words_delete AFTER DELETE ON files BEGIN
    DELETE FROM file_words WHERE rowid = old.id;
END;
INSERT INTO file_words (rowid, name, folder, tags)
    SELECT id, name, folder, tags FROM file_words_source;
CREATE VIRTUAL TABLE unit_words USING fts5(
    text, content = 'units', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER unit_words_insert AFTER INSERT ON units WHEN new.text IS NOT NULL BEGIN
    INSERT INTO unit_words (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER unit_words_delete AFTER DELETE ON units WHEN old.text IS NOT NULL BEGIN
    INSERT INTO unit_words (unit_words, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER unit_words_update AFTER UPDATE OF text ON units BEGIN
    INSERT INTO unit_words (unit_words, rowid, text)
        SELECT 'delete', old.rowid, old.text WHERE old.text IS NOT NULL;
    INSERT INTO unit_words (rowid, text) SELECT new.rowid, new.text WHERE new.text IS NOT NULL;
END;
INSERT INTO unit_words (rowid, text) SELECT rowid, text FROM units WHERE text IS NOT NULL;
"""

# Pictures gain a later pass that reads the text in them (OCR) into the text space: pictures
# indexed before are marked pending so that pass visits them (their CLIP vectors are kept: the
# quick pass finds them held already). The lines read, with their boxes, are kept by content
# hash (a copy or a moved file keeps them; changed content gets its own) for the preview.
_M007_TEXT_IN_IMAGES = """
CREATE TABLE text_lines (
    hash TEXT NOT NULL,             -- the picture's content hash (files.hash)
    line INTEGER NOT NULL,          -- 1-based, in reading order: a text unit spans these
    text TEXT NOT NULL,
    score REAL NOT NULL,            -- the recognition model's confidence, 0..1
    box TEXT NOT NULL,              -- JSON [[x, y] x 4]: corners as shares of width and height
    PRIMARY KEY (hash, line)
) WITHOUT ROWID;
UPDATE files SET status = 'pending' WHERE kind = 'image' AND status = 'indexed';
"""

MIGRATIONS: list[str] = [
    _M001_INITIAL,
    _M002_LABEL_LOOKUP,
    _M003_UNITS,
    _M004_SPEECH_META,
    _M005_VIDEO_META,
    _M006_KEYWORDS,
    _M007_TEXT_IN_IMAGES,
]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to the latest schema; returns the resulting version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise KnownError(
            f"This library was written by a newer Snapfind (schema {version}); "
            "update Snapfind or choose another data folder with --home."
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)
