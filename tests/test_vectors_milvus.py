"""The Milvus backend against Milvus Lite: the shared contract, plus what only a server has."""

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from vector_backend_contract import VectorBackendContract

milvus_lite = pytest.importorskip("milvus_lite", reason="Milvus Lite is not installed")
if sys.platform == "win32":  # pragma: no cover
    pytest.skip("Milvus Lite runs on Linux and macOS only", allow_module_level=True)

from desktop_app.core.vectors.milvus_store import MilvusStore  # noqa: E402
from desktop_app.core.vectors.milvus_target import MilvusTarget  # noqa: E402

# Milvus Lite serves gRPC from threads of this process, started with the first client and
# grown by its pool as requests come: they are the server's, kept for the session.
_SERVER_THREADS = ("ThreadPoolExecutor-", "milvus_lite-", "Thread-")


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """conftest's check, less the Milvus Lite server's own threads."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [
            t.name
            for t in threading.enumerate()
            if t not in before
            and t.is_alive()
            and not (t.daemon and t.name.startswith(_SERVER_THREADS))
            and not isinstance(t, threading._DummyThread)
        ]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"threads left running: {extra}"


@pytest.fixture(scope="session")
def lite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Milvus Lite file for the session (starting one costs time); tests keep apart by
    collection prefix."""
    return tmp_path_factory.mktemp("milvus") / "vectors.db"


_prefixes = iter(range(10**6))


@pytest.fixture
def prefix() -> str:
    return f"t{next(_prefixes)}"


class TestMilvusBackend(VectorBackendContract):
    @pytest.fixture
    def vector_store(self, lite_file: Path, prefix: str) -> Iterator[MilvusStore]:
        store = MilvusStore(MilvusTarget(str(lite_file), prefix))
        yield store
        store.close()
