"""The hostile corpus (``hostile_corpus.py``) indexed by the real CLI in a child process:
every file ends indexed or with one recorded error, nothing blocks, memory stays bounded
(the child's peak RSS, from ``wait4``), and the good pictures are all found."""

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import GOOD, build
from imagegen import save_scene
from tiny_model import ARCH

from desktop_app.core.engine import Engine
from desktop_app.core.indexing import indexer, scanner

RUN_TIMEOUT_S = 180
# Importing torch and open_clip alone is about 750 MB of RSS. With every kind's models in one
# process (CLIP, MiniLM for text in pictures, the OCR and Whisper models, the ONNX query pack)
# this run peaks at 2.1 GB (VmHWM). A picture at the 150 MP limit may take 600 MB as RGBX,
# twice while converting. The pixel bomb here, had it got through,
# would take 2 GB (400 MB decoded, 1.6 GB as RGB) more; its refusal by pixel count before
# decoding is checked on its own in test_bad_files.py.
PEAK_RSS_LIMIT_MB = 3000
_REPO = Path(__file__).resolve().parent.parent


def _index_in_child(home: Path) -> tuple[int, float]:
    """Run ``snapfind-cli index``; returns (exit status, peak RSS in MB).

    The peak is the child's own VmHWM, which it reports as it exits: wait4's ru_maxrss would
    also count the pages it shared with this (large, growing) test process between fork and
    exec, so the bound would measure the test suite instead of the indexer."""
    peak_file = home.parent / "peak-kb"
    reporter = (  # main(), not the command's quick exit, which would skip the report
        "import sys\n"
        "from desktop_app.cli import main\n"
        "try:\n"
        f"    code = main(['--home', {str(home)!r}, 'index'])\n"
        "finally:\n"
        "    with open('/proc/self/status') as status:\n"
        "        peak = next(line for line in status if line.startswith('VmHWM'))\n"
        f"    with open({str(peak_file)!r}, 'w') as out:\n"
        "        out.write(peak.split()[1])\n"
        "sys.exit(code)\n"
    )
    command = [sys.executable, "-c", reporter]
    log = home.parent / "index.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=_REPO, stdout=out, stderr=out)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.kill(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            pytest.fail(f"indexing the hostile corpus hung:\n{log.read_text('utf-8', 'replace')}")
        time.sleep(0.1)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    assert proc.returncode == 0, log.read_text("utf-8", "replace")
    return proc.returncode, int(peak_file.read_text()) / 1024


@pytest.mark.slow
def test_hostile_corpus_fails_file_by_file_in_bounded_memory(
    tmp_path: Path, tiny_model_files: tuple[Path, Path]
) -> None:
    folder = tmp_path / "hostile"
    expected = build(folder)
    home = tmp_path / "home"
    config, weights = tiny_model_files
    with Engine(home) as engine:
        engine.import_model(ARCH, weights, config)
        engine.add_root(folder)

    _, peak_mb = _index_in_child(home)
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"

    with Engine(home, writer=False) as engine:
        listed = {rec.path: rec for rec in engine.library.reader().files_under(1).values()}
        assert set(listed) == set(expected), "FIFOs, devices or link loops were listed"
        for path, outcome in expected.items():
            rec = listed[path]
            wanted = {"either": {"indexed", "failed"}}.get(outcome, {outcome})
            assert rec.status in wanted, (path, rec.status, rec.error)
            assert (rec.status == "failed") == bool(rec.error), (path, rec.error)
        failed = [rec for rec in engine.errors()]
        assert len(failed) == len({rec.path for rec in failed}), "a file has two errors"
        assert {rec.path for rec in failed} == {
            p for p, r in listed.items() if r.status == "failed"
        }
        for i in range(GOOD):
            path = folder / f"good{i:02d}.jpg"
            assert engine.search_image(path, k=1)[0].path == str(path)
        weird = [p for p in expected if "\n" in p or "\udcff" in p or len(p) > 3700]
        assert len(weird) == 3
        for path in weird:
            assert engine.similar(path, k=1), path


def _deny_listing(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """The scanner's listing of ``folder`` fails as for a normal user on a mode-000 folder
    (these tests may run as root, which reads it anyway)."""
    real_scandir = scanner.os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path) == str(folder):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(scanner.os, "scandir", scandir)


def test_unreadable_folder_is_reported_and_its_entries_kept(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "photos"
    for i in range(3):
        save_scene(root / "open" / f"a{i}.jpg", 20 + i, (64, 64))
        save_scene(root / "private" / f"b{i}.jpg", 30 + i, (64, 64))
    engine.add_root(root)
    list(engine.index())
    (root / "private").chmod(0)
    if os.access(root / "private", os.R_OK):  # root: permission bits do not apply
        _deny_listing(monkeypatch, root / "private")
    try:
        save_scene(root / "open" / "new.jpg", 40, (64, 64))
        message = list(engine.index())[-1].message
    finally:
        (root / "private").chmod(0o755)
    assert "1 new" in message and f"cannot read folder {root / 'private'}" in message
    assert "Permission denied" in message
    assert engine.status().counts["image"] == {"indexed": 7}


def test_file_rewritten_during_indexing_fails_once_then_indexes(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file still being written when the indexer reads it (half of it on disk) is one
    recorded error; once the writer finishes, the next run indexes it."""
    root = tmp_path / "photos"
    for i in range(4):
        save_scene(root / f"a{i}.jpg", 50 + i, (64, 64))
    growing = root / "a3.jpg"
    whole = growing.read_bytes()
    real_sync = indexer.sync

    def sync_then_rewrite(*args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from real_sync(*args, **kwargs)
        growing.write_bytes(whole[: len(whole) // 2])

    monkeypatch.setattr(indexer, "sync", sync_then_rewrite)
    engine.add_root(root)
    list(engine.index())
    (error,) = engine.errors()
    assert error.path == str(growing) and "truncated" in (error.error or "")
    monkeypatch.undo()
    growing.write_bytes(whole)
    list(engine.index())
    assert engine.errors() == []
    assert engine.status().counts["image"] == {"indexed": 4}
    assert engine.search_image(growing, k=1)[0].path == str(growing)
