"""A data folder that fills up or turns read-only: the app says so, stops, keeps the last good
state, and continues once the disk is writable again.

The faults are the real ones where this machine can produce them without root: SQLite's own
"database or disk is full" (``PRAGMA max_page_count`` caps the file where a full disk would),
SQLite's read-only error (``PRAGMA query_only``), and ``/dev/full`` (every write fails with
ENOSPC) standing in for the file the index or a thumbnail is written to. A read-only folder
for the index save is a patched ``os.replace`` raising EROFS.
"""

import errno
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from imagegen import save_scene
from test_crash import _assert_consistent
from tiny_model import ARCH

from desktop_app import cli
from desktop_app.core import thumbnails
from desktop_app.core.db import store
from desktop_app.core.db.storage import StorageError
from desktop_app.core.engine import Engine
from desktop_app.core.indexing import indexer
from desktop_app.core.vectors import hnsw as vector_index
from desktop_app.core.vectors.hnsw import HnswBackend
from desktop_app.core.vectors.hnsw_store import HnswStore

EngineFactory = Callable[..., Engine]
FIRST, MORE = 20, 30
DEV_FULL = Path("/dev/full")

needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full here")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    for i in range(FIRST):
        save_scene(folder / f"a{i:02d}.jpg", 300 + i, (64, 64), quality=90)
    return folder


def _add_more(photos: Path) -> None:
    for i in range(MORE):
        save_scene(photos / f"b{i:02d}.jpg", 400 + i, (64, 64), quality=90)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Libraries made here use 4 KB pages. A full disk is simulated by forbidding the database
    file to grow (``max_page_count``); the 16 KB pages of a real library keep enough free room
    that a whole run could still fit in them, so the fill would never be felt."""
    monkeypatch.setattr(store, "PAGE_SIZE", 4096)


def _fill_sqlite(conn: sqlite3.Connection) -> None:
    """From now on the database file cannot grow, as on a full disk."""
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")


def _indexed(engine: Engine) -> dict[str, int]:
    return engine.status().counts["image"]


def _index_file(engine: Engine, set_id: int) -> Path:
    return HnswStore(engine.home / "indexes").path(set_id)


def _assert_finishes(make_engine: EngineFactory, photos: Path) -> None:
    """Space is back: a new run completes and every picture finds itself first."""
    engine = make_engine()
    _assert_consistent(engine)
    assert list(engine.index())[-1].phase == "done"
    _assert_consistent(engine)
    assert _indexed(engine) == {"indexed": FIRST + MORE}
    assert engine.errors() == []
    for path in sorted(photos.iterdir())[::7]:
        assert engine.search_image(path, k=1)[0].path == str(path)
    engine.close()


def _run_until_error(
    work: Iterator[Any], when: Callable[[Any], bool], act: Callable[[], None]
) -> StorageError:
    with pytest.raises(StorageError) as caught:
        for progress in work:
            if when(progress):
                act()
    return caught.value


def test_database_full_mid_run_stops_keeps_committed_batches_and_resumes(
    make_engine: EngineFactory, photos: Path
) -> None:
    engine = make_engine()
    engine.add_root(photos)
    list(engine.index())
    _add_more(photos)
    (vset,) = engine.library.reader().vector_sets("clip")
    conn = engine.library.store.conn
    committed: list[int] = []
    error = _run_until_error(
        engine.index(),
        lambda p: p.phase == "images" and p.done >= indexer.FILE_BATCH and not committed,
        lambda: (
            committed.append(engine.library.reader().vector_count(vset.id)),
            _fill_sqlite(conn),
        ),
    )
    message = str(error)
    assert "is full" in message and str(engine.home) in message and "kept" in message
    # The batches before the fill are kept: their pictures have their CLIP vectors and wait,
    # pending, for the text-in-images pass, like the pictures not reached yet.
    assert committed[0] > FIRST + indexer.FIRST_BATCH
    assert engine.library.reader().vector_count(vset.id) == committed[0]
    assert _indexed(engine) == {"indexed": FIRST, "pending": MORE}
    assert engine.errors() == [], "a full disk is not the pictures' fault"
    engine.close()
    _assert_finishes(make_engine, photos)


def test_database_full_before_the_scan_changes_nothing(
    make_engine: EngineFactory, photos: Path
) -> None:
    engine = make_engine()
    engine.add_root(photos)
    list(engine.index())
    _add_more(photos)
    _fill_sqlite(engine.library.store.conn)
    with pytest.raises(StorageError, match="is full"):
        list(engine.index())
    assert _indexed(engine) == {"indexed": FIRST}
    engine.close()
    _assert_finishes(make_engine, photos)


def test_read_only_database_is_reported_and_nothing_is_lost(
    make_engine: EngineFactory, photos: Path
) -> None:
    engine = make_engine()
    engine.add_root(photos)
    list(engine.index())
    _add_more(photos)
    engine.library.store.conn.execute("PRAGMA query_only = 1")
    with pytest.raises(StorageError, match="read-only"):
        list(engine.index())
    assert _indexed(engine) == {"indexed": FIRST}
    engine.library.store.conn.execute("PRAGMA query_only = 0")
    engine.close()
    _assert_finishes(make_engine, photos)


@needs_dev_full
def test_index_save_on_a_full_disk_keeps_the_previous_file(tmp_path: Path) -> None:
    """hnswlib ignores write errors: without a check, a cut-short file would replace the
    good one. The save must fail, leave the old file, and succeed once space is back."""
    rng = np.random.default_rng(0)
    index = HnswBackend(tmp_path / "set.hnsw", 16)
    index.add(list(range(50)), rng.standard_normal((50, 16)).astype(np.float32))
    index.save()
    good = index.path.read_bytes()
    index.add(list(range(50, 80)), rng.standard_normal((30, 16)).astype(np.float32))
    tmp = index.path.with_name(index.path.name + ".tmp")
    tmp.symlink_to(DEV_FULL)  # the save's writes now fail with ENOSPC
    with pytest.raises(OSError) as caught:
        index.save()
    assert caught.value.errno == errno.ENOSPC
    assert index.path.read_bytes() == good
    assert not tmp.exists() and not tmp.is_symlink()
    assert index.dirty
    index.save()  # space is back
    reloaded = HnswBackend(index.path, 16)
    assert reloaded.load()
    assert reloaded.reconcile(set(range(80)), lambda labels: pytest.fail(f"lost {labels}")) == (
        0,
        0,
    )


@needs_dev_full
def test_index_save_on_a_full_disk_during_a_run_is_reported(
    make_engine: EngineFactory, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexer, "SAVE_INTERVAL_S", 0.0)  # save after every batch
    engine = make_engine()
    engine.add_root(photos)
    list(engine.index())
    _add_more(photos)
    (vset,) = engine.library.reader().vector_sets("clip")
    saved = _index_file(engine, vset.id)
    tmp = saved.with_name(saved.name + ".tmp")
    tmp.symlink_to(DEV_FULL)
    with pytest.raises(StorageError, match="is full"):
        list(engine.index())
    # The first batch was committed to SQLite before the save failed: it is kept (its pictures then
    # wait, pending, for the text-in-images pass).
    assert engine.library.reader().vector_count(vset.id) == FIRST + indexer.FIRST_BATCH
    engine.close()
    _assert_finishes(make_engine, photos)


def test_read_only_index_folder_is_reported(
    make_engine: EngineFactory, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine()
    engine.add_root(photos)
    list(engine.index())
    _add_more(photos)
    (vset,) = engine.library.reader().vector_sets("clip")
    before = _index_file(engine, vset.id).read_bytes()

    def read_only(src: Any, dst: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dst))

    monkeypatch.setattr(vector_index.os, "replace", read_only)
    with pytest.raises(StorageError, match="read-only"):
        list(engine.index())
    with pytest.raises(StorageError, match="read-only"):
        engine.close()  # closing saves too; it still releases the database and the lock
    assert _index_file(engine, vset.id).read_bytes() == before
    assert not list(_index_file(engine, vset.id).parent.glob("*.tmp"))
    monkeypatch.undo()
    _assert_finishes(make_engine, photos)


@needs_dev_full
def test_thumbnail_on_a_full_disk_is_reported_and_leaves_nothing(
    make_engine: EngineFactory, photos: Path
) -> None:
    engine = make_engine()
    engine.add_root(photos)
    list(engine.index())
    record = engine.file(photos / "a00.jpg")
    assert record.hash
    target = thumbnails.thumbnail_path(engine.library.thumbnail_dir, record.hash, 128)
    target.parent.mkdir(parents=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.symlink_to(DEV_FULL)
    with pytest.raises(StorageError, match="is full"):
        engine.thumbnail(record.id, 128)
    assert not target.exists() and not tmp.is_symlink()
    made = engine.thumbnail(record.id, 128)  # space is back
    assert made == target and target.stat().st_size > 0


def test_cli_says_the_disk_is_full_in_one_line(
    home: Path,
    photos: Path,
    tiny_model_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, weights = tiny_model_files
    model = ["models", "import", "--arch", ARCH, "--config", str(config), str(weights)]
    assert cli.main(["--home", str(home), *model]) == 0
    assert cli.main(["--home", str(home), "add", str(photos)]) == 0
    real_connect = store.connect

    def full_disk(path: Path) -> sqlite3.Connection:
        conn = real_connect(path)
        _fill_sqlite(conn)
        return conn

    monkeypatch.setattr(store, "connect", full_disk)
    capsys.readouterr()
    assert cli.main(["--home", str(home), "index"]) == 1
    err = capsys.readouterr().err
    assert "The disk holding the library" in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("snapfind: ")
