"""The identity of a weights file: the key under which exports made from it are cached, and
under which a passed SHA-256 check of it is remembered.

Kept free of torch so the query path can tell whether a cached export is still valid.
"""

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path


def weights_identity(weights: Path, model_id: str) -> str:
    """A short key that changes whenever the weights file is replaced or rewritten.

    Size and modification time stand in for a content hash: hashing a 600 MB file on every
    start would cost seconds, and any rewrite of the file changes its mtime.
    """
    stat = weights.stat()
    text = f"{model_id}|{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


VERDICTS = "checked-weights.json"  # weights file → the stat under which its hash matched


def _stat_key(weights: Path) -> dict[str, int]:
    stat = weights.stat()
    # The inode and ctime as well: a file copied over, or touched back to its old mtime,
    # changes one of them, so a verdict never outlives the bytes it was given for.
    return {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "inode": stat.st_ino,
    }


def sha256_checked_before(weights: Path, expected_sha256: str, cache_dir: Path | None) -> bool:
    """Whether ``weights`` was found to hash to ``expected_sha256`` and is unchanged since.

    Hashing 90 MB costs about 0.15 s, too much for every one-shot query; the verdict is kept
    by :func:`remember_sha256_checked` under the file's size, times and inode.
    """
    if cache_dir is None:
        return False
    try:
        verdicts = json.loads((cache_dir / VERDICTS).read_text("utf-8"))
        entry = verdicts[str(weights.resolve())]
        return bool(entry["sha256"] == expected_sha256 and entry["stat"] == _stat_key(weights))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def remember_sha256_checked(weights: Path, sha256: str, cache_dir: Path | None) -> None:
    """Record that ``weights``, as it is now, hashes to ``sha256`` (best effort: a read-only
    data folder only means the next start hashes again)."""
    if cache_dir is None:
        return
    path = cache_dir / VERDICTS
    with contextlib.suppress(OSError):
        try:
            verdicts = json.loads(path.read_text("utf-8"))
            if not isinstance(verdicts, dict):
                verdicts = {}
        except (OSError, ValueError):
            verdicts = {}
        verdicts[str(weights.resolve())] = {"sha256": sha256, "stat": _stat_key(weights)}
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(verdicts, indent=2), "utf-8")
        os.replace(tmp, path)
