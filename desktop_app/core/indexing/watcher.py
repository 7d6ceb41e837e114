"""Live folders: notice changes under the library's roots while the app runs.

Each root is watched with the operating system's change events (inotify, FSEvents,
ReadDirectoryChanges, through watchdog). Where events are unreliable (network file systems, or
the system's watch limit reached) that root falls back to a periodic re-scan, and its mode says
why, so a face can show it. Changes are debounced: ``on_change`` fires once things have been
quiet for a moment, and the caller runs an incremental index (a stat-only re-scan plus the new
files).
"""

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

DEBOUNCE_S = 2.0
POLL_INTERVAL_S = 300.0
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "sshfs",
        "fuse.sshfs",
        "afpfs",
        "9p",
        "davfs",
        "fuse.rclone",
        "fuse.gvfsd-fuse",
        "glusterfs",
        "ceph",
    }
)


@dataclass(frozen=True)
class WatchMode:
    root: str
    mode: str  # 'events' | 'polling' | 'offline'
    reason: str = ""


def filesystem_type(path: str) -> str | None:
    """The file system type of the mount holding ``path`` (Linux), else None."""
    try:
        with open("/proc/mounts", encoding="utf-8", errors="replace") as handle:
            mounts = [line.split()[1:3] for line in handle if len(line.split()) >= 3]
    except OSError:
        return None
    real = os.path.realpath(path)
    best: tuple[str, str | None] = ("", None)
    for mount_point, fstype in mounts:
        mount_point = mount_point.replace("\\040", " ")
        inside = real == mount_point or real.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > len(best[0]):
            best = (mount_point, fstype)
    return best[1]


class _Handler(FileSystemEventHandler):
    def __init__(self, changed: Callable[[], None], ignore: Sequence[str]) -> None:
        self._changed = changed
        self._ignore = tuple(p.rstrip(os.sep) + os.sep for p in ignore)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads (including our own) change nothing
        if os.fsdecode(event.src_path).startswith(self._ignore):
            return  # the app's own data folder, if it lies inside a library folder
        self._changed()


class FolderWatcher:
    """Watch ``roots``; call ``on_change`` (from a background thread) after changes settle."""

    def __init__(
        self,
        roots: Sequence[str],
        on_change: Callable[[], None],
        *,
        debounce_s: float = DEBOUNCE_S,
        poll_interval_s: float = POLL_INTERVAL_S,
        ignore: Sequence[str] = (),
        observer_factory: Callable[[], BaseObserver] = Observer,
    ) -> None:
        self._on_change = on_change
        self._debounce_s = debounce_s
        self._poll_interval_s = poll_interval_s
        self._observer = observer_factory()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._poll: threading.Timer | None = None
        self._stopped = False
        self._ignore = ignore
        self.modes = [self._watch(root) for root in roots]

    def _watch(self, root: str) -> WatchMode:
        if not os.path.isdir(root):
            return WatchMode(root, "offline", "folder not found (unplugged?)")
        fstype = filesystem_type(root)
        if fstype in NETWORK_FILESYSTEMS:
            return WatchMode(
                root,
                "polling",
                f"network folder ({fstype}): checked every "
                f"{self._poll_interval_s / 60:.0f} minutes",
            )
        try:
            self._observer.schedule(_Handler(self._changed, self._ignore), root, recursive=True)
        except OSError as err:
            return WatchMode(
                root,
                "polling",
                f"change events unavailable ({err.strerror or err});"
                f" checked every {self._poll_interval_s / 60:.0f}"
                " minutes",
            )
        return WatchMode(root, "events")

    def start(self) -> None:
        self._observer.start()
        if any(m.mode != "events" for m in self.modes):
            self._schedule_poll()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for timer in (self._timer, self._poll):
                if timer is not None:
                    timer.cancel()
        self._observer.stop()
        if self._observer.is_alive():
            self._observer.join(timeout=5)

    def _changed(self) -> None:
        with self._lock:
            if self._stopped:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._debounce_s, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._stopped:
                return
        self._on_change()

    def _schedule_poll(self) -> None:
        def tick() -> None:
            self._fire()
            self._schedule_poll()

        with self._lock:
            if self._stopped:
                return
            self._poll = threading.Timer(self._poll_interval_s, tick)
            self._poll.daemon = True
            self._poll.start()
