"""A large unchanged folder tree, registered as already indexed, for timing a stat-only re-scan.

Embedding 100,000 real pictures would take hours here, and a re-scan of an unchanged library
never opens a file, so the files are tiny (a few bytes, picture extensions) and the library is
told they are indexed: the ``files`` rows carry their real size and mtime as a finished index
run leaves them, with a content hash and one vector each in a ready vector set of the model the
engine will use. ``Engine.index()`` then takes exactly the path a person's unchanged library
takes: walk, stat, compare with SQLite, nothing to embed.
"""

import os
import time
from pathlib import Path

import bench_env  # noqa: F401  (puts the repository on sys.path)
import numpy as np

from desktop_app.core.db.library import Library
from desktop_app.core.kinds.base import CLIP

PER_FOLDER = 500


def make_tree(folder: Path, n: int) -> Path:
    """``n`` small files in dated album folders (reused when the tree is already complete)."""
    marker = folder / ".complete"
    if marker.exists() and int(marker.read_text()) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        sub = folder / f"{2015 + i // 20000}" / f"album-{i // PER_FOLDER:04d}"
        if i % PER_FOLDER == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"IMG_{i:06d}.jpg").write_bytes(b"\xff\xd8\xff" + i.to_bytes(4, "little"))
    marker.write_text(str(n))
    return folder


def register(home: Path, tree: Path, model_id: str, dim: int) -> float:
    """Record every file of ``tree`` as indexed by ``model_id``; returns the seconds taken."""
    start = time.perf_counter()
    library = Library(home)
    store = library.store
    root = store.add_root(str(tree))
    vset = store.ensure_vector_set(CLIP, model_id, dim)
    rows = []
    for base, _, names in os.walk(tree):
        for name in names:
            if name.endswith(".jpg"):
                path = os.path.join(base, name)
                st = os.stat(path)
                rows.append((path, st.st_size, st.st_mtime_ns))
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(rows), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO files (id, root_id, path, size, mtime_ns, hash, kind, status, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'image', 'indexed', 0)",
            ((i + 1, root.id, p, size, mt, f"{i:032x}") for i, (p, size, mt) in enumerate(rows)),
        )
        conn.executemany(
            "INSERT INTO units (set_id, label, file_id, vector) VALUES (?, ?, ?, ?)",
            ((vset.id, i, i + 1, vectors[i].tobytes()) for i in range(len(rows))),
        )
        conn.executemany(
            "INSERT INTO embedded (set_id, file_id) VALUES (?, ?)",
            ((vset.id, i + 1) for i in range(len(rows))),
        )
        conn.execute("UPDATE vector_sets SET next_label = ? WHERE id = ?", (len(rows), vset.id))
    store.mark_ready(vset.id)
    library.close()
    return time.perf_counter() - start
