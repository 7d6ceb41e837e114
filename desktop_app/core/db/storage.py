"""Recognising a data folder that can no longer be written: a full disk, a read-only one.

SQLite reports these as ``SQLITE_FULL``/``SQLITE_READONLY``/``SQLITE_IOERR``, the rest of the
core as ``OSError`` with ``ENOSPC``/``EDQUOT``/``EROFS``. Either way the person must act (free
space, remount), so :func:`storage_error` turns them into one :class:`KnownError` that says so
and that nothing indexed so far is lost: every write is a transaction or an atomic rename.
"""

import errno
import os
import sqlite3
from pathlib import Path

from desktop_app.core.errors import KnownError

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_SQLITE_FULL, _SQLITE_READONLY, _SQLITE_IOERR = 13, 8, 10


class StorageError(KnownError):
    """The library's data folder cannot be written; what is already saved stays intact."""


def storage_error(err: BaseException, home: Path | str | None = None) -> StorageError | None:
    """The actionable error for a failed write to the data folder, or None if ``err`` is
    something else (a bug, or a problem with one of the person's files)."""
    where = f" ({os.fspath(home)})" if home else ""
    kept = "Everything indexed so far is kept."
    if isinstance(err, sqlite3.Error):
        code = (getattr(err, "sqlite_errorcode", 0) or 0) & 0xFF
        if code == _SQLITE_FULL:
            return _full(where, kept)
        if code == _SQLITE_READONLY:
            return _read_only(where, kept)
        if code == _SQLITE_IOERR:
            return StorageError(
                f"A disk error stopped Snapfind from writing to its library{where}: {err}. "
                f"Check the disk, then try again. {kept}"
            )
        return None
    if isinstance(err, OSError):
        if err.errno in _FULL_ERRNOS:
            return _full(where, kept)
        if err.errno == errno.EROFS:
            return _read_only(where, kept)
    return None


def _full(where: str, kept: str) -> StorageError:
    return StorageError(
        f"The disk holding the library{where} is full. Free some space, then index again: "
        f"it continues where it stopped. {kept}"
    )


def _read_only(where: str, kept: str) -> StorageError:
    return StorageError(
        f"The library's data folder{where} is on a disk that is now read-only. Make it "
        f"writable again (or choose another data folder), then index again. {kept}"
    )
