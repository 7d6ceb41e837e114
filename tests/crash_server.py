"""A fork server for the kill-point tests: one warm process, one forked child per kill point.

Started as ``python tests/crash_server.py CONFIG WEIGHTS`` by ``tests/test_faults_crash.py``.
It imports the app and loads the tiny CLIP once (torch limited to one thread, so no OpenMP
pool exists to break in a forked child), then reads one JSON request per line on stdin:
``{"home": ..., "point": ..., "nth": ...}``. For each it forks a child that opens the
library as the writer, arms the kill point, runs a full index and then makes every thumbnail;
the child SIGKILLs itself when the kill point is reached. The server answers one JSON line:
``{"signal": N}`` if the child died by a signal, ``{"exit": N, "error": ...}`` otherwise.

A kill point is a place in the app's own code (a function of the scan, decode, encode,
database, index-save or thumbnail steps) and the ordinal of the call at which to die.
"""

import json
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

torch.set_num_threads(1)

import open_clip  # noqa: E402

from desktop_app.core import thumbnails  # noqa: E402
from desktop_app.core.db.store import Store  # noqa: E402
from desktop_app.core.encoders.catalog import ClipSpec  # noqa: E402
from desktop_app.core.encoders.clip import OpenClipEncoder  # noqa: E402
from desktop_app.core.engine import Engine  # noqa: E402
from desktop_app.core.indexing import indexer, sync  # noqa: E402
from desktop_app.core.vectors import hnsw as vector_index  # noqa: E402

MODEL_ID = "open_clip:snapfind-test-tiny/test"  # the id tests/conftest.py gives the tiny model


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _Counter:
    """Counts calls at one kill point and dies at the ``nth``."""

    def __init__(self, nth: int) -> None:
        self.nth, self.calls = nth, 0

    def hit(self) -> bool:
        self.calls += 1
        return self.calls == self.nth


def _arm(point: str, nth: int) -> _Counter:
    """Patch the app's functions (in this child only) so that ``point`` kills at call ``nth``."""
    counter = _Counter(nth)
    if point == "scan":
        real_walk = sync.walk

        def walk(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for item in real_walk(*args, **kwargs):
                if counter.hit():
                    _die()
                yield item

        sync.walk = walk  # type: ignore[assignment]
    elif point == "decode":
        real_prepare = indexer._prepare

        def prepare(*args: Any) -> Any:
            result = real_prepare(*args)
            if counter.hit():
                _die()  # in the decode thread: the whole process dies
            return result

        indexer._prepare = prepare  # type: ignore[assignment]
    elif point == "encode":
        real_embed = OpenClipEncoder.embed_prepared

        def embed(self: OpenClipEncoder, prepared: Any) -> Any:
            result = real_embed(self, prepared)
            if counter.hit():
                _die()
            return result

        OpenClipEncoder.embed_prepared = embed  # type: ignore[method-assign]
    elif point in ("commit-before", "commit-after"):
        _arm_transactions(counter, after=point == "commit-after")
    elif point == "index-add":
        real_add = vector_index.HnswBackend.add

        def add(self: vector_index.HnswBackend, *args: Any) -> None:
            real_add(self, *args)
            if counter.hit():
                _die()

        vector_index.HnswBackend.add = add  # type: ignore[method-assign]
    elif point.startswith(("index-save-", "thumbnail-")):
        module = vector_index if point.startswith("index-save-") else thumbnails
        _arm_replace(module, counter, point.rsplit("-", 1)[1])
    else:
        raise ValueError(f"unknown kill point {point}")
    return counter


def _arm_transactions(counter: _Counter, *, after: bool) -> None:
    real_transaction = Store.transaction

    @contextmanager
    def transaction(self: Store) -> Iterator[Any]:
        with real_transaction(self) as conn:
            yield conn
            if not after and counter.hit():
                _die()  # the work is done, COMMIT not yet sent
        if after and counter.hit():
            _die()

    Store.transaction = transaction  # type: ignore[method-assign]


def _arm_replace(module: Any, counter: _Counter, how: str) -> None:
    """Kill around the rename that publishes a file written to a temporary name.

    ``torn``: the temporary file is cut in half first (a write the crash interrupted);
    ``before``: it is whole but not renamed; ``after``: renamed, nothing after it ran.
    """
    real_replace: Callable[[Any, Any], None] = os.replace

    class _Os:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def replace(src: Any, dst: Any) -> None:
            if not counter.hit():
                real_replace(src, dst)
                return
            if how == "torn":
                size = os.path.getsize(src)
                with open(src, "r+b") as handle:
                    handle.truncate(size // 2)
            if how == "after":
                real_replace(src, dst)
            _die()

    module.os = _Os()


def _child(request: dict[str, Any], encoder: OpenClipEncoder) -> None:
    indexer.SAVE_INTERVAL_S = 0.0  # save the index after every batch: more save points
    counter = _arm(request["point"], int(request["nth"]))
    with Engine(request["home"], clip_loader=lambda: encoder) as engine:
        for _ in engine.index():
            pass
        rows = engine.library.reader().conn.execute(
            "SELECT id FROM files WHERE kind = ? AND status = 'indexed' ORDER BY id", ("image",)
        )
        for (file_id,) in rows.fetchall():
            engine.thumbnail(file_id, 64)
    # Not killed: say how many calls the point saw, so a test can choose reachable ordinals.
    Path(request["report"]).write_text(json.dumps({"calls": counter.calls}), "utf-8")


def serve(config: Path, weights: Path) -> None:
    open_clip.add_model_config(config)
    spec = ClipSpec(MODEL_ID, config.stem, weights, {}, "tiny test model")
    encoder = OpenClipEncoder(spec, threads=1)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _child(request, encoder)
            except BaseException:
                traceback.print_exc()
                code = 3
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            answer: dict[str, Any] = {"signal": os.WTERMSIG(status)}
        else:
            answer = {"exit": os.WEXITSTATUS(status)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), Path(sys.argv[2]))
