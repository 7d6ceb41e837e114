"""Unplugged drives: a folder that disappears (or leaves only its empty mount point) is
reported offline, keeps its entries, shows none of them in any search, and when it returns
everything is back without a single picture being embedded again."""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagegen import save_scene
from tiny_model import ARCH

from desktop_app import cli
from desktop_app.core.engine import Engine

HOME_PHOTOS, DRIVE_PHOTOS = 6, 8


@pytest.fixture
def setup(
    home: Path, tmp_path: Path, tiny_model_files: tuple[Path, Path]
) -> Iterator[tuple[Engine, Path, Path]]:
    """An engine on the imported tiny model (so the CLI can load it too), with two folders
    indexed: ``photos`` on the laptop and ``drive`` on a removable disk."""
    photos, drive = tmp_path / "photos", tmp_path / "media" / "drive"
    for i in range(HOME_PHOTOS):
        save_scene(photos / f"home{i}.jpg", 700 + i, (64, 64), quality=90)
    for i in range(DRIVE_PHOTOS):
        save_scene(drive / "2019" / f"trip{i}.jpg", 800 + i, (64, 64), quality=90)
    config, weights = tiny_model_files
    engine = Engine(home)
    engine.import_model(ARCH, weights, config)
    engine.add_root(photos)
    engine.add_root(drive)
    list(engine.index())
    assert engine.status().counts["image"] == {"indexed": HOME_PHOTOS + DRIVE_PHOTOS}
    yield engine, photos, drive
    engine.close()


def _labels(engine: Engine) -> set[tuple[int, int]]:
    rows = engine.library.reader().conn.execute("SELECT file_id, label FROM units")
    return {(r[0], r[1]) for r in rows}


def _found_paths(engine: Engine, photos: Path) -> set[str]:
    """Every path any kind of search returns, asked for far more hits than there are files."""
    k = 100
    found = {h.path for h in engine.search("a picture", k)}
    found |= {h.path for h in engine.search_image(photos / "home0.jpg", k)}
    found |= {h.path for h in engine.similar(photos / "home1.jpg", k)}
    return found


def _cli_paths(home: Path, capsys: pytest.CaptureFixture[str], *args: str) -> set[str]:
    capsys.readouterr()
    assert cli.main(["--home", str(home), *args, "-k", "100", "--all", "--json"]) == 0
    return {hit["path"] for hit in json.loads(capsys.readouterr().out)["results"]}


def _under(paths: set[str], folder: Path) -> set[str]:
    return {p for p in paths if p.startswith(str(folder) + os.sep)}


def _unplug_and_return(
    setup: tuple[Engine, Path, Path],
    capsys: pytest.CaptureFixture[str],
    unplug: str,
) -> None:
    engine, photos, drive = setup
    home = engine.home
    assert len(_under(_found_paths(engine, photos), drive)) == DRIVE_PHOTOS
    labels = _labels(engine)
    away = drive.with_name("drive-away")
    os.rename(drive, away)
    if unplug == "empty mount point":
        drive.mkdir()

    assert _under(_found_paths(engine, photos), drive) == set()
    assert len(_found_paths(engine, photos)) == HOME_PHOTOS
    assert _under(_cli_paths(home, capsys, "search", "a picture"), drive) == set()
    assert _under(_cli_paths(home, capsys, "similar", str(photos / "home2.jpg")), drive) == set()
    status = {r.path: r for r in engine.root_status()}
    assert not status[str(drive)].online and status[str(photos)].online
    assert status[str(drive)].indexed == DRIVE_PHOTOS

    reports = list(engine.index())  # a re-scan while the drive is away
    assert "offline, kept" in reports[-1].message
    assert _labels(engine) == labels, "entries of an offline folder were dropped"
    assert _under(_found_paths(engine, photos), drive) == set()

    if unplug == "empty mount point":
        drive.rmdir()
    os.rename(away, drive)
    assert len(_under(_found_paths(engine, photos), drive)) == DRIVE_PHOTOS
    reports = list(engine.index())
    assert "images" not in {p.phase for p in reports}, "pictures were embedded again"
    assert reports[-1].message.startswith("0 new, 0 changed, 0 moved, 0 removed")
    assert _labels(engine) == labels
    assert len(_under(_cli_paths(home, capsys, "search", "a picture"), drive)) == DRIVE_PHOTOS
    assert all(r.online for r in engine.root_status())


@pytest.mark.parametrize("unplug", ["folder gone", "empty mount point"])
def test_unplugged_folder_is_hidden_kept_and_not_reembedded(
    setup: tuple[Engine, Path, Path], capsys: pytest.CaptureFixture[str], unplug: str
) -> None:
    _unplug_and_return(setup, capsys, unplug)


def test_a_folder_emptied_on_purpose_is_not_offline_when_it_was_empty(
    setup: tuple[Engine, Path, Path], tmp_path: Path
) -> None:
    """A new, empty folder is simply empty: online, nothing to keep."""
    engine, _, _ = setup
    empty = tmp_path / "empty"
    empty.mkdir()
    engine.add_root(empty)
    list(engine.index())
    assert {r.path: r.online for r in engine.root_status()}[str(empty)]


def test_moved_root_is_offline_until_it_returns(
    setup: tuple[Engine, Path, Path], tmp_path: Path
) -> None:
    """Moving the whole folder elsewhere is, to the library, the same as unplugging it: its
    entries wait for it at the old place (re-adding the new place indexes it there)."""
    engine, photos, drive = setup
    moved = tmp_path / "moved-drive"
    shutil.move(drive, moved)
    list(engine.index())
    assert engine.status().counts["image"] == {"indexed": HOME_PHOTOS + DRIVE_PHOTOS}
    assert _under(_found_paths(engine, photos), drive) == set()
    shutil.move(moved, drive)
    assert len(_under(_found_paths(engine, photos), drive)) == DRIVE_PHOTOS
