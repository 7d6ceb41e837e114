"""The Milvus backend against Milvus Lite: the shared contract, plus what only a server has."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from milvus_support import lite_file, no_leftover_threads, prefix
from pymilvus.exceptions import MilvusException
from vector_backend_contract import (
    COUNT,
    DIM,
    SPACE,
    VectorBackendContract,
    exact_top,
    fetch_from,
    no_fetch,
    summary_of,
    unit_vectors,
)

from desktop_app.core.errors import KnownError
from desktop_app.core.vectors.backend import FileFacts, Scope
from desktop_app.core.vectors.milvus_store import MilvusStore
from desktop_app.core.vectors.milvus_target import MilvusTarget, MilvusUnavailableError

SERVER_ENV = "SNAPFIND_MILVUS_URI"

__all__ = ["lite_file", "no_leftover_threads", "prefix"]  # fixtures, used by name


class TestMilvusBackend(VectorBackendContract):
    @pytest.fixture
    def vector_store(self, lite_file: Path, prefix: str) -> Iterator[MilvusStore]:
        store = MilvusStore(MilvusTarget(str(lite_file), prefix))
        yield store
        store.close()


@pytest.mark.milvus_server
@pytest.mark.skipif(
    not os.environ.get(SERVER_ENV), reason=f"no Milvus server: set {SERVER_ENV}=http://host:19530"
)
class TestMilvusServer(VectorBackendContract):
    """The same contract against a real server (packaging/milvus-compose.yml)."""

    @pytest.fixture
    def vector_store(self, prefix: str) -> Iterator[MilvusStore]:
        target = MilvusTarget(
            os.environ[SERVER_ENV],
            f"snapfind_test_{os.getpid()}_{prefix}",
            os.environ.get("SNAPFIND_MILVUS_TOKEN", ""),
        )
        store = MilvusStore(target)
        yield store
        for name in store.client.list_collections():
            if name.startswith(target.prefix + "_"):
                store.client.drop_collection(name)
        store.close()


# -- filters inside the search -----------------------------------------------------------------


class Facts:
    """A LabelFactSource over made-up files: label i is file i."""

    def __init__(self, count: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        folders = ["/p/2023", "/p/2024", "/p/2024/trip_x", "/q/b%c"]
        self.table: dict[int, FileFacts] = {}
        for i in range(count):
            ext = [".jpg", ".png", ".heic"][i % 3]
            width = int(rng.integers(100, 4000)) if i % 11 else None
            height = int(rng.choice([width or 1, rng.integers(100, 4000)])) if width else None
            self.table[i] = FileFacts(
                file_id=i,
                root_id=1 if i % 4 else 2,
                path=f"{folders[i % 4]}/f{i}{ext}",
                extension=ext,
                kind="image",
                taken_at=float(rng.integers(0, 1000)) if i % 7 else None,
                width=width,
                height=height,
                camera=["Canon EOS R5", "NIKON D750", None, "iPhone_15", "canon g7"][i % 5],
            )
        self.moved: list[int] = []

    def facts(self, set_id: int, labels: list[int]) -> dict[int, FileFacts]:
        return {lb: self.table[lb] for lb in labels if lb in self.table}

    def moved_since(self, set_id: int, moment: float) -> list[int]:
        return list(self.moved)

    def passes(self, f: FileFacts, scope: Scope) -> bool:
        """The SQL rules of searching.filters, in Python."""
        if scope.folders and not any(
            f.path == d or f.path.startswith(d.rstrip("/") + "/") for d in scope.folders
        ):
            return False
        if scope.after is not None and (f.taken_at is None or f.taken_at < scope.after):
            return False
        if scope.before is not None and (f.taken_at is None or f.taken_at >= scope.before):
            return False
        if (scope.type_kinds or scope.type_extensions) and not (
            f.kind in scope.type_kinds or f.extension in scope.type_extensions
        ):
            return False
        w, h, t = f.width, f.height, scope.square_tolerance
        if scope.orientation and (w is None or h is None):
            return False
        if scope.orientation == "landscape" and not w > h * (1 + t):  # type: ignore[operator]
            return False
        if scope.orientation == "portrait" and not h > w * (1 + t):  # type: ignore[operator]
            return False
        if scope.orientation == "square" and not abs(w - h) <= max(w, h) * t:  # type: ignore[operator,type-var]
            return False
        if scope.min_side is not None and (w is None or h is None or min(w, h) < scope.min_side):
            return False
        if scope.camera is not None and (
            f.camera is None or scope.camera.lower() not in f.camera.lower()
        ):
            return False
        return scope.roots is None or f.root_id in scope.roots


SCOPES = [
    Scope(folders=("/p/2024",)),
    Scope(folders=("/q/b%c", "/p/2023")),
    Scope(after=200.0, before=700.0),
    Scope(type_extensions=(".png", ".heic")),
    Scope(orientation="landscape", min_side=800),
    Scope(orientation="square"),
    Scope(orientation="portrait", camera="eos"),
    Scope(camera="phone_1"),
    Scope(roots=(2,), after=10.0),
    Scope(folders=("/p/2024/trip_x",), type_kinds=("image",), camera="canon"),
    Scope(min_side=3900),  # few or none pass
]


@pytest.fixture
def faceted(lite_file: Path, prefix: str) -> Iterator[tuple[MilvusStore, Facts, np.ndarray]]:
    facts = Facts(COUNT)
    store = MilvusStore(MilvusTarget(str(lite_file), prefix), facts)
    data = unit_vectors(COUNT)
    store.open(1, SPACE, DIM).add(list(range(COUNT)), data)
    yield store, facts, data
    store.close()


@pytest.mark.parametrize("scope", SCOPES, ids=range(len(SCOPES)))
def test_scoped_search_is_the_exhaustive_filtered_top_k(
    faceted: tuple[MilvusStore, Facts, np.ndarray], scope: Scope
) -> None:
    store, facts, data = faceted
    backend = store.open(1, SPACE, DIM)
    passing = [lb for lb in range(COUNT) if facts.passes(facts.table[lb], scope)]
    for query in unit_vectors(3, seed=5):
        found = backend.search_scoped(query, 20, scope)
        assert [lb for lb, _ in found] == exact_top(data, passing, query, 20)


def test_moved_files_get_their_attributes_again_on_save(
    faceted: tuple[MilvusStore, Facts, np.ndarray],
) -> None:
    store, facts, data = faceted
    backend = store.open(1, SPACE, DIM)
    backend.save()
    old = facts.table[5]
    facts.table[5] = replace(old, path="/elsewhere/f5.jpg", root_id=9, extension=".jpg")
    facts.moved = [5, 6]  # 6 changed in SQLite but not where it lies
    assert backend.refresh_moved() == 1
    assert [lb for lb, _ in backend.search_scoped(data[5], 5, Scope(roots=(9,)))] == [5]
    assert 5 not in {lb for lb, _ in backend.search_scoped(data[5], 50, Scope(folders=("/p",)))}


# -- faults -----------------------------------------------------------------------------------

SECRET = "snapuser:hunter2-very-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_server_is_a_known_error_that_keeps_the_token_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = MilvusTarget(f"http://127.0.0.1:{_free_port()}", "lib", SECRET)
    with pytest.raises(MilvusUnavailableError) as err:
        MilvusStore(target, timeout=2)
    message = str(err.value)
    assert "127.0.0.1" in message and "running" in message
    assert "hunter2" not in message and "hunter2" not in caplog.text


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(MilvusUnavailableError, match="did not answer"):
            MilvusStore(MilvusTarget(f"http://127.0.0.1:{port}", "lib", SECRET), timeout=1)
        assert time.monotonic() - started < 20


def test_credentials_in_the_address_are_never_shown() -> None:
    target = MilvusTarget("https://alice:pw123secret@milvus.example:19530", "lib", "tok-abcdef")
    assert target.shown == "https://milvus.example:19530"
    text = target.scrub("failed https://alice:pw123secret@milvus.example:19530 with tok-abcdef")
    assert "pw123secret" not in text and "tok-abcdef" not in text


def test_a_dropped_collection_is_a_known_error_and_is_rebuilt_on_open(
    lite_file: Path, prefix: str
) -> None:
    data = unit_vectors(COUNT)
    store = MilvusStore(MilvusTarget(str(lite_file), prefix))
    backend = store.open(1, SPACE, DIM)
    backend.add(list(range(COUNT)), data)
    backend.save()
    store.client.drop_collection(store.collection(1))  # someone else's doing
    with pytest.raises(MilvusUnavailableError, match=r"disappeared.*Open the library again"):
        backend.search_scoped(data[0], 5, Scope(after=0.0))
    reopened = store.open(1, SPACE, DIM)
    committed = set(range(COUNT))
    assert reopened.reconcile(committed, fetch_from(data), summary_of(committed)) == (COUNT, 0)
    assert reopened.search(data[7], 1)[0][0] == 7
    store.close()


def test_another_models_collection_is_refused(lite_file: Path, prefix: str) -> None:
    store = MilvusStore(MilvusTarget(str(lite_file), prefix))
    store.open(1, SPACE, DIM, "ViT-B-32/laion2b").add([0], unit_vectors(1))
    with pytest.raises(KnownError, match=r"made by model 'ViT-B-32/laion2b'.*--prefix"):
        store.open(1, SPACE, DIM, "ViT-L-14/openai")
    with pytest.raises(KnownError, match="32-d"):
        store.open(1, SPACE, 16, "ViT-B-32/laion2b")
    store.close()


def test_a_partial_upload_is_repaired_by_reconcile(
    lite_file: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = unit_vectors(COUNT)
    store = MilvusStore(MilvusTarget(str(lite_file), prefix))
    backend = store.open(1, SPACE, DIM)
    backend.save()
    upsert = store.client.upsert
    calls = []

    def flaky(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise MilvusException(code=1, message="connection reset by peer")
        return upsert(*args, **kwargs)

    monkeypatch.setattr("desktop_app.core.vectors.milvus._UPLOAD_BATCH", 100)
    monkeypatch.setattr(store.client, "upsert", flaky)
    with pytest.raises(MilvusUnavailableError, match="nothing indexed is lost"):
        backend.add(list(range(COUNT)), data)  # SQLite committed them all before
    assert len(backend) == 100
    monkeypatch.setattr(store.client, "upsert", upsert)
    committed = set(range(COUNT))
    reopened = store.open(1, SPACE, DIM)
    assert reopened.reconcile(committed, fetch_from(data), summary_of(committed)) == (200, 0)
    assert len(reopened) == COUNT
    store.close()


def test_a_read_only_store_creates_and_repairs_nothing(lite_file: Path, prefix: str) -> None:
    target = MilvusTarget(str(lite_file), prefix)
    reader = MilvusStore(target, read_only=True)
    writer = MilvusStore(target)
    data = unit_vectors(COUNT)
    writer.open(1, SPACE, DIM).add(list(range(50)), data[:50])
    seen = reader.open(1, SPACE, DIM)
    assert seen.reconcile(set(range(60)), no_fetch) == (0, 0)  # the writer's job
    assert len(seen) == 50 and not seen.needs_save
    assert reader.client.has_collection(reader.collection(2)) is False
    reader.open(2, SPACE, DIM)
    assert reader.client.has_collection(reader.collection(2)) is False
    reader.close()
    writer.close()


def test_a_lite_file_open_in_another_process_says_so(tmp_path: Path) -> None:
    """Milvus Lite serves one process at a time (the desktop app holding it, then a CLI)."""
    lite = tmp_path / "held.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pymilvus import MilvusClient; "
            f"MilvusClient({str(lite)!r}).list_collections(); print('held', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(MilvusUnavailableError, match="open in another program"):
            MilvusStore(MilvusTarget(str(lite), "lib"))
    finally:
        holder.communicate("", timeout=60)


def test_labels_are_listed_exactly_across_dense_runs_and_gaps(
    lite_file: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query answers at most MAX_TOP_K rows, so the listing reads windows of label values:
    with a small limit, dense runs (windows that would overflow), gaps between them (windows
    that widen) and a far label must all come back, and nothing more."""
    monkeypatch.setattr("desktop_app.core.vectors.milvus.MAX_TOP_K", 16)
    held = [*range(0, 70), *range(75, 90), 1000, 1001, *range(40_000, 40_050), 9_000_000]
    store = MilvusStore(MilvusTarget(str(lite_file), prefix))
    backend = store.open(1, SPACE, DIM)
    backend.add(held, unit_vectors(len(held)))
    backend.remove([5, 40_010])
    expected = set(held) - {5, 40_010}
    assert backend.labels() == expected  # kept current by its own changes, not listed
    listing = store.open(1, SPACE, DIM)  # a fresh handle knows nothing yet
    assert listing.labels() == expected
    assert len(listing) == len(expected)
    store.close()


def test_its_own_changes_keep_the_labels_without_listing_them_again(
    lite_file: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing a large collection takes a query per window: a move or an index run that saves
    every so often must not list everything at each save."""
    store = MilvusStore(MilvusTarget(str(lite_file), prefix))
    backend = store.open(1, SPACE, DIM)
    listed = []
    real = backend._list_labels
    monkeypatch.setattr(backend, "_list_labels", lambda: listed.append(1) or real())
    data = unit_vectors(COUNT)
    assert backend.labels() == set()
    for start in range(0, COUNT, 100):
        backend.add(list(range(start, start + 100)), data[start : start + 100])
        backend.save()
    backend.remove(range(0, 10))
    assert backend.summary() == summary_of(set(range(10, COUNT)))
    assert len(listed) == 1
    store.close()


def test_a_failed_upload_forgets_the_labels_it_knew(
    lite_file: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A timed-out upsert may still land: the labels are listed again rather than guessed."""
    store = MilvusStore(MilvusTarget(str(lite_file), prefix))
    backend = store.open(1, SPACE, DIM)
    data = unit_vectors(COUNT)
    backend.add(list(range(100)), data[:100])
    upsert = store.client.upsert

    def lands_then_fails(*args: object, **kwargs: object) -> object:
        upsert(*args, **kwargs)
        raise MilvusException(code=1, message="deadline exceeded")

    monkeypatch.setattr(store.client, "upsert", lands_then_fails)
    with pytest.raises(MilvusUnavailableError):
        backend.add(list(range(100, 200)), data[100:200])
    monkeypatch.setattr(store.client, "upsert", upsert)
    assert backend.labels() == set(range(200))
    assert backend.summary() == summary_of(set(range(200)))
    store.close()
