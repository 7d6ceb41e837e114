"""Vector sets and their units in SQLite: the part of the store that holds embeddings.

A *vector set* is one model's vectors in one embedding space; a *unit* is one vector of it with
its place in the file (span) and, for text, its words. ``embedded`` records which files a set
holds, so that a file can be done in one space and pending in another.

Vectors are stored as float32 blobs, exactly as the models gave them: float16 would halve them,
but on near-identical pictures the scores of mixed queries ("this photo minus that one") then
moved by up to 5e-4, more than the 1e-4 the query formula is tested to. Their size is kept
down by the database's page size instead (see :func:`desktop_app.core.db.store.connect`).
"""

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from desktop_app.core.db.records import FileUnits, NewUnit, VectorSet
from desktop_app.core.db.text_lines import save_text_lines
from desktop_app.core.kinds.base import Span

_SET_COLUMNS = "id, space, model_id, dim, state"


def _blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def _vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def _span(start: float | None, end: float | None, unit: str | None) -> Span | None:
    if unit is None or start is None or end is None:
        return None
    if unit == "line":
        return Span(int(start), int(end), "line")
    if unit == "page":
        return Span(int(start), int(end), "page")
    if unit == "second":
        return Span(float(start), float(end), "second")
    return None


class UnitTables:
    """Mixed into :class:`~desktop_app.core.db.store.Store`, which provides the connection."""

    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    # -- vector sets -------------------------------------------------------------------------

    def vector_sets(self, space: str | None = None) -> list[VectorSet]:
        sql = f"SELECT {_SET_COLUMNS} FROM vector_sets"
        rows = self._query(sql + " WHERE space = ?" if space else sql, (space,) if space else ())
        return [VectorSet(**dict(r)) for r in rows]

    def ensure_vector_set(self, space: str, model_id: str, dim: int) -> VectorSet:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO vector_sets (space, model_id, dim, state, next_label,"
                " created_at) VALUES (?, ?, ?, 'building', 0, ?)",
                (space, model_id, dim, time.time()),
            )
        found = [s for s in self.vector_sets(space) if s.model_id == model_id]
        if found[0].dim != dim:
            raise ValueError(f"{model_id} was recorded with dim {found[0].dim}, not {dim}")
        return found[0]

    def mark_ready(self, set_id: int) -> list[VectorSet]:
        """The set is complete: it becomes the only one of its space; returns those dropped."""
        with self.transaction() as conn:
            row = conn.execute("SELECT space FROM vector_sets WHERE id = ?", (set_id,)).fetchone()
            conn.execute("UPDATE vector_sets SET state = 'ready' WHERE id = ?", (set_id,))
            old = self._other_sets(conn, row["space"], set_id, states=("ready", "building"))
            self._drop_sets(conn, old)
        return old

    def drop_abandoned(self, space: str, keep_id: int) -> list[VectorSet]:
        """Drop half-built sets of earlier model choices (the ready set stays searchable)."""
        with self.transaction() as conn:
            old = self._other_sets(conn, space, keep_id, states=("building",))
            self._drop_sets(conn, old)
        return old

    @staticmethod
    def _other_sets(
        conn: sqlite3.Connection, space: str, keep_id: int, states: tuple[str, ...]
    ) -> list[VectorSet]:
        marks = ",".join("?" * len(states))
        rows = conn.execute(
            f"SELECT {_SET_COLUMNS} FROM vector_sets"
            f" WHERE space = ? AND id != ? AND state IN ({marks})",
            (space, keep_id, *states),
        )
        return [VectorSet(**dict(r)) for r in rows]

    @staticmethod
    def _drop_sets(conn: sqlite3.Connection, sets: list[VectorSet]) -> None:
        for vs in sets:
            conn.execute("DELETE FROM units WHERE set_id = ?", (vs.id,))
            conn.execute("DELETE FROM embedded WHERE set_id = ?", (vs.id,))
            conn.execute("DELETE FROM vector_sets WHERE id = ?", (vs.id,))

    # -- what each file has embedded ---------------------------------------------------------

    def embedded_sets(self, file_ids: Sequence[int]) -> dict[int, set[int]]:
        """file id -> the vector sets that hold it (done, possibly with no units)."""
        out: dict[int, set[int]] = {fid: set() for fid in file_ids}
        for start in range(0, len(file_ids), 500):
            chunk = list(file_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for set_id, file_id in self.conn.execute(
                f"SELECT set_id, file_id FROM embedded WHERE file_id IN ({marks})", chunk
            ):
                out[file_id].add(set_id)
        return out

    def _delete_vectors(
        self, conn: sqlite3.Connection, file_ids: list[int]
    ) -> dict[int, list[int]]:
        """Forget the units of these files in every set; returns the freed labels per set."""
        freed: dict[int, list[int]] = {}
        for fid in file_ids:
            for row in conn.execute("SELECT set_id, label FROM units WHERE file_id = ?", (fid,)):
                freed.setdefault(row[0], []).append(row[1])
        conn.executemany("DELETE FROM units WHERE file_id = ?", [(i,) for i in file_ids])
        conn.executemany("DELETE FROM embedded WHERE file_id = ?", [(i,) for i in file_ids])
        conn.executemany("DELETE FROM speech WHERE file_id = ?", [(i,) for i in file_ids])
        return freed

    def forget_space(self, kinds: Sequence[str], space: str) -> dict[int, list[int]]:
        """Forget what files of ``kinds`` hold in ``space``'s sets (their transcripts, when the
        speech model changes), keeping their other units; they become pending for that pass.
        Returns the freed labels per set."""
        sets = [vset.id for vset in self.vector_sets(space)]
        marks = ",".join("?" * len(kinds))
        freed: dict[int, list[int]] = {}
        with self.transaction() as conn:
            files = f"SELECT id FROM files WHERE kind IN ({marks})"
            for set_id in sets:
                rows = conn.execute(
                    f"SELECT label FROM units WHERE set_id = ? AND file_id IN ({files})",
                    (set_id, *kinds),
                )
                freed[set_id] = [row[0] for row in rows]
                conn.execute(
                    f"DELETE FROM units WHERE set_id = ? AND file_id IN ({files})",
                    (set_id, *kinds),
                )
                conn.execute(
                    f"DELETE FROM embedded WHERE set_id = ? AND file_id IN ({files})",
                    (set_id, *kinds),
                )
            conn.execute(f"DELETE FROM speech WHERE file_id IN ({files})", tuple(kinds))
            conn.execute(
                f"UPDATE files SET status = 'pending' WHERE status = 'indexed'"
                f" AND kind IN ({marks})",
                tuple(kinds),
            )
        return freed

    # -- units -------------------------------------------------------------------------------

    def commit_units(
        self,
        done: Sequence[FileUnits],
        failures: Sequence[tuple[int, str, str | None]] = (),
    ) -> dict[int, list[tuple[int, np.ndarray]]]:
        """Store finished files atomically: their units per vector set, their metadata, that
        each set now holds them, and (when complete) that they are indexed; and the
        ``failures`` (file id, error, content hash). Returns the new (label, vector) pairs per
        set, for the vector backends.

        Labels come from each set's monotonic counter, so a label is never reused, even for a
        vector that reached a backend but not this database before a crash.
        """
        added: dict[int, list[tuple[int, np.ndarray]]] = {}
        with self.transaction() as conn:
            rows = []
            for item in done:
                record, meta = item.record, item.meta
                for set_id, units in item.units.items():
                    conn.execute(
                        "DELETE FROM units WHERE set_id = ? AND file_id = ?", (set_id, record.id)
                    )
                    conn.execute(
                        "INSERT OR IGNORE INTO embedded (set_id, file_id) VALUES (?, ?)",
                        (set_id, record.id),
                    )
                    (label,) = conn.execute(
                        "SELECT next_label FROM vector_sets WHERE id = ?", (set_id,)
                    ).fetchone()
                    for unit in units:
                        span = unit.span
                        rows.append(
                            (
                                set_id,
                                label,
                                record.id,
                                span.start if span else None,
                                span.end if span else None,
                                span.unit if span else None,
                                unit.text,
                                _blob(unit.vector),
                            )
                        )
                        added.setdefault(set_id, []).append((label, unit.vector))
                        label += 1
                    conn.execute(
                        "UPDATE vector_sets SET next_label = ? WHERE id = ?", (label, set_id)
                    )
                conn.execute(
                    "UPDATE files SET status = ?, error = NULL, hash = ?, width = ?,"
                    " height = ?, taken_at = ?, camera = ?, duration = ?,"
                    " media = COALESCE(?, media), tags = ?, exposure = ?, updated_at = ?"
                    " WHERE id = ?",
                    (
                        "indexed" if item.complete else "pending",
                        meta.get("hash"),
                        meta.get("width"),
                        meta.get("height"),
                        meta.get("taken_at"),
                        meta.get("camera"),
                        meta.get("duration"),
                        meta.get("media"),
                        meta.get("tags"),
                        None if meta.get("exposure") is None else int(meta["exposure"]),
                        time.time(),
                        record.id,
                    ),
                )
                if "has_speech" in meta:  # a transcript's facts (see migration 4)
                    conn.execute(
                        "INSERT OR REPLACE INTO speech (file_id, has_speech, language, seconds,"
                        " note) VALUES (?, ?, ?, ?, ?)",
                        (
                            record.id,
                            int(bool(meta["has_speech"])),
                            meta.get("language"),
                            meta.get("duration"),
                            meta.get("speech_note"),
                        ),
                    )
                if "text_lines" in meta and meta.get("hash"):  # read in a picture (OCR)
                    save_text_lines(conn, meta["hash"], meta["text_lines"])
            conn.executemany(
                "INSERT INTO units (set_id, label, file_id, span_start, span_end, span_unit,"
                " text, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "UPDATE files SET status = 'failed', error = ?, hash = COALESCE(?, hash),"
                " updated_at = ? WHERE id = ?",
                [(error, digest, time.time(), fid) for fid, error, digest in failures],
            )
        return added

    def units_for_hash(self, set_id: int, content_hash: str) -> list[NewUnit] | None:
        """The units of a file with the same content that the set already holds, to reuse
        them; None when there is none (an empty list: it holds one, with no units)."""
        row = self.conn.execute(
            "SELECT e.file_id FROM files f JOIN embedded e ON e.file_id = f.id AND e.set_id = ?"
            " WHERE f.hash = ? LIMIT 1",
            (set_id, content_hash),
        ).fetchone()
        if row is None:
            return None
        rows = self._query(
            "SELECT span_start, span_end, span_unit, text, vector FROM units"
            " WHERE set_id = ? AND file_id = ? ORDER BY label",
            (set_id, row[0]),
        )
        return [NewUnit(_vector(r["vector"]), _span(r[0], r[1], r[2]), r["text"]) for r in rows]

    def speech_of(self, file_id: int) -> dict[str, Any] | None:
        """What was heard in a transcribed file (has_speech, language, seconds, note)."""
        row = self.conn.execute(
            "SELECT has_speech, language, seconds, note FROM speech WHERE file_id = ?",
            (file_id,),
        ).fetchone()
        return None if row is None else {**dict(row), "has_speech": bool(row["has_speech"])}

    def vectors_of_file(self, set_id: int, file_id: int) -> list[np.ndarray]:
        rows = self._query(
            "SELECT vector FROM units WHERE set_id = ? AND file_id = ? ORDER BY label",
            (set_id, file_id),
        )
        return [_vector(r["vector"]).copy() for r in rows]

    def spans_of_file(self, set_id: int, file_id: int) -> list[Span]:
        """Where a file's units sit (a video's moments), in file order."""
        rows = self.conn.execute(
            "SELECT span_start, span_end, span_unit FROM units WHERE set_id = ? AND file_id = ?"
            " AND span_unit IS NOT NULL ORDER BY span_start",
            (set_id, file_id),
        )
        return [span for r in rows if (span := _span(r[0], r[1], r[2])) is not None]

    def vector_at(self, set_id: int, file_id: int, seconds: float) -> np.ndarray | None:
        """The vector of a file's unit that holds the moment ``seconds`` (the last one that
        starts at or before it), e.g. a video's frame for *More like this*."""
        row = self.conn.execute(
            "SELECT vector FROM units WHERE set_id = ? AND file_id = ? AND span_unit = 'second'"
            " ORDER BY (span_start > ? + 0.001), ABS(span_start - ?) LIMIT 1",
            (set_id, file_id, seconds, seconds),
        ).fetchone()
        return _vector(row[0]).copy() if row else None

    def labels(self, set_id: int) -> set[int]:
        rows = self.conn.execute("SELECT label FROM units WHERE set_id = ?", (set_id,))
        return {r[0] for r in rows}

    def label_summary(self, set_id: int) -> tuple[int, int, int]:
        """(count, sum, max) of the set's labels in one pass over the primary key (no blobs)."""
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(label), 0), COALESCE(MAX(label), -1) FROM units"
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
            for r in self.conn.execute(
                f"SELECT label, vector FROM units WHERE set_id = ? AND label IN ({marks})",
                (set_id, *chunk),
            ):
                yield r[0], _vector(r[1])

    def all_vectors(self, set_id: int) -> Iterator[tuple[int, np.ndarray]]:
        for r in self.conn.execute("SELECT label, vector FROM units WHERE set_id = ?", (set_id,)):
            yield r[0], _vector(r[1])

    def resolve_labels(
        self, set_id: int, labels: list[int]
    ) -> dict[int, tuple[int, int, Span | None]]:
        """label -> (file id, root id, span), for labels that are committed."""
        out: dict[int, tuple[int, int, Span | None]] = {}
        for start in range(0, len(labels), 500):
            chunk = labels[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                "SELECT u.label, u.file_id, f.root_id, u.span_start, u.span_end, u.span_unit"
                f" FROM units u JOIN files f ON f.id = u.file_id"
                f" WHERE u.set_id = ? AND u.label IN ({marks})",
                (set_id, *chunk),
            ):
                out[r[0]] = (r[1], r[2], _span(r[3], r[4], r[5]))
        return out

    def unit_texts(self, set_id: int, labels: Sequence[int]) -> dict[int, str]:
        """label -> the words of a text unit (units without text are left out)."""
        marks = ",".join("?" * len(labels))
        rows = self.conn.execute(
            f"SELECT label, text FROM units WHERE set_id = ? AND label IN ({marks})"
            " AND text IS NOT NULL",
            (set_id, *labels),
        )
        return {r[0]: r[1] for r in rows}

    def vectors_with_files(
        self, set_id: int, kind: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None], np.ndarray]:
        """Every vector of a set from files of ``kind``, in one read (one query, not one per
        batch of labels): (labels, file ids, root ids, content hashes, float32 matrix), one
        row per vector, by label."""
        rows = self.conn.execute(
            "SELECT u.label, u.file_id, f.root_id, f.hash, u.vector FROM units u"
            " JOIN files f ON f.id = u.file_id WHERE u.set_id = ? AND f.kind = ?"
            " ORDER BY u.label",
            (set_id, kind),
        ).fetchall()
        ints = np.array([(r[0], r[1], r[2]) for r in rows], dtype=np.int64).reshape(-1, 3)
        dim = len(rows[0][4]) // 4 if rows else 0
        matrix = np.frombuffer(b"".join(r[4] for r in rows), dtype=np.float32).reshape(-1, dim)
        return ints[:, 0], ints[:, 1], ints[:, 2], [r[3] for r in rows], matrix

    def holds_units(self, set_id: int) -> bool:
        """Whether the set has any vector (cheap: no count)."""
        return bool(self._query("SELECT 1 FROM units WHERE set_id = ? LIMIT 1", (set_id,)))

    def vector_count(self, set_id: int) -> int:
        row = self.conn.execute("SELECT COUNT(*) FROM units WHERE set_id = ?", (set_id,))
        return int(row.fetchone()[0])

    def labels_matching(self, set_id: int, condition: str, params: list[Any]) -> set[int]:
        """The labels of ``set_id`` whose file passes ``condition`` (SQL over ``files f``)."""
        rows = self.conn.execute(
            "SELECT u.label FROM units u JOIN files f ON f.id = u.file_id"
            f" WHERE u.set_id = ? AND {condition}",
            (set_id, *params),
        )
        return {r[0] for r in rows}
