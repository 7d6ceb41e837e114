"""Where the library's data lives, and how file paths are stored in SQLite.

Paths on POSIX are bytes; a name that is not valid UTF-8 surfaces in Python as a ``str`` with
lone surrogates, which SQLite cannot store. :func:`to_db` keeps valid names readable and
hex-encodes the rest, so every file can be indexed and found again exactly.
"""

import os
from pathlib import Path

import platformdirs

APP_NAME = "Snapfind"
HOME_ENV = "SNAPFIND_HOME"
_HEX_PREFIX = "hex:"


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``explicit`` (``--home``), else ``$SNAPFIND_HOME``, else the platform's."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def to_db(path: str) -> str:
    """Encode a filesystem path for a TEXT column, reversibly."""
    raw = os.fsencode(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _HEX_PREFIX + raw.hex()


def from_db(text: str) -> str:
    """Inverse of :func:`to_db`."""
    if text.startswith(_HEX_PREFIX):
        return os.fsdecode(bytes.fromhex(text[len(_HEX_PREFIX) :]))
    return text


def display(path: str) -> str:
    """A printable form of a path: undecodable bytes become ``\\xNN`` escapes."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")
