"""Milvus Lite for tests: one server file per session, a fresh collection prefix per test, and
conftest's leftover-thread check less the Lite server's own threads.

Milvus Lite serves gRPC from threads of the test process, started with the first client and
grown by its pool as requests come; they are the server's, kept for the session.
"""

import itertools
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("milvus_lite", reason="Milvus Lite (the milvus-lite package) is not installed")
pytest.importorskip("faiss", reason="Milvus Lite's HNSW index needs faiss-cpu")
if sys.platform == "win32":  # pragma: no cover - milvus-lite ships no Windows support
    pytest.skip("Milvus Lite does not run on Windows", allow_module_level=True)

_SERVER_THREADS = ("ThreadPoolExecutor-", "milvus_lite-", "Thread-")
_prefixes = itertools.count()


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """conftest's check, less the Milvus Lite server's daemon threads."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [
            t.name
            for t in threading.enumerate()
            if t not in before
            and t.is_alive()
            and t.name != "tqdm_monitor"
            and not (t.daemon and t.name.startswith(_SERVER_THREADS))
            and not isinstance(t, threading._DummyThread)
        ]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"threads left running: {extra}"


@pytest.fixture(scope="session")
def lite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Milvus Lite file for the session (each start costs time); tests keep apart by
    collection prefix."""
    return tmp_path_factory.mktemp("milvus") / "vectors.db"


@pytest.fixture
def prefix() -> str:
    return f"t{next(_prefixes)}"
