"""Nothing leaves the machine, and nothing under a library folder is ever changed.

The offline cycle runs in a child process whose socket creation raises (``offline_cycle.py``),
with no offline switch set for Hugging Face or transformers: any attempt to phone home is
recorded and fails the test. The read-only test snapshots every file and folder under the
roots (content hash, size, mode, mtime and ctime) around a full index, every kind of search,
thumbnails, duplicate finding, a re-scan and removing a folder.
"""

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from imagegen import save_scene
from tiny_model import ARCH
from videogen import write_video

from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError

_REPO = Path(__file__).resolve().parent.parent
Snapshot = dict[str, tuple[int, int, int, int, int, str]]


def _library_folder(folder: Path) -> Path:
    for i in range(5):
        save_scene(folder / f"p{i}.jpg", 1500 + i, (80, 60), quality=90)
    save_scene(folder / "sub" / "q.png", 1510, (80, 60))
    (folder / "lake.md").write_text("# Lake\nA quiet lake at dawn, mist on the water.\n", "utf-8")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    (folder / "readonly.jpg").write_bytes((folder / "p0.jpg").read_bytes())
    (folder / "readonly.jpg").chmod(0o444)
    (folder / "link.jpg").symlink_to(folder / "p1.jpg")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    write_video(folder / "clip.mp4", [(1530, 1), (1531, 1)], size=(80, 48), rotation=90)
    (folder / "readonly.mov").write_bytes((folder / "clip.mp4").read_bytes()[:-10])
    (folder / "readonly.mov").chmod(0o444)
    return folder


def _snapshot(root: Path) -> Snapshot:
    """Every entry under ``root``, links not followed: what any write would change."""
    entries: Snapshot = {}
    for base, dirs, files in os.walk(root):
        for name in [*dirs, *files, ""]:
            path = os.path.join(base, name) if name else base
            st = os.lstat(path)
            digest = ""
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as handle:
                    digest = hashlib.blake2b(handle.read(), digest_size=16).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                digest = os.readlink(path)
            entries[path] = (
                st.st_mode,
                st.st_size,
                st.st_mtime_ns,
                st.st_ctime_ns,
                st.st_ino,
                digest,
            )
    return entries


def test_whole_cycle_with_the_network_blocked(
    tmp_path: Path, tiny_model_files: tuple[Path, Path]
) -> None:
    folder = _library_folder(tmp_path / "photos")
    home = tmp_path / "home"
    config, weights = tiny_model_files
    with Engine(home) as engine:  # weights are present before the network goes
        engine.import_model(ARCH, weights, config)
    before = _snapshot(folder)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
    }
    env["HF_HOME"] = str(tmp_path / "empty-hf-home")
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("offline_cycle.py")), str(home), str(folder)],
        cwd=_REPO,
        env={**env, "PYTHONPATH": str(_REPO)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["attempts"] == [], "the app tried to reach the network"
    assert result["counts"]["image"] == {"indexed": 8, "failed": 1}
    assert result["counts"]["document"] == {"indexed": 1}
    assert result["text"] and result["similar"]
    assert result["image"][0] == str(folder / "p0.jpg") or result["image"][0] == str(
        folder / "readonly.jpg"
    )
    assert Path(result["thumbnail"]).is_relative_to(home)
    assert _snapshot(folder) == before


def _find_duplicates(engine: Engine, folder: Path) -> None:
    """The duplicate-find step of the read-only cycle: it finds the byte copy, and only says so."""
    groups = engine.duplicates("exact")
    names = [{Path(m.path).name for m in g.members} for g in groups]
    assert {"p0.jpg", "readonly.jpg"} in names
    assert engine.duplicates(0.95)


def test_files_under_the_roots_are_never_written(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    folder = _library_folder(tmp_path / "photos")
    other = tmp_path / "more"
    save_scene(other / "r.jpg", 1520, (80, 60))
    before = {**_snapshot(folder), **_snapshot(other)}

    engine = make_engine()
    engine.add_root(folder)
    engine.add_root(other)
    list(engine.index())
    assert engine.status().counts["image"] == {"indexed": 9, "failed": 1}
    assert sum(engine.status().counts["video"].values()) == 2
    video = engine.file(folder / "clip.mp4")
    assert video.status == "indexed"
    assert engine.thumbnail(video.id, 64, at=1.0) and engine.moments(video.id)
    assert engine.similar(video.id, k=3, at=1.0)
    photo = folder / "p2.jpg"
    assert engine.search("a lake", k=5)
    assert engine.search_image(photo, k=3)[0].path in {str(photo)}
    assert engine.search_image(photo.read_bytes(), k=3)
    assert engine.similar(photo, k=3)
    assert engine.similar(folder / "lake.md", k=3) is not None
    for path in folder.glob("*.jpg"):
        record = engine.file(path) if not path.is_symlink() else None
        if record is not None and record.status == "indexed":
            assert engine.thumbnail(record.id, 64)
    _find_duplicates(engine, folder)
    list(engine.index())  # a re-scan
    engine.retry_failed()
    list(engine.index())
    engine.remove_root(other)
    engine.close()

    assert {**_snapshot(folder), **_snapshot(other)} == before
    assert not any(str(p).startswith(str(folder)) for p in Path(engine.home).rglob("*"))


class _Payload:
    """Unpickling this runs code: it creates the file named ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.marker), "pwned"))  # type: ignore[return-value]


@pytest.mark.parametrize("suffix", [".bin", ".pt"])
def test_an_imported_weights_file_with_code_in_it_is_refused(
    home: Path, tmp_path: Path, tiny_model_files: tuple[Path, Path], suffix: str
) -> None:
    """A pickled checkpoint is read with ``weights_only=True``: its code never runs."""
    import torch

    config, _ = tiny_model_files
    marker = tmp_path / "marker"
    evil = tmp_path / f"evil{suffix}"
    torch.save({"state_dict": {"visual.proj": _Payload(marker)}}, evil)
    with Engine(home) as engine:
        before = engine.settings.clip_model
        with pytest.raises(KnownError, match="Could not load"):
            engine.import_model(ARCH, evil, config)
        assert engine.settings.clip_model == before, "the model in use stays the one before"
    assert not marker.exists()
