"""RAW photos (CR2, CR3, NEF, ARW, DNG, RAF, ORF, RW2, PEF…), read with rawpy (LibRaw).

A RAW file holds the sensor's data and, nearly always, a JPEG preview the camera rendered
from it at full or screen size. That preview is what the camera showed and what the picture
looks like; extracting it takes a fraction of a millisecond where demosaicing a 24 MP sensor
takes a second, so it is used for the picture's vector and for thumbnails. Only a file without
a usable preview (none, or a tiny one) is demosaiced, at half size, which is plenty for a
224-pixel model input and a thumbnail. The date, lens and tags come from the RAW (LibRaw, the
TIFF structure most RAW formats share, and XMP embedded or in a sidecar).
"""

import io
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from desktop_app.core.kinds import photo_tags
from desktop_app.core.kinds.base import CLIP, DecodeError, Extracted, Pass, Source, Unit, UnitModels
from desktop_app.core.kinds.image import (
    MAX_PIXELS,
    ImageMeta,
    decode_image,
    exif_date_camera,
    to_rgb,
)

if TYPE_CHECKING:  # rawpy (LibRaw) loads when a RAW file is read: a search never needs it
    import rawpy

RAW_FILE_TYPES: Mapping[str, Sequence[str]] = {
    "raw": (
        ".cr2",
        ".cr3",
        ".crw",
        ".nef",
        ".nrw",
        ".arw",
        ".srf",
        ".sr2",
        ".dng",
        ".raf",
        ".orf",
        ".rw2",
        ".pef",
        ".srw",
        ".3fr",
        ".iiq",
        ".x3f",
    )
}
RAW_EXTENSIONS = frozenset(RAW_FILE_TYPES["raw"])
# A preview whose shorter side is below this is a thumbnail, too small to stand for the photo.
MIN_PREVIEW_SIDE = 200
# LibRaw's flip code -> the turn that makes the picture upright.
_TURNS = {
    3: Image.Transpose.ROTATE_180,
    5: Image.Transpose.ROTATE_90,
    6: Image.Transpose.ROTATE_270,
}
_ORIENTATION = 0x0112


def is_raw(path: str) -> bool:
    return any(path.lower().endswith(ext) for ext in RAW_EXTENSIONS)


def decode_raw(data: bytes, *, draft_size: int | None = None) -> tuple[Image.Image, ImageMeta]:
    """A RAW file's picture (its preview, else a half-size demosaic), upright RGB, with its
    metadata; raises :class:`DecodeError` when LibRaw cannot read it."""
    import rawpy

    if not data:
        raise DecodeError("empty file")
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            sizes = raw.sizes
            if sizes.width * sizes.height > MAX_PIXELS:
                raise DecodeError(f"RAW image too large ({sizes.width}×{sizes.height})")
            picture = _preview(raw, draft_size)
            if picture is None:
                rgb = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
                picture = Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")
            width, height = sizes.width, sizes.height
            if sizes.flip in (5, 6):
                width, height = height, width
            stamp = raw.other.timestamp
            lens = raw.lens.model or None
            artist = raw.other.artist or None
    except rawpy.LibRawError as err:
        raise DecodeError(f"not a readable RAW photo ({_reason(err)})") from None
    except (MemoryError, ValueError, OSError) as err:
        raise DecodeError(f"damaged RAW photo ({err})") from None
    taken_at, camera, tags = _tiff_metadata(data)
    if taken_at is None and stamp is not None and stamp.year > 1971:
        taken_at = time.mktime(stamp.timetuple())
    words = photo_tags.join([tags, lens, artist])
    return picture, ImageMeta(width, height, taken_at, camera, words, True)


def _reason(err: Exception) -> str:
    text = err.args[0] if err.args else type(err).__name__
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def _preview(raw: "rawpy.RawPy", draft_size: int | None) -> Image.Image | None:
    """The embedded preview, upright, if there is one big enough to stand for the photo."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError:
        return None  # a damaged preview: the sensor data may still be fine
    turn = _TURNS.get(raw.sizes.flip)
    if thumb.format == rawpy.ThumbFormat.JPEG:
        try:
            picture, meta = decode_image(bytes(thumb.data), draft_size=draft_size)
            oriented = _jpeg_orientation(bytes(thumb.data)) not in (None, 1)
        except DecodeError:
            return None
        short = min(meta.width, meta.height)
    else:
        array = np.asarray(thumb.data)
        if array.ndim != 3 or array.shape[2] != 3:
            return None
        picture = to_rgb(Image.fromarray(np.ascontiguousarray(array.astype(np.uint8))))
        oriented, short = False, min(picture.size)
    if short < MIN_PREVIEW_SIDE:
        return None
    return picture.transpose(turn) if turn is not None and not oriented else picture


def _jpeg_orientation(data: bytes) -> int | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            value = image.getexif().get(_ORIENTATION)
    except Exception:  # a preview's EXIF is optional
        return None
    return value if isinstance(value, int) else None


def _tiff_metadata(data: bytes) -> tuple[float | None, str | None, str | None]:
    """Date taken, camera and tags from the EXIF and XMP of a TIFF-based RAW (CR2, NEF, ARW,
    DNG, PEF…), read from its first directory whatever its pixels are; nothing for the others
    (CR3, RAF), whose dates LibRaw gives."""
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None, None, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif = Image.Exif()
            exif.load(data)
            taken_at, camera = exif_date_camera(exif)
            values, _ = photo_tags.exif_words(exif)
    except Exception:  # damaged metadata: optional
        return None, None, None
    return taken_at, camera, photo_tags.join(values)


class RawExtractor:
    """RAW photos: one CLIP unit each, from the embedded preview (see the module docstring)."""

    name = "raw"
    label = "RAW photos"
    extensions = RAW_EXTENSIONS
    file_types = RAW_FILE_TYPES
    spaces = (CLIP,)
    passes = (Pass("RAW photos", spaces),)
    typical_units = 1

    def sniff(self, head: bytes) -> bool:
        return False  # RAW formats share TIFF's signature with TIFF pictures: by name only

    def extract(self, source: Source, models: UnitModels) -> Extracted:
        prepare, draft_size = models.picture_input(CLIP)
        picture, meta = decode_raw(source.read(), draft_size=draft_size)
        return Extracted(
            {
                "width": meta.width,
                "height": meta.height,
                "taken_at": meta.taken_at,
                "camera": meta.camera,
                "tags": photo_tags.join([meta.tags, *photo_tags.sidecar_words(source.path)]),
                "exposure": True,  # a RAW file only comes out of a camera
            },
            [Unit(CLIP, pixels=prepare(picture))],
        )
