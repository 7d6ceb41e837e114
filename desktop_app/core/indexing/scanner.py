"""Walking the library's folders: which files a media kind claims, and their content hash.

The walk follows symbolic links to folders but never enters the same folder twice (so a link
loop ends), skips hidden and system folders, never opens anything but regular files (a FIFO or
device would block), and reports folders it cannot read instead of failing.
"""

import fnmatch
import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from desktop_app.core.kinds import registry

# Folders that hold system or application state rather than the user's pictures.
SYSTEM_FOLDERS = frozenset(
    {
        "$RECYCLE.BIN",
        "System Volume Information",
        "@eaDir",
        "__MACOSX",
        "lost+found",
        "node_modules",
        "__pycache__",
        "Thumbs.db",
    }
)


def content_hash(path: str) -> str:
    """blake2b-128 of the whole file, streamed."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Candidate:
    """A regular file the library wants: its kind and the stat that detects changes."""

    path: str
    size: int
    mtime_ns: int
    kind: str  # the name of the media kind that claims it (see kinds.registry)


@dataclass(frozen=True)
class ScanIssue:
    """A folder that could not be listed; its files keep their current state."""

    path: str
    error: str


def is_excluded(path: str, name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in patterns)


def walk(
    root: str,
    *,
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
) -> Iterator[Candidate | ScanIssue]:
    """Yield every wanted file under ``root`` (depth first) and every unreadable folder."""
    seen_dirs: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as err:
            yield ScanIssue(folder, err.strerror or str(err))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            continue  # a symlink loop or a second link to a folder already walked
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError as err:
            yield ScanIssue(folder, err.strerror or str(err))
            continue
        subfolders = []
        for entry in listed:
            name = entry.name
            if not include_hidden and name.startswith("."):
                continue
            if exclude and is_excluded(entry.path, name, exclude):
                continue
            try:
                if entry.is_dir():  # follows links; loops are cut by seen_dirs
                    if name not in SYSTEM_FOLDERS:
                        subfolders.append(entry.path)
                    continue
                entry_stat = entry.stat()
            except OSError:
                continue  # vanished or a dangling link
            if not stat.S_ISREG(entry_stat.st_mode):
                continue  # FIFOs, sockets and devices must never be opened
            kind = registry.kind_of(entry.path, name)
            if kind:
                yield Candidate(entry.path, entry_stat.st_size, entry_stat.st_mtime_ns, kind)
        stack.extend(sorted(subfolders, reverse=True))
