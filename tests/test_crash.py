"""Crash consistency with real processes: ``snapfind-cli index`` killed with SIGKILL mid-run.

The CLI runs in a subprocess on the tiny model imported through ``models import``. The test
watches the database from outside (read-only) and kills the process at a chosen point. Then,
in this process, SQLite and the reloaded vector index must agree label for label, no file may
hold two vectors, and finishing the run must give exactly what an uninterrupted run gives.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from imagegen import save_scene
from tiny_model import ARCH

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.settings import Settings
from desktop_app.core.vectors.hnsw import HnswBackend
from desktop_app.core.vectors.hnsw_store import HnswStore

pytestmark = pytest.mark.slow

IMAGES = 150
SIZE = (96, 96)
K = 10
QUERIES = 5
# Queries whose top K+1 scores are this far apart have one true ranking: float noise from
# different batch compositions (about 1e-7) cannot reorder them.
SEPARATION = 1e-4
POLL_S = 0.005
RUN_TIMEOUT_S = 120.0
_ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}
_REPO = Path(__file__).resolve().parent.parent

Counts = dict[str, int]  # file status -> number of files


def _name(i: int) -> str:
    return f"img{i:03d}.jpg"


# -- talking to the CLI and the database from outside --------------------------------------------


def _cli(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--home", str(home), *args],
        cwd=_REPO,
        env=_ENV,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"snapfind {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def _query(home: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the database as an outside observer would: its own read-only connection."""
    uri = f"file:{home / 'library.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
        return conn.execute(sql, params).fetchall()


def _counts(home: Path) -> Counts:
    return dict(_query(home, "SELECT status, COUNT(*) FROM files GROUP BY status"))


def _index_and_kill(home: Path, log: Path, when: Callable[[Counts], bool], what: str) -> Counts:
    """Start ``index`` in a subprocess and SIGKILL it as soon as ``when(counts)`` holds."""
    command = [sys.executable, "-m", "desktop_app", "--home", str(home), "index"]
    with (
        open(log, "ab") as out,
        subprocess.Popen(command, cwd=_REPO, env=_ENV, stdout=out, stderr=out) as proc,
    ):
        try:
            deadline = time.monotonic() + RUN_TIMEOUT_S
            while not when(counts := _counts(home)):
                if proc.poll() is not None:
                    pytest.fail(
                        f"index exited ({proc.returncode}) before {what}: {counts}\n"
                        + log.read_text("utf-8", "replace")
                    )
                if time.monotonic() > deadline:
                    pytest.fail(f"no {what} within {RUN_TIMEOUT_S} s: {counts}")
                time.sleep(POLL_S)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the kill {what} came too late"
    return _counts(home)


# -- consistency checks ---------------------------------------------------------------------------


def _live_labels(index: HnswBackend) -> set[int]:
    """Every label a search can return (an exact search over the whole index)."""
    if len(index) == 0:
        return set()
    probe = np.ones(index.dim, dtype=np.float32)
    return {label for label, _ in index.search(probe, len(index), exact=True)}


def _assert_consistent(engine: Engine) -> None:
    """SQLite and the loaded index agree, and only indexed files have (exactly one) vector."""
    home = engine.home
    reader = engine.library.reader()
    sets = reader.vector_sets("clip")  # the text space holds no units: no text in the photos
    assert len(sets) <= 1, sets  # none yet when killed before the model was loaded
    committed = {label for (label,) in _query(home, "SELECT label FROM units")}
    for vset in sets:
        index = engine.library.index_for(vset)
        assert _live_labels(index) == committed
        # The approximate search must not return dropped labels either (marked deleted).
        for _, vector in reader.all_vectors(vset.id):
            found = {label for label, _ in index.search(vector, min(K, len(index)), exact=False)}
            assert found <= committed
    doubles = _query(home, "SELECT file_id FROM units GROUP BY set_id, file_id HAVING COUNT(*) > 1")
    assert doubles == []
    with_vector = {fid for (fid,) in _query(home, "SELECT file_id FROM units")}
    indexed = {fid for (fid,) in _query(home, "SELECT id FROM files WHERE status = 'indexed'")}
    pending = {fid for (fid,) in _query(home, "SELECT id FROM files WHERE status = 'pending'")}
    assert indexed <= with_vector
    assert with_vector - indexed <= pending  # embedded by look, waiting for the text pass
    assert _query(home, "PRAGMA integrity_check") == [("ok",)]


def _check_as_reader(home: Path) -> None:
    """A reader repairs its in-memory index from SQLite without writing anything."""

    def index_files() -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in (home / "indexes").iterdir()}

    before = index_files()
    with Engine(home, writer=False) as engine:
        _assert_consistent(engine)
    assert index_files() == before


def _vectors_by_name(home: Path) -> dict[str, np.ndarray]:
    rows = _query(home, "SELECT f.path, v.vector FROM units v JOIN files f ON f.id = v.file_id")
    vectors = {Path(path).name: np.frombuffer(blob, dtype=np.float32) for path, blob in rows}
    assert len(vectors) == len(rows), "a file has more than one vector"
    return vectors


@dataclass(frozen=True)
class Reference:
    """The pictures, and what an uninterrupted index of them gives."""

    folder: Path
    vectors: dict[str, np.ndarray]
    rankings: dict[str, list[str]]  # query file name -> top K file names


def _finish_and_compare(home: Path, photos: Path, reference: Reference) -> None:
    """Reopen as the writer, check, finish the run, and compare with the reference."""
    with Engine(home) as engine:  # the imported tiny model is the active one
        _assert_consistent(engine)
        reports = list(engine.index())
        assert reports[-1].phase == "done"
        _assert_consistent(engine)
        assert engine.status().counts["image"] == {"indexed": IMAGES}
        assert [(s["state"], s["vectors"]) for s in engine.status().vector_sets] == [
            ("ready", IMAGES),
            ("ready", 0),  # the text read in the photos: none
        ]
        vectors = _vectors_by_name(home)
        assert vectors.keys() == reference.vectors.keys()
        for name, vector in vectors.items():
            np.testing.assert_allclose(vector, reference.vectors[name], atol=1e-5, err_msg=name)
        for query, expected in reference.rankings.items():
            hits = engine.search_image(photos / query, k=K)
            assert [Path(h.path).name for h in hits] == expected, query
        reader = engine.library.reader()
        (vset,) = reader.vector_sets("clip")
        committed = reader.labels(vset.id)
    # What the writer saved on closing holds every committed label: nothing to re-add.
    saved = HnswBackend(HnswStore(home / "indexes").path(vset.id), vset.dim)
    assert saved.load()
    readded, _ = saved.reconcile(committed, lambda labels: pytest.fail(f"re-adding {labels}"))
    assert readded == 0


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, tiny_clip: OpenClipEncoder) -> Reference:
    folder = tmp_path_factory.mktemp("pool")
    for i in range(IMAGES):
        save_scene(folder / _name(i), i, SIZE, quality=90)
    home = tmp_path_factory.mktemp("reference-home")
    with Engine(home, clip_loader=lambda: tiny_clip) as engine:
        engine.add_root(folder)
        list(engine.index())
        assert engine.status().counts["image"] == {"indexed": IMAGES}
        rankings: dict[str, list[str]] = {}
        for i in range(IMAGES):
            hits = engine.search_image(folder / _name(i), k=K + 1)
            scores = np.array([h.score for h in hits])
            if len(hits) == K + 1 and np.all(-np.diff(scores) > SEPARATION):
                rankings[_name(i)] = [Path(h.path).name for h in hits[:K]]
                if len(rankings) == QUERIES:
                    break
    assert len(rankings) == QUERIES, "too few well-separated queries to compare rankings"
    return Reference(folder, _vectors_by_name(home), rankings)


@pytest.fixture(scope="module")
def template_home(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_files: tuple[Path, Path]
) -> Path:
    """A data folder with the tiny model imported through the CLI; copied by each test."""
    config, weights = tiny_model_files
    home = tmp_path_factory.mktemp("template-home")
    _cli(home, "models", "import", "--arch", ARCH, "--config", str(config), str(weights))
    # Vectors are compared with the in-process fp32 reference to 1e-5: a fast path (bf16)
    # passes its fidelity check but differs at 1e-3, so the runs here stay in fp32.
    settings = Settings.load(home / "settings.json")
    settings.precision = "fp32"
    settings.save(home / "settings.json")
    return home


@pytest.fixture
def library_home(tmp_path: Path, template_home: Path) -> Path:
    return Path(shutil.copytree(template_home, tmp_path / "home"))


@pytest.fixture
def photos(tmp_path: Path, reference: Reference) -> Path:
    return Path(shutil.copytree(reference.folder, tmp_path / "photos"))


# -- tests --------------------------------------------------------------------------------------


def _after_scan(c: Counts) -> bool:
    return c.get("pending", 0) > 0 and c.get("indexed", 0) == 0


def _after_first_batch(c: Counts) -> bool:
    return 0 < c.get("indexed", 0) < IMAGES


def _late(c: Counts) -> bool:
    return c.get("indexed", 0) >= 0.6 * IMAGES


KILL_POINTS: dict[str, Callable[[Counts], bool]] = {
    "after the scan": _after_scan,
    "after the first batch": _after_first_batch,
    "late in the run": _late,
}


@pytest.mark.parametrize(
    "kills",
    [["after the scan"], ["after the first batch", "late in the run"]],
    ids=["once-after-scan", "twice-early-then-late"],
)
def test_killed_index_resumes_to_the_same_library(
    library_home: Path, photos: Path, reference: Reference, kills: list[str], tmp_path: Path
) -> None:
    """The second kill in a row leaves an index file that lags behind SQLite."""
    home = library_home
    _cli(home, "add", str(photos))
    for what in kills:
        counts = _index_and_kill(home, tmp_path / "index.log", KILL_POINTS[what], what)
        assert counts.get("pending", 0) > 0, f"killed {what}, yet nothing was left: {counts}"
        assert sum(counts.values()) == IMAGES
        _check_as_reader(home)
    _finish_and_compare(home, photos, reference)


def test_killed_reindex_of_changed_files_resumes_to_the_same_library(
    library_home: Path, photos: Path, reference: Reference, tmp_path: Path
) -> None:
    """Changed files lose their vectors in SQLite; the saved index file still holds them."""
    home = library_home
    changed, added = range(60), range(IMAGES - 10, IMAGES)
    for i in changed:
        save_scene(photos / _name(i), 1000 + i, SIZE, quality=90)
    for i in added:
        (photos / _name(i)).unlink()
    _cli(home, "add", str(photos))
    _cli(home, "index")
    assert _counts(home) == {"indexed": IMAGES - len(added)}

    for i in [*changed, *added]:
        shutil.copyfile(reference.folder / _name(i), photos / _name(i))
    to_embed = len(changed) + len(added)

    def some_reembedded(c: Counts) -> bool:
        # mark_changed makes `changed` pending, the insert adds `added`; then batches commit.
        return 0 < c.get("pending", 0) < len(changed)

    counts = _index_and_kill(home, tmp_path / "index.log", some_reembedded, "mid re-embedding")
    assert 0 < counts["pending"] < to_embed
    _check_as_reader(home)
    _finish_and_compare(home, photos, reference)
