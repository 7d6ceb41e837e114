"""RAW photos: the embedded preview when there is a usable one, a half-size demosaic when not,
EXIF from the RAW, thumbnails, and a RAW with its camera JPEG shown as one result."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from imagegen import save_scene, scene
from PIL import Image
from rawgen import write_dng

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.kinds import registry
from desktop_app.core.kinds.base import DecodeError
from desktop_app.core.kinds.raw import decode_raw
from desktop_app.core.searching.filters import Filters

SIDECAR = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag><rdf:li>kingfisher</rdf:li>
</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"""


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel value (0-255) of two pictures of one size."""
    return float(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean())


def test_the_embedded_jpeg_preview_is_used_upright(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "a.dng", seed=3, preview="jpeg", orientation=6)
    picture, meta = decode_raw(path.read_bytes())
    assert picture.mode == "RGB" and picture.size == (256, 384)  # turned a quarter
    expected = scene(3, (384, 256)).transpose(Image.Transpose.ROTATE_270)
    assert difference(picture, expected) < 12  # the preview, as the camera drew it
    assert (meta.width, meta.height) == (256, 384)
    assert meta.camera == "Testmaker TM-1"
    assert meta.taken_at is not None and meta.exposure is True


def test_an_uncompressed_preview_is_used_too(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "b.dng", seed=4, preview="bitmap")
    picture, _ = decode_raw(path.read_bytes())
    assert difference(picture, scene(4, (384, 256))) < 1


@pytest.mark.parametrize("preview", [None, "tiny"])
def test_without_a_usable_preview_the_sensor_data_is_demosaiced_at_half_size(
    tmp_path: Path, preview: str | None
) -> None:
    path = write_dng(
        tmp_path / "c.dng",
        seed=5,
        preview="jpeg" if preview else None,
        preview_size=(64, 48),
    )
    picture, meta = decode_raw(path.read_bytes())
    assert picture.size == (192, 128)  # half of the 384 × 256 sensor
    assert (meta.width, meta.height) == (384, 256)
    assert np.asarray(picture).std() > 5  # a picture, not a blank
    assert meta.camera == "Testmaker TM-1"


@pytest.mark.parametrize(
    "content",
    [b"", b"II*\x00" + b"\x00" * 100, b"not a raw file at all", bytes(range(256)) * 40],
)
def test_unreadable_raw_files_raise_a_decode_error(content: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_raw(content)


def test_a_truncated_raw_is_a_decode_error_or_a_picture(tmp_path: Path) -> None:
    data = write_dng(tmp_path / "t.dng", preview=None).read_bytes()
    for cut in (16, 200, len(data) // 2):
        try:
            picture, _ = decode_raw(data[:cut])
        except DecodeError as err:
            assert str(err)
        else:
            assert picture.mode == "RGB"


@pytest.fixture
def raw_library(
    tmp_path: Path, tiny_clip: OpenClipEncoder, minilm: SentenceTransformerEncoder
) -> Iterator[tuple[Engine, Path]]:
    root = tmp_path / "shoot"
    write_dng(root / "IMG_0001.dng", seed=1)
    save_scene(root / "IMG_0001.jpg", 1, (384, 256))  # the camera's JPEG beside it
    write_dng(root / "IMG_0002.dng", seed=2, preview=None)
    (root / "IMG_0002.xmp").write_bytes(SIDECAR)  # a Lightroom/digiKam sidecar
    save_scene(root / "IMG_0003.jpg", 3, (384, 256))
    (root / "IMG_0004.dng").write_bytes(b"II*\x00 broken")
    (root / "IMG_0005.cr2").write_bytes(b"")
    with Engine(tmp_path / "home", clip_loader=lambda: tiny_clip, text_loader=lambda: minilm) as e:
        e.add_root(root)
        list(e.index())
        yield e, root


def test_raw_files_are_indexed_searched_filtered_and_thumbnailed(
    raw_library: tuple[Engine, Path],
) -> None:
    engine, root = raw_library
    assert registry.kind_of(str(root / "x.NEF"), "x.NEF") == "raw"
    counts = engine.library.reader().count_by_status()
    assert counts[("raw", "indexed")] == 2 and counts[("raw", "failed")] == 2
    errors = {Path(r.path).name: r.error for r in engine.errors()}
    assert "not a readable RAW photo" in (errors["IMG_0004.dng"] or "")
    assert errors["IMG_0005.cr2"] == "empty file"
    only_raw = engine.search("a photo", k=10, filters=Filters(types=("raw",)))
    assert {Path(h.path).suffix for h in only_raw} == {".dng"}
    record = engine.file(str(root / "IMG_0002.dng"))
    assert record.camera == "Testmaker TM-1" and record.exposure is True
    thumb = engine.thumbnail(record.id, 128)
    assert thumb is not None
    with Image.open(thumb) as image:
        assert max(image.size) == 128
    assert [Path(h.path).name for h in engine.search("kingfisher", k=3)][:1] == ["IMG_0002.dng"]


def test_a_raw_and_its_camera_jpeg_are_one_result(raw_library: tuple[Engine, Path]) -> None:
    engine, root = raw_library
    hits = engine.search("a photo", k=10)
    stems = [Path(h.path).stem for h in hits]
    assert sorted(stems) == ["IMG_0001", "IMG_0002", "IMG_0003"]  # not IMG_0001 twice
    pair = next(h for h in hits if Path(h.path).stem == "IMG_0001")
    other = ".jpg" if pair.path.endswith(".dng") else ".dng"
    assert pair.companions == (str(root / f"IMG_0001{other}"),)
    assert all(not h.companions for h in hits if h is not pair)
    # Found by its name, the pair is still one result.
    named = engine.search("name:IMG_0001", k=10)
    assert len(named) == 1 and named[0].companions
