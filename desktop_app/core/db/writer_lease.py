"""One writer for a library shared between machines: a lease file beside its database.

The local writer lock (``flock`` on ``writer.lock``) keeps two Snapfinds on one machine apart,
but it does not reach across machines on every network file system (SMB mounts without byte
range locks, NFS without a lock daemon), and a library whose vectors live on a Milvus server is
meant to be opened from several machines. So such a library also takes a *lease*:
``writer.lease`` created with O_EXCL (atomic on local disks, NFSv3+ and SMB), naming its holder
(host, process) and renewed by a heartbeat. Another writer is refused while the lease is fresh;
a lease whose heartbeat stopped (a crashed or unplugged machine), or whose process is gone from
this very host, is taken over. Readers take nothing: any number of them may search.
"""

import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from desktop_app.core.errors import LibraryBusyError

LEASE_FILE = "writer.lease"
HEARTBEAT_S = 20.0
# A lease not renewed for this long belongs to a writer that is gone.
STALE_S = 90.0


class WriterLease:
    """Held from :meth:`acquire` to :meth:`release`; renewed every ``heartbeat`` seconds."""

    def __init__(
        self,
        home: Path,
        *,
        host: str | None = None,
        heartbeat: float = HEARTBEAT_S,
        stale_after: float = STALE_S,
    ) -> None:
        self.path = home / LEASE_FILE
        self.host = host or socket.gethostname()
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self._token = f"{self.host}:{os.getpid()}:{time.time_ns()}"
        self._stop = threading.Event()
        self._beats: threading.Thread | None = None

    def acquire(self) -> None:
        """Take the lease, or raise :class:`LibraryBusyError` naming who holds it."""
        for _ in range(3):  # a stale lease removed by us, or by a rival in the same moment
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and not self._stale(holder):
                    raise LibraryBusyError(
                        f"Snapfind on {holder.get('host', 'another machine')} (process "
                        f"{holder.get('pid', '?')}) is updating this shared library. Search it "
                        "from here meanwhile; update it once that one is closed."
                    ) from None
                self._remove_if(holder)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._record(), handle)
            self._beats = threading.Thread(target=self._beat, name="writer-lease", daemon=True)
            self._beats.start()
            return
        raise LibraryBusyError("Another Snapfind is taking over this library: try again.")

    def release(self) -> None:
        self._stop.set()
        if self._beats is not None:
            self._beats.join()
            self._beats = None
        if self._mine():
            self.path.unlink(missing_ok=True)

    def _record(self) -> dict[str, Any]:
        return {"host": self.host, "pid": os.getpid(), "token": self._token, "beat": time.time()}

    def _holder(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.path.read_text("utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # half written by a writer that crashed while creating it: stale below

    def _stale(self, holder: dict[str, Any]) -> bool:
        if time.time() - float(holder.get("beat", 0)) > self.stale_after:
            return True
        if holder.get("host") == self.host:
            return not _alive(int(holder.get("pid", -1)))
        return False

    def _remove_if(self, holder: dict[str, Any] | None) -> None:
        """Remove the stale lease, unless it changed since it was read."""
        if holder is not None and self._holder() == holder:
            self.path.unlink(missing_ok=True)

    def _mine(self) -> bool:
        holder = self._holder()
        return holder is not None and holder.get("token") == self._token

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            if not self._mine():
                return  # taken over after this process stalled: the next save is refused
            tmp = self.path.with_name(f"{LEASE_FILE}.{os.getpid()}.tmp")
            try:
                tmp.write_text(json.dumps(self._record()), "utf-8")
                os.replace(tmp, self.path)
            except OSError:
                continue  # the share is briefly away; the lease stays fresh for a while

    def check(self) -> None:
        """Raise if the lease was taken over (this writer stalled past its staleness)."""
        if not self._mine():
            raise LibraryBusyError(
                "Another Snapfind took over updating this shared library while this one was "
                "unresponsive. Close this window and reopen the library."
            )


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
