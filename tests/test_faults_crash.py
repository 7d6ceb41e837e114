"""Crash safety at many kill points: the indexer dies by SIGKILL at a chosen call of its own
code, spread over the scan, decoding, encoding, database commits, index saves and thumbnails.

Each kill point runs in a child forked from a warm server process (``crash_server.py``), so a
kill point costs a fork, not a Python start. After each kill this process checks, without
writing, that SQLite and the index agree (every vector row is in the index and vice versa, no
file holds two vectors, thumbnails are whole or absent); then it resumes as the writer and
requires exactly the vectors and rankings of an uninterrupted run.
"""

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest
from imagegen import save_scene
from PIL import Image
from test_crash import _assert_consistent, _check_as_reader, _vectors_by_name

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.engine import Engine

pytestmark = pytest.mark.slow

IMAGES = 40
BROKEN = {"broken.jpg": b"\xff\xd8\xff\xe0 not really a jpeg", "empty.png": b""}
SIZE = (64, 64)
K = 8
QUERIES = 3
SEPARATION = 1e-4  # see test_crash.py
THUMB = 64
_REPO = Path(__file__).resolve().parent.parent

# Kill points: (where, at which call). Call counts of an uninterrupted run of this library
# (42 files, 16 per batch, index saved after every batch): scan yields 42 files, decode runs
# 42 times, encode 3 times, 7 transactions (a batch's failures commit with it), 3 index adds,
# 3 index saves, 40 thumbnails. A point that is never reached fails its test (the child exits
# instead of dying).
KILL_POINTS: list[tuple[str, int]] = [
    *(("scan", n) for n in (1, 20, 42)),
    *(("decode", n) for n in (1, 8, 16, 17, 30, 42)),
    *(("encode", n) for n in (1, 2, 3)),
    *(("commit-before", n) for n in range(1, 8)),
    *(("commit-after", n) for n in range(1, 8)),
    *(("index-add", n) for n in (1, 2, 3)),
    *((f"index-save-{how}", n) for how in ("torn", "before", "after") for n in (1, 2, 3)),
    *((f"thumbnail-{how}", n) for how in ("torn", "before", "after") for n in (1, 20, 40)),
]
# Two kills in a row before the resume: the second run starts from a crashed library.
DOUBLE_KILLS: list[tuple[tuple[str, int], tuple[str, int]]] = [
    (("commit-before", 5), ("index-save-torn", 1)),
    (("index-save-after", 2), ("decode", 5)),
    (("commit-after", 6), ("thumbnail-torn", 3)),
]


def _name(i: int) -> str:
    return f"img{i:03d}.jpg"


@dataclass(frozen=True)
class Reference:
    photos: Path
    template: Path  # a data folder with the photos added, not indexed yet
    vectors: dict[str, np.ndarray]
    rankings: dict[str, list[str]]
    errors: set[str]


class Server:
    """The warm process that forks one child per kill point."""

    def __init__(self, config: Path, weights: Path, log: Path) -> None:
        self._log: IO[bytes] = open(log, "wb")  # noqa: SIM115 - closed in close()
        self.log = log
        self._proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("crash_server.py")),
                str(config),
                str(weights),
            ],
            cwd=_REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    def run(self, home: Path, point: str, nth: int) -> dict[str, Any]:
        assert self._proc.stdin and self._proc.stdout
        report = home / "calls.json"
        request = {"home": str(home), "point": point, "nth": nth, "report": str(report)}
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        assert line, "the crash server died:\n" + self.log.read_text("utf-8", "replace")
        answer: dict[str, Any] = json.loads(line)
        if report.exists():
            answer.update(json.loads(report.read_text("utf-8")))
            report.unlink()
        return answer

    def close(self) -> None:
        assert self._proc.stdin
        self._proc.stdin.close()
        self._proc.wait(timeout=30)
        assert self._proc.stdout
        self._proc.stdout.close()
        self._log.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, tiny_clip: OpenClipEncoder) -> Reference:
    photos = tmp_path_factory.mktemp("kill-photos")
    for i in range(IMAGES):
        save_scene(photos / _name(i), 500 + i, SIZE, quality=90)
    for name, data in BROKEN.items():
        (photos / name).write_bytes(data)
    template = tmp_path_factory.mktemp("kill-template") / "home"
    with Engine(template) as engine:
        engine.add_root(photos)
    home = Path(shutil.copytree(template, tmp_path_factory.mktemp("kill-ref") / "home"))
    with Engine(home, clip_loader=lambda: tiny_clip) as engine:
        list(engine.index())
        errors = {Path(r.path).name for r in engine.errors()}
        rankings: dict[str, list[str]] = {}
        for i in range(IMAGES):
            hits = engine.search_image(photos / _name(i), k=K + 1)
            scores = np.array([h.score for h in hits])
            if len(hits) == K + 1 and np.all(-np.diff(scores) > SEPARATION):
                rankings[_name(i)] = [Path(h.path).name for h in hits[:K]]
                if len(rankings) == QUERIES:
                    break
    assert errors == set(BROKEN)
    assert len(rankings) == QUERIES, "too few well-separated queries to compare rankings"
    return Reference(photos, template, _vectors_by_name(home), rankings, errors)


@pytest.fixture(scope="module")
def server(
    tiny_model_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    config, weights = tiny_model_files
    running = Server(config, weights, tmp_path_factory.mktemp("kill-log") / "server.log")
    yield running
    running.close()


def _assert_thumbnails_whole(home: Path) -> None:
    """Every thumbnail a reader could find decodes completely at the requested size."""
    for path in (home / "thumbnails").glob("*/*.jpg"):
        with Image.open(path) as image:
            image.load()
            assert max(image.size) == THUMB, path


def _kill(server: Server, home: Path, point: str, nth: int) -> None:
    answer = server.run(home, point, nth)
    assert answer.get("signal") == signal.SIGKILL, (
        f"{point} #{nth} was never reached: {answer}\n" + server.log.read_text("utf-8", "replace")
    )
    _assert_thumbnails_whole(home)
    _check_as_reader(home)


def _resume_and_compare(
    home: Path, reference: Reference, tiny_clip: OpenClipEncoder, thumbnails: bool
) -> None:
    with Engine(home, clip_loader=lambda: tiny_clip) as engine:
        _assert_consistent(engine)
        assert list(engine.index())[-1].phase == "done"
        _assert_consistent(engine)
        assert engine.status().counts["image"] == {"indexed": IMAGES, "failed": len(BROKEN)}
        assert {Path(r.path).name for r in engine.errors()} == reference.errors
        vectors = _vectors_by_name(home)
        assert vectors.keys() == reference.vectors.keys()
        for name, vector in vectors.items():
            np.testing.assert_allclose(vector, reference.vectors[name], atol=1e-5, err_msg=name)
        for query, expected in reference.rankings.items():
            hits = engine.search_image(reference.photos / query, k=K)
            assert [Path(h.path).name for h in hits] == expected, query
        for i in range(IMAGES if thumbnails else 0):  # those a killed thumbnail run left
            thumb = engine.thumbnail(str(reference.photos / _name(i)), THUMB)
            assert thumb is not None
    _assert_thumbnails_whole(home)


@pytest.mark.parametrize(("point", "nth"), KILL_POINTS, ids=[f"{p}-{n}" for p, n in KILL_POINTS])
def test_killed_at_a_point_resumes_to_the_same_library(
    server: Server,
    reference: Reference,
    tiny_clip: OpenClipEncoder,
    tmp_path: Path,
    point: str,
    nth: int,
) -> None:
    home = Path(shutil.copytree(reference.template, tmp_path / "home"))
    _kill(server, home, point, nth)
    _resume_and_compare(home, reference, tiny_clip, point.startswith("thumbnail"))


@pytest.mark.parametrize(
    "kills", DOUBLE_KILLS, ids=[f"{a[0]}-{a[1]}-then-{b[0]}-{b[1]}" for a, b in DOUBLE_KILLS]
)
def test_killed_twice_resumes_to_the_same_library(
    server: Server,
    reference: Reference,
    tiny_clip: OpenClipEncoder,
    tmp_path: Path,
    kills: tuple[tuple[str, int], tuple[str, int]],
) -> None:
    home = Path(shutil.copytree(reference.template, tmp_path / "home"))
    for point, nth in kills:
        _kill(server, home, point, nth)
    thumbnails = any(p.startswith("thumbnail") for p, _ in kills)
    _resume_and_compare(home, reference, tiny_clip, thumbnails)
