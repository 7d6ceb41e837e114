"""A library on Milvus (Lite) through the whole engine: filtered searches that agree with
hnswlib and with an exhaustive ranking, the move hnswlib -> Milvus -> hnswlib (resumable, with
progress, identical answers), repair after a crash, duplicates, faults, and one writer."""

import json
import os
import stat
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import EngineFactory, run_index
from gui_support import make_notes, make_photos
from milvus_support import lite_file, no_leftover_threads, prefix
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from desktop_app.cli import main as cli
from desktop_app.core.db.library import Library
from desktop_app.core.db.moving import move_library
from desktop_app.core.db.records import FileUnits, NewUnit
from desktop_app.core.db.writer_lease import LEASE_FILE, WriterLease
from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError, LibraryBusyError
from desktop_app.core.kinds.base import CLIP
from desktop_app.core.progress import Control
from desktop_app.core.searching.filters import Filters
from desktop_app.core.vectors.choice import BackendChoice, load_choice, next_choice, save_choice
from desktop_app.core.vectors.milvus import MilvusBackend
from desktop_app.gui.backend_section import BackendFields
from desktop_app.gui.settings_dialog import SettingsDialog

__all__ = ["lite_file", "no_leftover_threads", "prefix"]  # fixtures, used by name

COUNT = 600
DIM = 32
CAMERAS = ["Canon EOS R5", "NIKON D750", None, "Apple iPhone 15", "canon g7"]
FILTERS = [
    Filters(),
    Filters(folders=("{home}/photos/2024",)),
    Filters(after=1_600_000_300.0, before=1_600_000_800.0),
    Filters(types=("png",)),
    Filters(orientation="portrait", min_side=500),
    Filters(orientation="square"),
    Filters(camera="canon"),
    Filters(folders=("{home}/photos/2023", "{home}/scans"), camera="iphone"),
]


def clumps(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(15, DIM))
    data = centres[rng.integers(0, 15, count)] + 0.45 * rng.normal(size=(count, DIM))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


def build(home: Path, data: np.ndarray, start: int = 0) -> None:
    """Files ``start..`` of ``data`` in two folders (one with subfolders), with varied dates,
    shapes, cameras and types, committed through the store as the indexer does."""
    rng = np.random.default_rng(start)
    library = Library(home)
    roots = {}
    for name in ("photos", "scans"):
        folder = home / name
        (folder / "2023").mkdir(parents=True, exist_ok=True)
        (folder / "2024").mkdir(exist_ok=True)
        (folder / "keep.txt").write_text("a root is online while it holds something")
        roots[name] = library.store.add_root(str(folder)).id
    rows = []
    for i in range(start, len(data)):
        root = "photos" if i % 3 else "scans"
        year = "2023" if i % 2 else "2024"
        ext = ".png" if i % 4 == 0 else ".jpg"
        rows.append(
            {
                "root_id": roots[root],
                "path": str(home / root / year / f"f{i:05d}{ext}"),
                "size": 1000 + i,
                "mtime_ns": i,
                "kind": "image",
                "hash": f"h{i}",
            }
        )
    library.store.insert_files(rows)
    vset = library.target_set(CLIP, "synthetic/clip", DIM)
    records = {r.path: r for rid in roots.values() for r in library.store.files_under(rid).values()}
    done = []
    for i, row in enumerate(rows, start):
        width = int(rng.integers(200, 3000))
        height = int(rng.choice([width, rng.integers(200, 3000)]))
        meta = {
            "hash": row["hash"],
            "width": width,
            "height": height,
            "taken_at": 1_600_000_000.0 + i if i % 9 else None,
            "camera": CAMERAS[i % 5],
        }
        done.append(FileUnits(records[row["path"]], meta, {vset.id: [NewUnit(data[i])]}))
    library.store.commit_units(done)
    library.finish_set(vset)
    library.close()


def answers(home: Path, queries: list[str]) -> list[list[tuple[int, float]]]:
    """(file id, score) of the top 15 for each query file under each filter."""
    found = []
    with Engine(home, writer=False) as engine:
        for query in queries:
            for template in FILTERS:
                filters = Filters(
                    **{
                        **template.__dict__,
                        "folders": tuple(f.format(home=home) for f in template.folders),
                    }
                )
                hits = engine.similar(query, 15, filters=filters)
                found.append([(h.file_id, round(h.score, 4)) for h in hits])
    return found


def exhaustive(home: Path, query: str, filters: Filters, k: int) -> list[int]:
    """The filtered top ``k`` file ids by brute force over SQLite's vectors."""
    library = Library(home, writer=False)
    store = library.reader()
    (vset,) = store.vector_sets()
    condition, params = filters.where()
    allowed = store.labels_matching(vset.id, condition, params)
    record = store.file_by_path(query)
    assert record is not None
    target = np.mean(store.vectors_of_file(vset.id, record.id), axis=0)
    labels = sorted(allowed)
    vectors = dict(store.vectors_by_label(vset.id, labels))
    files = {lb: fid for lb, (fid, _, _) in store.resolve_labels(vset.id, labels).items()}
    scores = sorted((-float(vectors[lb] @ target), lb) for lb in labels)
    library.close()
    ranked = [files[lb] for _, lb in scores if files[lb] != record.id]
    return ranked[:k]


@pytest.fixture
def data() -> np.ndarray:
    return clumps(COUNT)


@pytest.fixture
def library_home(tmp_path: Path, data: np.ndarray) -> Path:
    home = tmp_path / "lib"
    build(home, data)
    return home


def milvus_choice(lite_file: Path, prefix: str) -> BackendChoice:
    return BackendChoice.milvus(str(lite_file), prefix=prefix)


def queries(home: Path) -> list[str]:
    return [
        str(home / "photos" / "2023" / "f00001.jpg"),
        str(home / "scans" / "2024" / "f00000.png"),
    ]


def test_move_to_milvus_and_back_answers_every_filtered_search_alike(
    library_home: Path, lite_file: Path, prefix: str
) -> None:
    before = answers(library_home, queries(library_home))
    assert all(before[1:]) and len({tuple(a) for a in before}) > 5  # the filters narrow
    steps = list(move_library(library_home, milvus_choice(lite_file, prefix)))
    assert [s.done for s in steps[1:-1]] == sorted(s.done for s in steps[1:-1])
    assert steps[-1].phase == "done" and steps[-1].done == steps[-1].total == COUNT
    assert load_choice(library_home).kind == "milvus"
    with Engine(library_home, writer=False) as engine:
        assert isinstance(
            engine.library.index_for(engine.library.reader().vector_sets()[0]), MilvusBackend
        )
    on_milvus = answers(library_home, queries(library_home))
    assert [[f for f, _ in a] for a in on_milvus] == [[f for f, _ in a] for a in before]
    assert on_milvus == before
    list(move_library(library_home, BackendChoice()))
    assert load_choice(library_home).kind == "hnswlib"
    assert answers(library_home, queries(library_home)) == before


def test_filtered_search_on_milvus_is_the_exhaustive_filtered_ranking(
    library_home: Path, lite_file: Path, prefix: str
) -> None:
    list(move_library(library_home, milvus_choice(lite_file, prefix)))
    query = queries(library_home)[0]
    with Engine(library_home, writer=False) as engine:
        for template in FILTERS:
            filters = Filters(
                **{
                    **template.__dict__,
                    "folders": tuple(f.format(home=library_home) for f in template.folders),
                }
            )
            hits = engine.similar(query, 20, filters=filters)
            assert [h.file_id for h in hits] == exhaustive(library_home, query, filters, 20)


def test_a_move_stopped_halfway_resumes_where_it_stopped(
    library_home: Path, lite_file: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("desktop_app.core.db.moving._BATCH", 100)
    target = milvus_choice(lite_file, prefix)
    control = Control()
    work = move_library(library_home, target, control)
    for progress in work:
        if progress.done >= 300:
            control.cancel()  # as Ctrl+C, or a dropped connection, would
            break
    work.close()
    assert load_choice(library_home).kind == "hnswlib"  # not switched until complete
    steps = list(move_library(library_home, target))
    assert steps[1].done >= 300  # what was uploaded is not uploaded again
    assert steps[-1].done == COUNT
    assert load_choice(library_home).prefix == prefix


def test_a_crash_between_sqlite_and_milvus_is_repaired_on_open(
    tmp_path: Path, lite_file: Path, prefix: str, data: np.ndarray
) -> None:
    home = tmp_path / "lib"
    build(home, data[:400])
    list(move_library(home, milvus_choice(lite_file, prefix)))
    build(home, data, start=400)  # SQLite commits 200 more; Milvus never heard of them
    library = Library(home)
    vset = library.reader().vector_sets()[0]
    gone = library.store.delete_files([1, 2, 3])  # and drops three
    index = library.index_for(vset)
    assert isinstance(index, MilvusBackend)
    assert index.labels() == library.reader().labels(vset.id)
    assert not set(gone[vset.id]) & index.labels()
    library.close()
    again = Library(home)
    assert again.index_for(vset).labels() == again.reader().labels(vset.id)
    again.close()


def test_duplicates_are_the_same_groups_on_milvus(
    tmp_path: Path, lite_file: Path, prefix: str
) -> None:
    rng = np.random.default_rng(3)
    data = clumps(300, seed=4)
    for i in range(0, 40, 2):  # twenty planted near-duplicate pairs
        noise = rng.normal(size=DIM).astype(np.float32)
        noise -= (noise @ data[i]) * data[i]
        data[i + 1] = 0.995 * data[i] + np.sqrt(1 - 0.995**2) * noise / np.linalg.norm(noise)
    home = tmp_path / "lib"
    build(home, data)
    with Engine(home, writer=False) as engine:
        on_hnswlib = [sorted(m.file_id for m in g.members) for g in engine.duplicates(0.99)]
    list(move_library(home, milvus_choice(lite_file, prefix)))
    with Engine(home, writer=False) as engine:
        on_milvus = [sorted(m.file_id for m in g.members) for g in engine.duplicates(0.99)]
    assert len(on_hnswlib) >= 20 and sorted(on_milvus) == sorted(on_hnswlib)


# -- faults -----------------------------------------------------------------------------------


def test_an_unreachable_server_at_open_is_a_known_error_and_moving_back_still_works(
    library_home: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = BackendChoice.milvus("http://127.0.0.1:9", token="u:hunter2pw", prefix="lib")
    save_choice(library_home, gone)
    before_files = sorted(p.name for p in library_home.iterdir())
    with pytest.raises(KnownError, match=r"Milvus at http://127\.0\.0\.1:9"):
        Engine(library_home)
    assert sorted(p.name for p in library_home.iterdir()) == before_files
    assert cli(["--home", str(library_home), "search", "x"]) == 1
    assert cli(["--home", str(library_home), "backend"]) == 0
    assert cli(["--home", str(library_home), "backend", "use", "hnswlib"]) == 0
    shown = capsys.readouterr()
    assert "hunter2pw" not in shown.out + shown.err + caplog.text
    assert "Token:" in shown.out and "set" in shown.out
    assert load_choice(library_home).kind == "hnswlib"


def test_the_backend_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    save_choice(tmp_path, BackendChoice.milvus("http://milvus:19530", token="u:secretpw"))
    mode = stat.S_IMODE(os.stat(tmp_path / "backend.json").st_mode)
    assert mode == 0o600
    assert json.loads((tmp_path / "backend.json").read_text())["token"] == "u:secretpw"
    assert "secretpw" not in json.dumps(load_choice(tmp_path).describe())


def test_indexing_while_the_server_is_away_loses_nothing(
    tmp_path: Path,
    lite_file: Path,
    prefix: str,
    data: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "lib"
    build(home, data[:500])
    list(move_library(home, milvus_choice(lite_file, prefix)))
    build(home, data, start=500)  # the indexer commits to SQLite first, then uploads:
    library = Library(home)
    vset = library.reader().vector_sets()[0]
    index = library.index_for(vset)  # (this open already repairs; undo that to replay)
    fresh = sorted(library.reader().labels(vset.id))[-100:]
    index.remove(fresh)
    monkeypatch.setattr(index.store.client, "upsert", _refuse)
    with pytest.raises(KnownError, match=r"did not answer.*nothing indexed is lost"):
        index.add(fresh, data[500:])
    library.close()
    monkeypatch.undo()
    reopened = Library(home)
    assert reopened.index_for(vset).labels() == reopened.reader().labels(vset.id)
    reopened.close()


def _refuse(*args: object, **kwargs: object) -> None:
    from pymilvus.exceptions import MilvusException

    raise MilvusException(code=2, message="server unavailable")


# -- one writer for a library shared between machines -------------------------------------------


def test_a_fresh_lease_from_another_machine_keeps_a_second_writer_out(tmp_path: Path) -> None:
    other = WriterLease(tmp_path, host="nas-desk-2")
    other.acquire()
    mine = WriterLease(tmp_path, host="laptop")
    with pytest.raises(LibraryBusyError, match="nas-desk-2"):
        mine.acquire()
    other.release()
    mine.acquire()
    assert json.loads((tmp_path / LEASE_FILE).read_text())["host"] == "laptop"
    mine.release()
    assert not (tmp_path / LEASE_FILE).exists()


def test_a_lease_whose_heartbeat_stopped_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / LEASE_FILE).write_text(
        json.dumps({"host": "crashed-box", "pid": 1, "token": "x", "beat": 0.0})
    )
    lease = WriterLease(tmp_path, host="laptop")
    lease.acquire()
    lease.check()
    lease.release()


def test_the_heartbeat_keeps_the_lease_fresh_and_notices_a_takeover(tmp_path: Path) -> None:
    lease = WriterLease(tmp_path, host="laptop", heartbeat=0.05)
    lease.acquire()
    first = json.loads((tmp_path / LEASE_FILE).read_text())["beat"]
    deadline = time.monotonic() + 5
    while json.loads((tmp_path / LEASE_FILE).read_text())["beat"] == first:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (tmp_path / LEASE_FILE).write_text(
        json.dumps({"host": "b", "pid": 1, "token": "t", "beat": time.time()})
    )
    with pytest.raises(LibraryBusyError, match="took over"):
        lease.check()
    lease.release()
    assert (tmp_path / LEASE_FILE).exists()  # the new holder's, left alone


def test_a_library_on_a_server_takes_the_lease_and_readers_do_not(
    library_home: Path, lite_file: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    list(move_library(library_home, milvus_choice(lite_file, prefix)))
    monkeypatch.setattr("desktop_app.core.vectors.milvus_store.MilvusStore.shared", True)
    (library_home / LEASE_FILE).write_text(
        json.dumps({"host": "studio-mac", "pid": 1, "token": "t", "beat": time.time()})
    )
    with pytest.raises(LibraryBusyError, match="studio-mac"):
        Library(library_home)
    with Engine(library_home, writer=False) as reader:  # searching needs no lease
        assert reader.similar(queries(library_home)[0], 5)
    (library_home / LEASE_FILE).unlink()
    writer = Library(library_home)
    assert json.loads((library_home / LEASE_FILE).read_text())["pid"] == os.getpid()
    writer.close()
    assert not (library_home / LEASE_FILE).exists()


# -- choosing -----------------------------------------------------------------------------------


def test_going_back_to_the_same_server_keeps_its_prefix_and_token(tmp_path: Path) -> None:
    on_server = BackendChoice.milvus("http://milvus:19530", token="u:pw", prefix="snap_lib")
    again = next_choice(on_server, "milvus", uri="http://milvus:19530/")
    assert (again.prefix, again.token) == ("snap_lib", "u:pw")
    elsewhere = next_choice(on_server, "milvus", uri="http://other:19530")
    assert elsewhere.prefix != "snap_lib" and elsewhere.token == ""
    lite = next_choice(BackendChoice(), "milvus", uri=str(tmp_path / "x.db"))
    assert lite.describe()["lite"] and Path(lite.uri).is_absolute()
    with pytest.raises(KnownError, match="address"):
        next_choice(BackendChoice(), "milvus")
    with pytest.raises(KnownError, match="hnswlib takes no"):
        next_choice(on_server, "hnswlib", uri="http://milvus:19530")


def test_the_settings_dialog_gathers_a_milvus_choice(qtbot: QtBot) -> None:
    models: list[dict[str, object]] = [{"name": "ViT-B-32", "available": True}]
    current = BackendChoice.milvus("http://milvus:19530", token="u:pw", prefix="p").describe()
    dialog = SettingsDialog(models, "ViT-B-32", "/data", [], False, 0, backend=current)
    qtbot.addWidget(dialog)
    rows = dialog.backend
    assert rows is not None and rows.kind.currentData() == "milvus"
    assert rows.token.text() == "" and "saved" in rows.token.placeholderText()
    assert rows.token.echoMode() == QLineEdit.EchoMode.Password
    assert dialog.choice().backend is None  # nothing changed
    rows.kind.setCurrentIndex(rows.kind.findData("hnswlib"))
    assert not dialog.form.isRowVisible(rows.uri)
    assert dialog.choice().backend == BackendFields("hnswlib")
    assert "re-embedded" in rows.note.text()
    rows.kind.setCurrentIndex(rows.kind.findData("milvus"))
    qtbot.keyClicks(rows.uri, "0")  # http://milvus:195300
    assert dialog.choice().backend == BackendFields("milvus", "http://milvus:195300", "", "")


# -- the real pipeline on Milvus --------------------------------------------------------------


def test_indexing_and_searching_pictures_and_notes_on_milvus(
    make_engine: EngineFactory, home: Path, tmp_path: Path, lite_file: Path, prefix: str
) -> None:
    save_choice(home, milvus_choice(lite_file, prefix))
    photos, small = tmp_path / "photos", tmp_path / "small"
    make_photos(photos, 12)
    make_photos(small, 3, seed=50)
    make_notes(tmp_path / "notes")
    engine = make_engine()
    for folder in (photos, small, tmp_path / "notes"):
        engine.add_root(folder)
    run_index(engine)
    status = engine.status()
    assert status.counts["image"].get("indexed") == 15 and status.index_bytes > 0
    for vset in engine.library.reader().vector_sets():
        index = engine.library.index_for(vset)
        assert isinstance(index, MilvusBackend)
        assert index.labels() == engine.library.reader().labels(vset.id)
    hits = engine.search_image(photos / "photo000.jpg", k=3, filters=Filters(folders=(str(small),)))
    assert len(hits) == 3 and {Path(h.path).parent for h in hits} == {small}
    assert engine.search("notes about anything", k=5, kinds=("document",))
    (photos / "photo001.jpg").rename(small / "moved.jpg")  # a move keeps the file's labels
    run_index(engine)
    moved = engine.search_image(
        photos / "photo000.jpg", k=4, filters=Filters(folders=(str(small),))
    )
    assert str(small / "moved.jpg") in {h.path for h in moved}
    engine.close()
    reader = make_engine(writer=False)
    assert len(reader.search_image(photos / "photo000.jpg", k=20)) == 15
