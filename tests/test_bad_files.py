"""Broken, hostile and unusual picture files: each one fails on its own, with a reason a person
understands, and never costs the rest of the library.

Every file is real and written to disk by the test. Only two faults that cannot be produced
honestly here are injected, narrowly: an unreadable file when the tests run with privileges that
ignore permission bits (root), and a file deleted between the scan and the read.
"""

import builtins
import errno
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
import pytest
from imagegen import save_scene, scene
from PIL import Image

from desktop_app.core.engine import Engine
from desktop_app.core.errors import NotIndexedError
from desktop_app.core.indexing import indexer, reading
from desktop_app.core.indexing.sync import SyncReport
from desktop_app.core.kinds.image import decode_image

GOOD_IMAGES = 6
# Each bad file's name, and a word its error message must contain.
EXPECTED_ERRORS = {
    "empty.jpg": "empty",
    "truncated.jpg": "truncated",
    "notes.jpg": "text",
    "bomb.png": "too large",
    "locked.jpg": "permission",
    "vanished.jpg": "vanished",
}
_ORIENTATION = 0x0112

EngineFactory = Callable[..., Engine]


@dataclass(frozen=True)
class BadLibrary:
    folder: Path
    good: list[Path]
    bad: dict[str, Path]  # file name -> path


def _jpeg_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    scene(seed).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _permissions_enforced(path: Path) -> bool:
    """False when this process can read a mode-000 file anyway (root, CAP_DAC_OVERRIDE)."""
    try:
        with open(path, "rb"):
            return False
    except PermissionError:
        return True


def _deny_reading(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Make the indexer's open() of ``target`` fail as the kernel would for a normal user."""
    real_open = builtins.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | os.PathLike) and os.fspath(file) == str(target):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(reading, "open", guarded_open, raising=False)


def _vanish_after_scan(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Delete ``target`` once the scan has recorded it, before the indexer reads it."""
    real_sync = indexer.sync

    def sync_then_delete(*args: Any, **kwargs: Any) -> Iterator[SyncReport]:
        yield from real_sync(*args, **kwargs)
        target.unlink(missing_ok=True)

    monkeypatch.setattr(indexer, "sync", sync_then_delete)


@pytest.fixture
def bad_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BadLibrary]:
    folder = tmp_path / "photos"
    good = [save_scene(folder / f"good{i}.jpg", i, quality=90) for i in range(GOOD_IMAGES)]
    bad = {name: folder / name for name in EXPECTED_ERRORS}

    bad["empty.jpg"].write_bytes(b"")
    whole = _jpeg_bytes(100)
    bad["truncated.jpg"].write_bytes(whole[: len(whole) // 2])
    bad["notes.jpg"].write_text("Shopping list\n- milk\n- bread\n", "utf-8")
    # 400 megapixels of one-bit zeros compress to a few tens of kilobytes.
    Image.new("1", (20000, 20000)).save(bad["bomb.png"])
    assert bad["bomb.png"].stat().st_size < 100_000
    save_scene(bad["locked.jpg"], 101, quality=90)
    bad["locked.jpg"].chmod(0)
    if not _permissions_enforced(bad["locked.jpg"]):
        _deny_reading(monkeypatch, bad["locked.jpg"])
    save_scene(bad["vanished.jpg"], 102, quality=90)
    _vanish_after_scan(monkeypatch, bad["vanished.jpg"])

    yield BadLibrary(folder, good, bad)
    bad["locked.jpg"].chmod(0o644)


def _indexed_vectors(engine: Engine) -> set[tuple[int, int]]:
    """(file id, label) of every stored vector: a re-embedding would change the labels."""
    rows = engine.library.reader().conn.execute("SELECT file_id, label FROM units")
    return {(r[0], r[1]) for r in rows}


def test_each_bad_file_fails_alone_with_its_own_reason(
    engine: Engine, bad_library: BadLibrary
) -> None:
    engine.add_root(bad_library.folder)
    reports = list(engine.index())
    assert reports[-1].phase == "done"

    errors = {Path(rec.path).name: rec for rec in engine.errors()}
    assert set(errors) == set(EXPECTED_ERRORS)
    for name, word in EXPECTED_ERRORS.items():
        rec = errors[name]
        assert rec.status == "failed" and rec.kind == "image"
        assert rec.error and word in rec.error.lower(), f"{name}: {rec.error!r}"
    assert len({rec.error for rec in errors.values()}) == len(errors), "messages are not specific"

    status = engine.status()
    assert status.counts["image"] == {"indexed": GOOD_IMAGES, "failed": len(EXPECTED_ERRORS)}
    assert status.errors == len(EXPECTED_ERRORS)
    # CLIP vectors of the good pictures; the text space holds none (no text in them).
    assert [s["vectors"] for s in status.vector_sets] == [GOOD_IMAGES, 0]

    good_paths = {str(p) for p in bad_library.good}
    for path in bad_library.good:
        hits = engine.search_image(path, k=3)
        assert hits[0].path == str(path)
    text_hits = engine.search("a picture", k=20)
    assert {h.path for h in text_hits} == good_paths


def test_second_run_neither_retries_nor_loses_anything(
    make_engine: EngineFactory, bad_library: BadLibrary
) -> None:
    first = make_engine()
    first.add_root(bad_library.folder)
    list(first.index())
    failed_before = {rec.path: rec.error for rec in first.errors()}
    vectors_before = _indexed_vectors(first)
    assert len(vectors_before) == GOOD_IMAGES
    first.close()  # a second run is a second process: the writer lock must be free

    second = make_engine()
    phases = [p.phase for p in list(second.index())]
    assert "images" not in phases, "failed files were read again"
    assert phases[-1] == "done"

    # The vanished file is gone from disk, so the re-scan forgets it; the others stay failed.
    vanished = str(bad_library.bad["vanished.jpg"])
    with pytest.raises(NotIndexedError):
        second.file(vanished)
    del failed_before[vanished]
    assert {rec.path: rec.error for rec in second.errors()} == failed_before
    assert _indexed_vectors(second) == vectors_before
    status = second.status()
    assert status.counts["image"] == {"indexed": GOOD_IMAGES, "failed": len(failed_before)}
    for path in bad_library.good:
        assert second.search_image(path, k=1)[0].path == str(path)


# -- unusual but valid pictures ----------------------------------------------------------------


def _encode(image: Image.Image, fmt: str, **save_args: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save_args)
    return buffer.getvalue()


def _grey16() -> bytes:
    return _encode(Image.fromarray(np.full((20, 30), 40000, dtype=np.uint16)), "PNG")


def _rotated_exif() -> bytes:
    """300×200 as stored, left half red: orientation 6 shows it 200×300 with red on top."""
    image = Image.new("RGB", (300, 200), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 150, 200))
    exif = Image.Exif()
    exif[_ORIENTATION] = 6
    return _encode(image, "JPEG", exif=exif, quality=95)


def _cmyk() -> bytes:
    return _encode(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG", quality=95)


def _palette_transparent() -> bytes:
    """Left half palette entry 0 (transparent), right half opaque blue."""
    image = Image.new("P", (40, 20), 0)
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.paste(1, (20, 0, 40, 20))
    return _encode(image, "PNG", transparency=0)


def _grey_alpha() -> bytes:
    """Left half fully transparent black, right half opaque grey 100."""
    image = Image.new("LA", (40, 20), (0, 0))
    image.paste((100, 255), (20, 0, 40, 20))
    return _encode(image, "PNG")


def _assert_close(pixel: object, expected: tuple[int, int, int], tolerance: int = 2) -> None:
    assert isinstance(pixel, tuple)
    assert all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True)), pixel


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    assert Image.open(io.BytesIO(_grey16())).mode == "I;16"
    image, meta = decode_image(_grey16())
    assert image.mode == "RGB" and (meta.width, meta.height) == (30, 20)
    level = 40000 / 257  # about 155.6; clipping would give 255
    _assert_close(image.getpixel((5, 5)), (round(level),) * 3, tolerance=1)


def test_exif_orientation_is_applied() -> None:
    image, meta = decode_image(_rotated_exif())
    assert image.size == (200, 300) and (meta.width, meta.height) == (200, 300)
    _assert_close(image.getpixel((100, 20)), (255, 0, 0), tolerance=8)
    _assert_close(image.getpixel((100, 280)), (0, 0, 255), tolerance=8)


def test_cmyk_jpeg_becomes_rgb() -> None:
    assert Image.open(io.BytesIO(_cmyk())).mode == "CMYK"
    image, _ = decode_image(_cmyk())
    assert image.mode == "RGB"
    _assert_close(image.getpixel((10, 10)), (255, 0, 0), tolerance=8)


@pytest.mark.parametrize(
    ("data", "opaque"),
    [(_palette_transparent, (0, 0, 255)), (_grey_alpha, (100, 100, 100))],
    ids=["palette", "grey-alpha"],
)
def test_transparent_pixels_become_white(
    data: Callable[[], bytes], opaque: tuple[int, int, int]
) -> None:
    image, _ = decode_image(data())
    assert image.mode == "RGB"
    _assert_close(image.getpixel((5, 10)), (255, 255, 255), tolerance=0)
    _assert_close(image.getpixel((35, 10)), opaque, tolerance=0)


def test_unusual_formats_index_with_their_true_size(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "unusual"
    folder.mkdir()
    files = {
        "grey16.png": (_grey16(), (30, 20)),
        "rotated.jpg": (_rotated_exif(), (200, 300)),
        "cmyk.jpg": (_cmyk(), (40, 30)),
        "palette.png": (_palette_transparent(), (40, 20)),
        "grey-alpha.png": (_grey_alpha(), (40, 20)),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    pillow_heif.register_heif_opener()
    heic = folder / "phone.heic"
    scene(7).save(heic, format="HEIF")
    assert heic.read_bytes()[4:12] == b"ftypheic"
    files["phone.heic"] = (heic.read_bytes(), (320, 240))

    engine.add_root(folder)
    list(engine.index())

    assert engine.errors() == []
    assert engine.status().counts["image"] == {"indexed": len(files)}
    for name, (_, size) in files.items():
        record = engine.file(folder / name)
        assert (record.width, record.height) == size, name
    assert engine.search_image(heic, k=1)[0].path == str(heic)


@pytest.mark.slow
def test_hundred_megapixel_photo_under_the_limit_decodes() -> None:
    """A 100 MP camera (11648×8736, e.g. Fujifilm GFX100) is below MAX_PIXELS = 150 MP."""
    data = _encode(Image.new("1", (11648, 8736)), "PNG")
    image, meta = decode_image(data)
    assert (meta.width, meta.height) == (11648, 8736)
    assert image.mode == "RGB"
