"""A library whose picture vectors are given rather than embedded, built through the real store
and index code: for duplicate grouping tests and benchmarks at sizes no model could embed."""

from pathlib import Path

import numpy as np

from desktop_app.core.db.library import Library
from desktop_app.core.db.records import FileUnits, NewUnit, VectorSet
from desktop_app.core.kinds.base import CLIP

_COMMIT_BATCH = 2000


def vector_library(
    home: Path, vectors: np.ndarray, hashes: list[str] | None = None
) -> tuple[Library, VectorSet]:
    """File ``i`` is ``photos/p{i:06d}.jpg`` (not on disk) with vector ``vectors[i]``; its
    content hash is ``hashes[i]`` (default: unique). The set is ready and its index built."""
    library = Library(home)
    folder = home / "photos"
    root = library.store.add_root(str(folder))
    count = len(vectors)
    library.store.insert_files(
        [
            {
                "root_id": root.id,
                "path": str(folder / f"p{i:06d}.jpg"),
                "size": 1000 + i,
                "mtime_ns": 1_600_000_000_000_000_000 + i,
                "kind": "image",
                "hash": hashes[i] if hashes else f"h{i:06d}",
            }
            for i in range(count)
        ]
    )
    vset = library.store.ensure_vector_set(CLIP, "synthetic", vectors.shape[1])
    records = sorted(library.store.files_under(root.id).values(), key=lambda r: r.path)
    for start in range(0, count, _COMMIT_BATCH):
        library.store.commit_units(
            [
                FileUnits(
                    rec,
                    {"hash": rec.hash, "width": 640, "height": 480},
                    {vset.id: [NewUnit(vectors[i])]},
                )
                for i, rec in enumerate(records[start : start + _COMMIT_BATCH], start)
            ],
        )
    library.finish_set(vset)
    library.index_for(vset)  # builds the index from the stored vectors, as after a crash
    return library, vset


def clustered(count: int, dim: int, clusters: int, spread: float, seed: int) -> np.ndarray:
    """Unit vectors around ``clusters`` random centres (photo libraries are clumpy, and uniform
    random vectors are a pathological ANN benchmark)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = centres[rng.integers(0, clusters, count)] + spread * rng.standard_normal(
        (count, dim)
    ).astype(np.float32) / np.sqrt(dim)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def nudge(vector: np.ndarray, cosine: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector at exactly ``cosine`` to ``vector`` (a planted near-duplicate)."""
    unit = vector / np.linalg.norm(vector)
    noise = rng.standard_normal(unit.shape).astype(np.float32)
    noise -= (noise @ unit) * unit
    noise /= np.linalg.norm(noise)
    return (cosine * unit + np.sqrt(1 - cosine**2) * noise).astype(np.float32)
