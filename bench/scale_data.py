"""Synthetic CLIP-like vectors, and a library holding them built through the real store and index.

Uniform random vectors are a pathological ANN benchmark (no structure, recall collapses), and
far easier than nothing to get wrong in the other direction, so the generator imitates what real
CLIP image embeddings look like:

- a few thousand clusters (subjects, scenes, events), with a long-tailed popularity;
- on a low-rank subspace with a decaying spectrum (CLIP embeddings are strongly anisotropic:
  a few directions carry most of the variance) plus a small isotropic residue in all 512 dims;
- a shared offset direction (every CLIP image embedding has a large common component, which is
  why unrelated photos still score cosine ≈ 0.3-0.5 to each other);
- L2-normalised, float32.

Queries imitate text queries: near a cluster but farther from it than its members, shifted by a
"modality gap" direction, so they sit off the data as CLIP text vectors do.

The library is written the way Snapfind writes its own: ``Store``/``Library`` create the schema,
the vector set and the index file; rows go in with ``executemany`` inside one transaction; the
vectors go through ``HnswBackend.add`` and ``HnswBackend.save``. Opening and searching it later is
therefore exactly the application's code path.
"""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import bench_env  # noqa: F401  (puts the repository on sys.path)
import numpy as np

from desktop_app.core.db.library import Library
from desktop_app.core.kinds.base import CLIP
from desktop_app.core.vectors.hnsw import HnswParams
from desktop_app.core.vectors.hnsw_store import HnswStore

DIM = 512
MODEL_ID = "open_clip:ViT-B-32/random-seed0"
CHUNK = 50_000


@dataclass(frozen=True)
class Shape:
    """The distribution's knobs (defaults give CLIP-like cosine statistics, see README)."""

    clusters: int = 3000
    rank: int = 128
    spread: float = 0.7  # cluster members' spread relative to the centres' spread
    offset: float = 1.1  # length of the shared component against a centre's typical length
    residue: float = 0.35  # isotropic noise in all dims, relative to a centre's typical length
    gap: float = 1.5  # queries' shift along the modality-gap direction


class ClipLike:
    """A seeded mixture; ``vectors(start, n)`` is deterministic for any slice."""

    def __init__(self, seed: int = 0, shape: Shape = Shape(), dim: int = DIM) -> None:
        self.seed, self.shape, self.dim = seed, shape, dim
        rng = np.random.default_rng(seed)
        self.basis = np.linalg.qr(rng.standard_normal((dim, shape.rank)))[0].T.astype(np.float32)
        self.scales = (1.0 / np.sqrt(np.arange(1, shape.rank + 1))).astype(np.float32)
        self.scales /= float(np.linalg.norm(self.scales))  # a centre has length ≈ 1
        self.centres = rng.standard_normal((shape.clusters, shape.rank)).astype(np.float32)
        self.centres *= self.scales
        common = rng.standard_normal(dim).astype(np.float32)
        self.common = shape.offset * common / np.linalg.norm(common)
        gap = rng.standard_normal(dim).astype(np.float32)
        self.gap = gap / np.linalg.norm(gap)
        popularity = 1.0 / (np.arange(shape.clusters) + 20.0) ** 0.9
        self.popularity = popularity / popularity.sum()

    def _points(self, rng: np.random.Generator, n: int, spread: float) -> np.ndarray:
        which = rng.choice(self.shape.clusters, size=n, p=self.popularity)
        local = rng.standard_normal((n, self.shape.rank)).astype(np.float32) * self.scales
        low = self.centres[which] + spread * local
        out = low @ self.basis + self.common
        out += (self.shape.residue / np.sqrt(self.dim)) * rng.standard_normal((n, self.dim)).astype(
            np.float32
        )
        return out

    def vectors(self, start: int, n: int) -> np.ndarray:
        """Rows ``start .. start+n`` of the library (chunk-seeded: any slice is reproducible)."""
        parts = []
        for chunk in range(start // CHUNK, (start + n - 1) // CHUNK + 1):
            rng = np.random.default_rng([self.seed, 1, chunk])
            parts.append(self._points(rng, CHUNK, self.shape.spread))
        block = np.concatenate(parts)[start % CHUNK : start % CHUNK + n]
        return _normalised(block)

    def queries(self, n: int) -> np.ndarray:
        """Text-like queries: looser than cluster members, shifted by the modality gap."""
        rng = np.random.default_rng([self.seed, 2])
        points = self._points(rng, n, 1.5 * self.shape.spread) + self.shape.gap * self.gap
        return _normalised(points)


def _normalised(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


def exact_top(
    data: Callable[[int, int], np.ndarray], n: int, queries: np.ndarray, k: int
) -> np.ndarray:
    """The true top-``k`` labels (row numbers) of each query, by brute force in chunks."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, n, CHUNK):
        block = data(start, min(CHUNK, n - start))
        scores = queries @ block.T
        s = np.concatenate([best_s, scores], axis=1)
        i = np.concatenate(
            [best_i, np.arange(start, start + len(block))[None].repeat(len(queries), 0)], axis=1
        )
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(s, top, 1), np.take_along_axis(i, top, 1)
    order = np.argsort(-best_s, axis=1)
    return np.take_along_axis(best_i, order, 1)


def statistics(data: np.ndarray, sample: int = 2000, seed: int = 0) -> dict[str, float]:
    """Cosine statistics that say how CLIP-like the data is (mean pair, nearest neighbour)."""
    rng = np.random.default_rng(seed)
    pick = data[rng.choice(len(data), size=min(sample, len(data)), replace=False)]
    pairs = pick @ pick.T
    off = pairs[~np.eye(len(pick), dtype=bool)]
    nn = np.sort(pick @ data.T, axis=1)[:, -2]  # the best match other than itself
    centred = data - data.mean(axis=0)
    spectrum = np.linalg.svd(centred[: min(len(data), 20_000)], compute_uv=False) ** 2
    share = np.cumsum(spectrum) / spectrum.sum()
    return {
        "mean_pair_cosine": float(off.mean()),
        "p99_pair_cosine": float(np.percentile(off, 99)),
        "mean_nn_cosine": float(nn.mean()),
        "dims_for_90pct_variance": int(np.searchsorted(share, 0.9) + 1),
    }


# -- a library on disk -------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltLibrary:
    home: Path
    n: int
    params: HnswParams
    seed: int
    build_s: float
    sqlite_s: float
    index_bytes: int

    @classmethod
    def load(cls, home: Path) -> "BuiltLibrary | None":
        marker = home / "synthetic.json"
        if not marker.exists():
            return None
        info = json.loads(marker.read_text())
        info["home"] = Path(info["home"])
        info["params"] = HnswParams(**info["params"])
        return cls(**info)


def library_home(workdir: Path, n: int, params: HnswParams, seed: int = 0) -> Path:
    """Where a library of these settings is cached between runs."""
    return workdir / f"scale-{n}-m{params.m}-efc{params.ef_construction}-seed{seed}"


def build_library(
    home: Path,
    n: int,
    params: HnswParams,
    seed: int = 0,
    log: Callable[[str], None] = lambda _: None,
) -> BuiltLibrary:
    """Write ``n`` synthetic pictures (rows + vectors + hnswlib index) into a fresh ``home``.

    Reused if ``home`` already holds a finished library of the same size, seed and parameters.
    """
    done = BuiltLibrary.load(home)
    graph = (params.m, params.ef_construction)  # ef_search is not part of the built file
    if done and (done.n, done.params.m, done.params.ef_construction, done.seed) == (
        n,
        *graph,
        seed,
    ):
        return done
    if any(home.glob("*")):
        raise SystemExit(f"{home} holds something else; remove it or choose another folder")
    gen = ClipLike(seed)
    library = Library(home)
    store = library.store
    (home / "photos").mkdir(parents=True, exist_ok=True)  # see scale_probe.bring_root_online
    (home / "photos" / "README.txt").write_text("Stands in for the synthetic library's pictures.\n")
    root = store.add_root(str(home / "photos"))
    vset = store.ensure_vector_set(CLIP, MODEL_ID, DIM)
    start = time.perf_counter()
    with store.transaction() as conn:
        for first, block in blocks(gen, n):
            conn.executemany(
                "INSERT INTO files (id, root_id, path, size, mtime_ns, hash, kind, width, height,"
                " taken_at, camera, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'image',"
                " 4000, 3000, ?, 'Synthetic', 'indexed', 0)",
                (
                    (
                        i + 1,
                        root.id,
                        f"{root.path}/{i // 1000:04d}/IMG_{i:07d}.jpg",
                        3_000_000 + i % 997,
                        1_600_000_000_000_000_000 + i,
                        f"{i:032x}",
                        1.6e9 + i,
                    )
                    for i in range(first, first + len(block))
                ),
            )
            conn.executemany(
                "INSERT INTO units (set_id, label, file_id, vector) VALUES (?, ?, ?, ?)",
                ((vset.id, first + j, first + j + 1, v.tobytes()) for j, v in enumerate(block)),
            )
            conn.executemany(
                "INSERT INTO embedded (set_id, file_id) VALUES (?, ?)",
                ((vset.id, first + j + 1) for j in range(len(block))),
            )
            log(f"sqlite {first + len(block)}/{n}")
        conn.execute("UPDATE vector_sets SET next_label = ? WHERE id = ?", (n, vset.id))
    store.mark_ready(vset.id)
    sqlite_s = time.perf_counter() - start
    index = HnswStore(home / "indexes", params).open(vset.id, CLIP, DIM)
    start = time.perf_counter()
    for first, block in blocks(gen, n):
        index.add(list(range(first, first + len(block))), block)
        log(f"hnsw {first + len(block)}/{n} {time.perf_counter() - start:.0f} s")
    build_s = time.perf_counter() - start
    index.save()
    library.close()
    built = BuiltLibrary(
        home,
        n,
        params,
        seed,
        build_s,
        sqlite_s,
        index.path.stat().st_size,
    )
    info = asdict(built) | {"home": str(home)}
    (home / "synthetic.json").write_text(json.dumps(info, indent=2))
    return built


def blocks(gen: ClipLike, n: int) -> Iterator[tuple[int, np.ndarray]]:
    """The first ``n`` vectors in chunks: (first index, vectors), so memory stays bounded."""
    for first in range(0, n, CHUNK):
        yield first, gen.vectors(first, min(CHUNK, n - first))
