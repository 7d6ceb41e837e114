"""The identity of a weights file: the key under which exports made from it are cached.

Kept free of torch so the query path can tell whether a cached export is still valid.
"""

import hashlib
from pathlib import Path


def weights_identity(weights: Path, model_id: str) -> str:
    """A short key that changes whenever the weights file is replaced or rewritten.

    Size and modification time stand in for a content hash: hashing a 600 MB file on every
    start would cost seconds, and any rewrite of the file changes its mtime.
    """
    stat = weights.stat()
    text = f"{model_id}|{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
