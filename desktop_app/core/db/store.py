"""The library's metadata in SQLite (WAL mode): folders and files here, vector sets and their
units in :mod:`units`.

One writer connection per library does all writes inside short explicit transactions; readers
open their own connections (WAL lets them read while the writer commits). Vectors are stored
here too: SQLite is the source of truth and a vector backend is a cache that can always be
repaired or rebuilt from it without re-embedding.
"""

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from desktop_app.core import paths
from desktop_app.core.db.migrations import migrate
from desktop_app.core.db.records import FileRecord, KnownFile, Root
from desktop_app.core.db.units import UnitTables

_FILE_COLUMNS = (
    "id, root_id, path, size, mtime_ns, hash, kind, width, height, taken_at, camera, status, error,"
    " duration, media, tags, exposure"
)


# Pages of a new library. A float32 vector row (2 KB at 512-d) is more than a third of a 4 KB
# page, so each filled a page of its own and the database was twice the vectors' size; 16 KB
# pages hold seven (bench/bench_storage.py measures the choice). SQLite keeps the page size a
# database was created with, so libraries made before keep theirs.
PAGE_SIZE = 16384


def connect(db_path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with WAL and a busy timeout."""
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL: only a new database takes it
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Store(UnitTables):
    """Typed access to the library database. Writes are serialised by an internal lock."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path
        self.conn = connect(db_path)
        self._lock = threading.RLock()
        try:
            migrate(self.conn)
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), one writer at a time."""
        with self._lock:
            conn = self.conn
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
        return list(self.conn.execute(sql, tuple(params)).fetchall())

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
        cursor = self.conn.execute(
            "SELECT path, id, size, mtime_ns, hash, kind FROM files WHERE root_id = ?", (root_id,)
        )
        cursor.row_factory = None
        return {
            paths.from_db(path): KnownFile(fid, size, mtime, digest, kind)
            for path, fid, size, mtime, digest, kind in cursor
        }

    def file(self, file_id: int) -> FileRecord | None:
        row = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE id = ?", (file_id,)
        ).fetchone()
        return FileRecord.from_row(row) if row else None

    def file_by_path(self, path: str) -> FileRecord | None:
        row = self.conn.execute(
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

    def files_of_kind(self, kind: str) -> list[FileRecord]:
        rows = self._query(f"SELECT {_FILE_COLUMNS} FROM files WHERE kind = ?", (kind,))
        return [FileRecord.from_row(r) for r in rows]

    def pending_files(
        self, kind: str, missing_in: Sequence[int] = (), limit: int | None = None
    ) -> list[FileRecord]:
        """Files of ``kind`` still to embed in some space; with ``missing_in``, only those that
        at least one of these vector sets does not hold yet (see :meth:`embedded_sets`)."""
        sql = f"SELECT {_FILE_COLUMNS} FROM files f WHERE kind = ? AND status = 'pending'"
        if missing_in:
            lacking = " OR ".join(
                "NOT EXISTS (SELECT 1 FROM embedded e WHERE e.set_id = ? AND e.file_id = f.id)"
                for _ in missing_in
            )
            sql += f" AND ({lacking})"
        sql += " ORDER BY id" + (f" LIMIT {int(limit)}" if limit is not None else "")
        return [FileRecord.from_row(r) for r in self._query(sql, (kind, *missing_in))]

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

    def reset_status(self, kinds: Sequence[str]) -> None:
        """Every file of these kinds that is not failed needs embedding again (model change)."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE files SET status = 'pending' WHERE kind = ? AND status = 'indexed'",
                [(kind,) for kind in kinds],
            )

    def settle_status(self, kind: str, required: Sequence[int] | None) -> None:
        """Files of ``kind`` are indexed exactly when every vector set in ``required`` holds
        them (None: a space they need has no set yet, so none is): after a person switched a
        pass off (its files are complete without it) or on again (those it never saw wait).
        Failed files stay as they are."""
        with self.transaction() as conn:
            if required is None:
                conn.execute(
                    "UPDATE files SET status = 'pending' WHERE kind = ? AND status = 'indexed'",
                    (kind,),
                )
                return
            if not required:  # a kind with every pass switched off: nothing completes it
                return
            holds_all = " AND ".join(
                "EXISTS (SELECT 1 FROM embedded e WHERE e.set_id = ? AND e.file_id = files.id)"
                for _ in required
            )
            for old, new, test in (
                ("pending", "indexed", holds_all),
                ("indexed", "pending", f"NOT ({holds_all})"),
            ):
                conn.execute(
                    f"UPDATE files SET status = ? WHERE kind = ? AND status = ? AND {test}",
                    (new, kind, old, *required),
                )

    def retry_failed(self) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE files SET status = 'pending', error = NULL WHERE status = 'failed'"
            )
            return cur.rowcount

    def count_by_root(self) -> dict[tuple[int, str], int]:
        """Files per (root, status); "searchable" counts the pending files that some space
        holds already (pictures whose text is still to be read, videos whose soundtrack is
        still to be transcribed), which are also counted as pending."""
        rows = self._query(
            "SELECT root_id, status, COUNT(*) AS n FROM files GROUP BY root_id, status"
            " UNION ALL SELECT root_id, 'searchable', COUNT(*) FROM files f"
            " WHERE status = 'pending' AND EXISTS"
            " (SELECT 1 FROM embedded e WHERE e.file_id = f.id) GROUP BY root_id"
        )
        return {(r["root_id"], r["status"]): r["n"] for r in rows}

    def cameras(self) -> list[str]:
        """Every camera the library's pictures name, most pictures first."""
        rows = self.conn.execute(
            "SELECT camera FROM files WHERE camera IS NOT NULL AND camera != ''"
            " GROUP BY camera ORDER BY COUNT(*) DESC, camera"
        )
        return [r[0] for r in rows]
