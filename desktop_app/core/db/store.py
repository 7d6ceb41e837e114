"""The library's metadata in SQLite (WAL mode), through sqlite-utils.

One writer connection per library does all writes inside short explicit transactions; readers
open their own connections (WAL lets them read while the writer commits). Vectors are stored
here too, as float32 blobs: SQLite is the source of truth and the hnswlib index is a cache that
can always be repaired or rebuilt from it without re-embedding.
"""

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from desktop_app.core import paths
from desktop_app.core.db.migrations import migrate
from desktop_app.core.db.records import (
    FileRecord,
    KnownFile,
    NewVector,
    Root,
    VectorSet,
)

_FILE_COLUMNS = (
    "id, root_id, path, size, mtime_ns, hash, kind, width, height, taken_at, camera, status, error"
)


def connect(db_path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with WAL and a busy timeout."""
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Store:
    """Typed access to the library database. Writes are serialised by an internal lock."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path
        self.db = sqlite_utils.Database(connect(db_path))
        self._lock = threading.RLock()
        migrate(self.db)

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), one writer at a time."""
        with self._lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                # SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR):
                # a second ROLLBACK would fail and hide the real error.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return list(self.db.conn.execute(sql, tuple(params)).fetchall())

    # -- roots -------------------------------------------------------------------------------

    def roots(self) -> list[Root]:
        rows = self._query("SELECT id, path, added_at FROM roots ORDER BY path")
        return [Root(r["id"], paths.from_db(r["path"]), r["added_at"]) for r in rows]

    def add_root(self, path: str) -> Root:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO roots (path, added_at) VALUES (?, ?)",
                (paths.to_db(path), time.time()),
            )
            row = conn.execute(
                "SELECT id, path, added_at FROM roots WHERE path = ?", (paths.to_db(path),)
            ).fetchone()
        return Root(row["id"], path, row["added_at"])

    def remove_root(self, root_id: int) -> dict[int, list[int]]:
        """Forget a root and everything under it; returns the freed labels per vector set."""
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM files WHERE root_id = ?", (root_id,))]
            freed = self._delete_files(conn, ids)
            conn.execute("DELETE FROM roots WHERE id = ?", (root_id,))
        return freed

    # -- files -------------------------------------------------------------------------------

    def files_under(self, root_id: int) -> dict[str, FileRecord]:
        """path → full record, for every file under a root (a re-scan uses known_files)."""
        rows = self._query(f"SELECT {_FILE_COLUMNS} FROM files WHERE root_id = ?", (root_id,))
        return {rec.path: rec for rec in map(FileRecord.from_row, rows)}

    def known_files(self, root_id: int) -> dict[str, KnownFile]:
        """path → what a re-scan compares, for every file under a root.

        Only the columns the comparison needs, as plain tuples: reading full records through
        ``sqlite3.Row`` took most of the time of a re-scan of an unchanged library.
        """
        cursor = self.db.conn.execute(
            "SELECT path, id, size, mtime_ns, hash, kind FROM files WHERE root_id = ?", (root_id,)
        )
        cursor.row_factory = None
        return {
            paths.from_db(path): KnownFile(fid, size, mtime, digest, kind)
            for path, fid, size, mtime, digest, kind in cursor
        }

    def file(self, file_id: int) -> FileRecord | None:
        row = self.db.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE id = ?", (file_id,)
        ).fetchone()
        return FileRecord.from_row(row) if row else None

    def file_by_path(self, path: str) -> FileRecord | None:
        row = self.db.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE path = ?", (paths.to_db(path),)
        ).fetchone()
        return FileRecord.from_row(row) if row else None

    def files(self, file_ids: Iterable[int]) -> dict[int, FileRecord]:
        ids = list(file_ids)
        out: dict[int, FileRecord] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._query(f"SELECT {_FILE_COLUMNS} FROM files WHERE id IN ({marks})", chunk)
            out.update((rec.id, rec) for rec in map(FileRecord.from_row, rows))
        return out

    def failed_files(self) -> list[FileRecord]:
        rows = self._query(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE status = 'failed' ORDER BY path"
        )
        return [FileRecord.from_row(r) for r in rows]

    def pending_files(self, kind: str, limit: int | None = None) -> list[FileRecord]:
        sql = f"SELECT {_FILE_COLUMNS} FROM files WHERE kind = ? AND status = 'pending' ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [FileRecord.from_row(r) for r in self._query(sql, (kind,))]

    def count_by_status(self) -> dict[tuple[str, str], int]:
        rows = self._query("SELECT kind, status, COUNT(*) AS n FROM files GROUP BY kind, status")
        return {(r["kind"], r["status"]): r["n"] for r in rows}

    def insert_files(self, rows: list[dict[str, Any]]) -> None:
        """Insert new ``pending`` files (keys: root_id, path, size, mtime_ns, kind, hash)."""
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO files (root_id, path, size, mtime_ns, kind, hash, status, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                [
                    (
                        r["root_id"],
                        paths.to_db(r["path"]),
                        r["size"],
                        r["mtime_ns"],
                        r["kind"],
                        r.get("hash"),
                        time.time(),
                    )
                    for r in rows
                ],
            )

    def update_stat(self, updates: list[tuple[int, int, int]]) -> None:
        """Record a new (size, mtime) for files whose content hash did not change."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                [(size, mtime, fid) for fid, size, mtime in updates],
            )

    def move_files(self, moves: list[tuple[int, int, str, int, int]]) -> None:
        """Re-point records at their new place: (file id, root id, path, size, mtime)."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE files SET root_id = ?, path = ?, size = ?, mtime_ns = ?, updated_at = ?"
                " WHERE id = ?",
                [
                    (rid, paths.to_db(p), size, mt, time.time(), fid)
                    for fid, rid, p, size, mt in moves
                ],
            )

    def mark_changed(self, changes: list[tuple[int, int, int, str | None]]) -> dict[int, list[int]]:
        """Content changed: (file id, size, mtime, hash) become pending, their vectors go."""
        with self.transaction() as conn:
            freed = self._delete_vectors(conn, [c[0] for c in changes])
            conn.executemany(
                "UPDATE files SET size = ?, mtime_ns = ?, hash = ?, status = 'pending',"
                " error = NULL, updated_at = ? WHERE id = ?",
                [(size, mt, h, time.time(), fid) for fid, size, mt, h in changes],
            )
        return freed

    def delete_files(self, file_ids: list[int]) -> dict[int, list[int]]:
        with self.transaction() as conn:
            return self._delete_files(conn, file_ids)

    def _delete_files(self, conn: sqlite3.Connection, file_ids: list[int]) -> dict[int, list[int]]:
        freed = self._delete_vectors(conn, file_ids)
        conn.executemany("DELETE FROM files WHERE id = ?", [(i,) for i in file_ids])
        return freed

    def _delete_vectors(
        self, conn: sqlite3.Connection, file_ids: list[int]
    ) -> dict[int, list[int]]:
        freed: dict[int, list[int]] = {}
        for fid in file_ids:
            for row in conn.execute("SELECT set_id, label FROM vectors WHERE file_id = ?", (fid,)):
                freed.setdefault(row[0], []).append(row[1])
        conn.executemany("DELETE FROM vectors WHERE file_id = ?", [(i,) for i in file_ids])
        return freed

    def reset_status(self, kind: str) -> None:
        """Every file of ``kind`` that is not failed needs embedding again (model change)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE files SET status = 'pending' WHERE kind = ? AND status = 'indexed'",
                (kind,),
            )

    def record_failures(self, failures: list[tuple[int, str, str | None]]) -> None:
        """(file id, error, content hash if it could be read) become ``failed``."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE files SET status = 'failed', error = ?, hash = COALESCE(?, hash),"
                " updated_at = ? WHERE id = ?",
                [(error, digest, time.time(), fid) for fid, error, digest in failures],
            )

    def retry_failed(self) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE files SET status = 'pending', error = NULL WHERE status = 'failed'"
            )
            return cur.rowcount

    # -- vector sets -------------------------------------------------------------------------

    def vector_sets(self, modality: str | None = None) -> list[VectorSet]:
        sql = "SELECT id, modality, model_id, dim, state FROM vector_sets"
        rows = self._query(
            sql + " WHERE modality = ?" if modality else sql, (modality,) if modality else ()
        )
        return [VectorSet(**dict(r)) for r in rows]

    def ensure_vector_set(self, modality: str, model_id: str, dim: int) -> VectorSet:
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM vector_sets WHERE modality = ? AND model_id = ?",
                (modality, model_id),
            ).fetchone()
            if row is None:
                conn.execute(  # index_file: unused, the vector store names its files
                    "INSERT INTO vector_sets (modality, model_id, dim, index_file, state,"
                    " next_label, created_at) VALUES (?, ?, ?, '', 'building', 0, ?)",
                    (modality, model_id, dim, time.time()),
                )
        found = [s for s in self.vector_sets(modality) if s.model_id == model_id]
        if found[0].dim != dim:
            raise ValueError(f"{model_id} was recorded with dim {found[0].dim}, not {dim}")
        return found[0]

    def mark_ready(self, set_id: int) -> list[VectorSet]:
        """The set is complete: it becomes the only one of its modality; returns those dropped."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT modality FROM vector_sets WHERE id = ?", (set_id,)
            ).fetchone()
            conn.execute("UPDATE vector_sets SET state = 'ready' WHERE id = ?", (set_id,))
            old = self._other_sets(conn, row["modality"], set_id, states=("ready", "building"))
            self._drop_sets(conn, old)
        return old

    def drop_abandoned(self, modality: str, keep_id: int) -> list[VectorSet]:
        """Drop half-built sets of earlier model choices (the ready set stays searchable)."""
        with self.transaction() as conn:
            old = self._other_sets(conn, modality, keep_id, states=("building",))
            self._drop_sets(conn, old)
        return old

    @staticmethod
    def _other_sets(
        conn: sqlite3.Connection, modality: str, keep_id: int, states: tuple[str, ...]
    ) -> list[VectorSet]:
        marks = ",".join("?" * len(states))
        rows = conn.execute(
            "SELECT id, modality, model_id, dim, state FROM vector_sets"
            f" WHERE modality = ? AND id != ? AND state IN ({marks})",
            (modality, keep_id, *states),
        )
        return [VectorSet(**dict(r)) for r in rows]

    @staticmethod
    def _drop_sets(conn: sqlite3.Connection, sets: list[VectorSet]) -> None:
        for vs in sets:
            conn.execute("DELETE FROM vectors WHERE set_id = ?", (vs.id,))
            conn.execute("DELETE FROM vector_sets WHERE id = ?", (vs.id,))

    # -- vectors -----------------------------------------------------------------------------

    def commit_vectors(
        self,
        set_id: int,
        done: list[tuple[FileRecord, dict[str, Any], list[NewVector]]],
    ) -> list[tuple[int, np.ndarray]]:
        """Store embeddings and metadata of finished files atomically; returns (label, vector).

        Labels come from the set's monotonic counter so a label is never reused, even for a
        vector that reached the index file but not this database before a crash.
        """
        added: list[tuple[int, np.ndarray]] = []
        with self.transaction() as conn:
            (next_label,) = conn.execute(
                "SELECT next_label FROM vector_sets WHERE id = ?", (set_id,)
            ).fetchone()
            rows = []
            for record, meta, vectors in done:
                conn.execute(
                    "DELETE FROM vectors WHERE set_id = ? AND file_id = ?", (set_id, record.id)
                )
                for vec in vectors:
                    blob = np.ascontiguousarray(vec.vector, dtype=np.float32).tobytes()
                    start, end = vec.lines or (None, None)
                    rows.append((set_id, next_label, record.id, start, end, blob))
                    added.append((next_label, vec.vector))
                    next_label += 1
                conn.execute(
                    "UPDATE files SET status = 'indexed', error = NULL, hash = ?, width = ?,"
                    " height = ?, taken_at = ?, camera = ?, updated_at = ? WHERE id = ?",
                    (
                        meta.get("hash"),
                        meta.get("width"),
                        meta.get("height"),
                        meta.get("taken_at"),
                        meta.get("camera"),
                        time.time(),
                        record.id,
                    ),
                )
            conn.executemany(
                "INSERT INTO vectors (set_id, label, file_id, line_start, line_end, vector)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.execute("UPDATE vector_sets SET next_label = ? WHERE id = ?", (next_label, set_id))
        return added

    def vectors_for_hash(self, set_id: int, content_hash: str) -> list[NewVector]:
        """The vectors of an already-embedded file with the same content, to reuse them."""
        rows = self._query(
            "SELECT v.line_start, v.line_end, v.vector FROM vectors v"
            " JOIN files f ON f.id = v.file_id WHERE v.set_id = ? AND f.hash = ?"
            " AND f.id = (SELECT f2.id FROM files f2 JOIN vectors v2 ON v2.file_id = f2.id"
            "  WHERE f2.hash = ? AND v2.set_id = ? LIMIT 1) ORDER BY v.label",
            (set_id, content_hash, content_hash, set_id),
        )
        return [
            NewVector(
                np.frombuffer(r["vector"], dtype=np.float32).copy(),
                (r["line_start"], r["line_end"]) if r["line_start"] is not None else None,
            )
            for r in rows
        ]

    def vectors_of_file(self, set_id: int, file_id: int) -> list[np.ndarray]:
        rows = self._query(
            "SELECT vector FROM vectors WHERE set_id = ? AND file_id = ? ORDER BY label",
            (set_id, file_id),
        )
        return [np.frombuffer(r["vector"], dtype=np.float32).copy() for r in rows]

    def labels(self, set_id: int) -> set[int]:
        rows = self.db.conn.execute("SELECT label FROM vectors WHERE set_id = ?", (set_id,))
        return {r[0] for r in rows}

    def label_summary(self, set_id: int) -> tuple[int, int, int]:
        """(count, sum, max) of the set's labels in one pass over the primary key (no blobs)."""
        row = self.db.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(label), 0), COALESCE(MAX(label), -1) FROM vectors"
            " WHERE set_id = ?",
            (set_id,),
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def vectors_by_label(
        self, set_id: int, labels: Iterable[int]
    ) -> Iterator[tuple[int, np.ndarray]]:
        wanted = list(labels)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.db.conn.execute(
                f"SELECT label, vector FROM vectors WHERE set_id = ? AND label IN ({marks})",
                (set_id, *chunk),
            ):
                yield r[0], np.frombuffer(r[1], dtype=np.float32)

    def all_vectors(self, set_id: int) -> Iterator[tuple[int, np.ndarray]]:
        for r in self.db.conn.execute(
            "SELECT label, vector FROM vectors WHERE set_id = ?", (set_id,)
        ):
            yield r[0], np.frombuffer(r[1], dtype=np.float32)

    def resolve_labels(
        self, set_id: int, labels: list[int]
    ) -> dict[int, tuple[int, int, int | None, int | None]]:
        """label → (file id, root id, line_start, line_end), for labels that are committed."""
        out: dict[int, tuple[int, int, int | None, int | None]] = {}
        for start in range(0, len(labels), 500):
            chunk = labels[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.db.conn.execute(
                "SELECT v.label, v.file_id, f.root_id, v.line_start, v.line_end FROM vectors v"
                f" JOIN files f ON f.id = v.file_id WHERE v.set_id = ? AND v.label IN ({marks})",
                (set_id, *chunk),
            ):
                out[r[0]] = (r[1], r[2], r[3], r[4])
        return out

    def vectors_with_files(
        self, set_id: int, kind: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None], np.ndarray]:
        """Every vector of a set from files of ``kind``, in one read (one query, not one per
        batch of labels): (labels, file ids, root ids, content hashes, float32 matrix), one
        row per vector, by label."""
        rows = self.db.conn.execute(
            "SELECT v.label, v.file_id, f.root_id, f.hash, v.vector FROM vectors v"
            " JOIN files f ON f.id = v.file_id WHERE v.set_id = ? AND f.kind = ?"
            " ORDER BY v.label",
            (set_id, kind),
        ).fetchall()
        ints = np.array([(r[0], r[1], r[2]) for r in rows], dtype=np.int64).reshape(-1, 3)
        dim = len(rows[0][4]) // 4 if rows else 0
        matrix = np.frombuffer(b"".join(r[4] for r in rows), dtype=np.float32).reshape(-1, dim)
        return ints[:, 0], ints[:, 1], ints[:, 2], [r[3] for r in rows], matrix

    def vector_count(self, set_id: int) -> int:
        row = self.db.conn.execute("SELECT COUNT(*) FROM vectors WHERE set_id = ?", (set_id,))
        return int(row.fetchone()[0])

    def count_by_root(self) -> dict[tuple[int, str], int]:
        rows = self._query(
            "SELECT root_id, status, COUNT(*) AS n FROM files GROUP BY root_id, status"
        )
        return {(r["root_id"], r["status"]): r["n"] for r in rows}

    def labels_matching(self, set_id: int, condition: str, params: list[Any]) -> set[int]:
        """The labels of ``set_id`` whose file passes ``condition`` (SQL over ``files f``)."""
        rows = self.db.conn.execute(
            "SELECT v.label FROM vectors v JOIN files f ON f.id = v.file_id"
            f" WHERE v.set_id = ? AND {condition}",
            (set_id, *params),
        )
        return {r[0] for r in rows}

    def cameras(self) -> list[str]:
        """Every camera the library's pictures name, most pictures first."""
        rows = self.db.conn.execute(
            "SELECT camera FROM files WHERE camera IS NOT NULL AND camera != ''"
            " GROUP BY camera ORDER BY COUNT(*) DESC, camera"
        )
        return [r[0] for r in rows]
