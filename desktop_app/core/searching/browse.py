"""The library without a query: every file of some kinds, newest first, grouped by month.

A :class:`Timeline` is the order only (file ids and dates, two compact arrays), read in one
query that is cheap even at 100,000 files; a face shows it lazily and asks for the records of
the rows it draws with :func:`page`, so no more than a screenful is ever turned into hits.
Which kinds belong in the timeline (pictures, later videos) is the face's choice: this module
names none.
"""

import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

from desktop_app.core.db.store import Store
from desktop_app.core.searching.filters import Filters
from desktop_app.core.searching.ranking import Hit


@dataclass(frozen=True)
class Month:
    """One group of the timeline: its rows are ``start`` … ``start + count - 1``."""

    year: int  # 0 for the files without a date
    month: int
    start: int
    count: int

    @property
    def title(self) -> str:
        if not self.year:
            return "Undated"
        return time.strftime("%B %Y", (self.year, self.month, 1, 0, 0, 0, 0, 1, -1))


@dataclass(frozen=True)
class Timeline:
    ids: array = field(default_factory=lambda: array("q"))  # file ids, newest first
    months: tuple[Month, ...] = ()

    def __len__(self) -> int:
        return len(self.ids)


def timeline(store: Store, kinds: Sequence[str], filters: Filters) -> Timeline:
    """The indexed files of ``kinds`` that pass ``filters``, newest first (by date taken, the
    file's date when it has none; undated last), with their month groups in local time.
    Files searchable already count (pictures whose text is still to be read: they would
    otherwise vanish from the library while reading text in pictures catches up)."""
    if not kinds:
        return Timeline()
    where, params = filters.where()
    marks = ",".join("?" * len(kinds))
    cursor = store.conn.execute(
        f"SELECT f.id, f.taken_at FROM files f WHERE (f.status = 'indexed' OR"
        " (f.status = 'pending' AND EXISTS (SELECT 1 FROM embedded e WHERE e.file_id = f.id)))"
        f" AND f.kind IN ({marks}) AND {where} ORDER BY f.taken_at DESC, f.id DESC",
        (*kinds, *params),
    )
    ids = array("q")
    months: list[Month] = []
    key, start = (-1, -1), 0
    for row, (file_id, taken_at) in enumerate(cursor):
        ids.append(file_id)
        if taken_at is None:
            here = (0, 0)
        else:
            moment = time.localtime(taken_at)
            here = (moment.tm_year, moment.tm_mon)
        if here != key:
            if row:
                months.append(Month(*key, start, row - start))
            key, start = here, row
    if ids:
        months.append(Month(*key, start, len(ids) - start))
    return Timeline(ids, tuple(months))


def page(store: Store, file_ids: Sequence[int]) -> list[Hit | None]:
    """The hits for these ids, in their order; None for a file gone since the timeline was
    read. A browsed file matched no query: its score and relevance are 0."""
    records = store.files(file_ids)
    out: list[Hit | None] = []
    for file_id in file_ids:
        rec = records.get(file_id)
        if rec is None:
            out.append(None)
            continue
        out.append(
            Hit(
                rec.id,
                rec.path,
                rec.kind,
                0.0,
                0.0,
                0,
                rec.size,
                rec.width,
                rec.height,
                rec.taken_at,
                rec.camera,
                modified_at=rec.mtime_ns / 1e9,
            )
        )
    return out
