"""Metadata kept per file (size, date taken, camera) and cached thumbnails."""

import os
import time
from pathlib import Path

import pytest
from conftest import run_index
from imagegen import save_scene, scene
from PIL import Image

from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError


def _with_exif(path: Path, taken: str, make: str, model: str) -> Path:
    image = scene(1, (320, 240))
    exif = Image.Exif()
    exif[271], exif[272] = make, model
    exif.get_ifd(0x8769)[36867] = taken
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, exif=exif)
    return path


def test_exif_date_and_camera_else_mtime(engine: Engine, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    tagged = _with_exif(photos / "tagged.jpg", "2019:07:14 18:30:05", "Canon", "Canon EOS 80D")
    plain = save_scene(photos / "plain.png", seed=2, format="PNG")
    os.utime(plain, (1_600_000_000, 1_600_000_000))
    engine.add_root(photos)
    run_index(engine)
    record = engine.file(str(tagged))
    assert record.camera == "Canon EOS 80D"
    assert record.taken_at == time.mktime((2019, 7, 14, 18, 30, 5, 0, 0, -1))
    assert (record.width, record.height) == (320, 240)
    assert engine.file(str(plain)).taken_at == 1_600_000_000
    assert engine.file(str(plain)).camera is None


def test_thumbnails_are_cached_by_content(engine: Engine, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    original = save_scene(photos / "big.jpg", seed=3, size=(1600, 1200))
    (photos / "note.md").write_text("text", "utf-8")
    engine.add_root(photos)
    run_index(engine)
    thumb = engine.thumbnail(str(original), 256)
    assert thumb is not None and thumb.is_relative_to(engine.home)
    with Image.open(thumb) as image:
        assert max(image.size) == 256 and image.size == (256, 192)
    stamp = thumb.stat().st_mtime_ns
    assert engine.thumbnail(str(original), 256) == thumb and thumb.stat().st_mtime_ns == stamp
    assert engine.thumbnail(str(photos / "note.md")) is None
    # A moved file keeps its thumbnail (same content hash).
    moved = photos / "moved.jpg"
    original.rename(moved)
    run_index(engine)
    assert engine.thumbnail(str(moved), 256) == thumb
    assert not list(thumb.parent.glob("*.tmp"))


def test_thumbnail_of_a_vanished_file_is_a_known_error(engine: Engine, tmp_path: Path) -> None:
    photo = save_scene(tmp_path / "p" / "a.jpg", seed=4)
    engine.add_root(photo.parent)
    run_index(engine)
    photo.unlink()
    with pytest.raises(KnownError, match="No thumbnail"):
        engine.thumbnail(str(tmp_path / "p" / "a.jpg"))
