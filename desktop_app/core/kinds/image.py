"""Pictures: turning file bytes into an upright RGB picture plus the metadata the library keeps.

Everything a person would call "the picture" is applied here: EXIF orientation, transparency
over white, CMYK/palette/16-bit modes mapped to 8-bit RGB. A file that is not a picture, is
truncated, or would decode to an absurd number of pixels raises :class:`DecodeError` with a
message fit for the per-file error list.
"""

import io
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from desktop_app.core.kinds import photo_tags
from desktop_app.core.kinds.base import (
    CLIP,
    READ_TEXT_IN_PICTURES,
    TEXT,
    DecodeError,
    Extracted,
    Pass,
    Source,
    Unit,
    UnitModels,
)
from desktop_app.core.kinds.photo_tags import embedded_tags
from desktop_app.core.kinds.picture_text import ReaderFactory, read_picture, text_units
from desktop_app.core.ocr.reader import GLANCE_SIDE, MAX_SIDE, shared_reader

pillow_heif.register_heif_opener()

IMAGE_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".webp",
        ".gif",
        ".bmp",
        ".dib",
        ".tif",
        ".tiff",
        ".heic",
        ".heif",
        ".hif",
        ".avif",
    }
)
_MAGIC: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"BM", 0, "bmp"),
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
]
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff(head: bytes) -> str | None:
    """The image format that the first bytes of a file announce, or None."""
    for magic, offset, name in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AVIF_BRANDS:
            return "avif"
        if brand in _HEIF_BRANDS:
            return "heif"
    return None


# Decoding more pixels than this is refused: 20000×20000 would need 1.2 GB as RGB. Pillow
# checks this limit in Image.open, from the header, before any pixel is decoded.
MAX_PIXELS = 150_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
_TOO_LARGE = f"image too large to decode safely (more than {MAX_PIXELS // 1_000_000} megapixels)"

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_DATETIME = 306
_MAKE = 271
_MODEL = 272


@dataclass(frozen=True)
class ImageMeta:
    width: int
    height: int
    taken_at: float | None
    camera: str | None
    tags: str | None = None  # EXIF/IPTC/XMP words (see photo_tags)
    exposure: bool | None = None  # the camera recorded an exposure


def decode_image(data: bytes, *, draft_size: int | None = None) -> tuple[Image.Image, ImageMeta]:
    """Decode an image file's bytes into RGB, upright, with its metadata.

    ``draft_size`` lets JPEG decode at a reduced scale (at least that many pixels on the short
    side), which is much faster for thumbnails and for the model's input; the metadata keeps
    the file's full size.
    """
    if not data:
        raise DecodeError("empty file")
    try:
        with warnings.catch_warnings():
            # Pillow warns about damaged metadata (corrupt EXIF) on stderr: not the person's
            # concern when the picture decodes. A bomb warning must stop the decode.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = image.size
            meta_exif = _read_exif(image)
            tags = embedded_tags(image)
            if draft_size and image.format == "JPEG":
                image.draft("RGB", _draft_box(width, height, draft_size))
            image.load()  # GIF/APNG/multi-page TIFF: the first frame
            decoded = image.size
            image = _upright(image)
            rgb = to_rgb(image)
    except UnidentifiedImageError:
        fmt = sniff(data[:16])
        what = f"{fmt} data Pillow cannot read" if fmt else _describe_content(data)
        raise DecodeError(f"not a readable image ({what})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DecodeError(_TOO_LARGE) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as err:
        raise DecodeError(f"damaged or truncated image ({err})") from None
    taken_at, camera = meta_exif
    # The file's own size, upright, even when it was decoded at a reduced scale.
    upright = (width, height) if rgb.size == decoded else (height, width)
    return rgb, ImageMeta(upright[0], upright[1], taken_at, camera, tags.words, tags.exposure)


def _draft_box(width: int, height: int, short_side: int) -> tuple[int, int]:
    scale = short_side / max(1, min(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _upright(image: Image.Image) -> Image.Image:
    try:
        # In place: without it Pillow returns a full copy even when nothing turns (2× memory).
        ImageOps.exif_transpose(image, in_place=True)
        return image
    except (ValueError, TypeError, KeyError, OSError, SyntaxError):
        return image  # unreadable orientation tag: show as stored


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB as a viewer would show it (alpha over white, 16-bit scaled, not clipped)."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _high_depth_to_rgb(image)
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("LA", "La"):
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "RGBa"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def _high_depth_to_rgb(image: Image.Image) -> Image.Image:
    array = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        scaled = (array - low) / (high - low or 1.0) * 255.0
    else:
        # 16-bit samples (stored as I or I;16) span 0..65535.
        scaled = array / 257.0 if array.max(initial=0) > 255 else array
    gray = np.clip(np.nan_to_num(scaled), 0, 255).astype(np.uint8)
    return Image.fromarray(gray, mode="L").convert("RGB")


def _read_exif(image: Image.Image) -> tuple[float | None, str | None]:
    try:
        return exif_date_camera(image.getexif())
    except Exception:  # EXIF in the wild is arbitrary, and this metadata is optional
        return None, None


def exif_date_camera(exif: Image.Exif) -> tuple[float | None, str | None]:
    """(date taken, camera) from an EXIF block; may raise on damaged EXIF."""
    sub = exif.get_ifd(_EXIF_IFD)
    stamp = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    make = str(exif.get(_MAKE) or "").strip("\x00 ").strip()
    model = str(exif.get(_MODEL) or "").strip("\x00 ").strip()
    camera = (
        model
        if not make or model.lower().startswith(make.lower().split()[0])
        else (f"{make} {model}".strip())
    )
    return _parse_exif_time(stamp), camera or None


def _parse_exif_time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    text = value.strip("\x00 ").strip()
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M"):
        try:
            return time.mktime(datetime.strptime(text, fmt).timetuple())
        except (ValueError, OverflowError):
            continue
    return None


def _describe_content(data: bytes) -> str:
    head = data[:512]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown binary content"
    return "the content is text"


class ImageExtractor:
    """Pictures: one CLIP unit each, decoded at reduced JPEG scale down to the model's input
    size (3-4x cheaper on camera-sized photos; the benchmark checks the embeddings stay within
    bounds). The date is EXIF's DateTimeOriginal (the indexer falls back to the file's
    modification time).

    The text in a picture is read later, in its own pass (OCR is slower than CLIP, and a
    library should be searchable by look first): its lines become text units, and the lines
    with their boxes are kept for the preview (meta ``text_lines``).
    """

    name = "image"
    label = "images"
    extensions = IMAGE_EXTENSIONS
    file_types: Mapping[str, Sequence[str]] = {
        "jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
        "png": (".png",),
        "webp": (".webp",),
        "gif": (".gif",),
        "heic": (".heic", ".heif", ".hif"),
        "avif": (".avif",),
        "tiff": (".tif", ".tiff"),
        "bmp": (".bmp", ".dib"),
    }
    spaces = (CLIP, TEXT)
    passes = (
        Pass("images", (CLIP,)),
        Pass("text in images", (TEXT,), later=True, switch=READ_TEXT_IN_PICTURES),
    )
    typical_units = 1

    def __init__(self, reader: ReaderFactory = shared_reader) -> None:
        self._reader = reader

    def sniff(self, head: bytes) -> bool:
        return sniff(head) is not None

    def extract(self, source: Source, models: UnitModels) -> Extracted:
        look = models.wants(CLIP)
        prepare, draft_size = models.picture_input(CLIP) if look else (None, None)
        if models.wants(TEXT):  # OCR glances at a JPEG reduced, and reads it in detail later
            draft_size = max(draft_size or 0, GLANCE_SIDE * 3 // 4)
        data = source.read()
        image, meta = decode_image(data, draft_size=draft_size)
        extracted = Extracted(
            {
                "width": meta.width,
                "height": meta.height,
                "taken_at": meta.taken_at,
                "camera": meta.camera,
                "tags": photo_tags.join([meta.tags, *photo_tags.sidecar_words(source.path)]),
                "exposure": meta.exposure,
            },
        )
        if prepare is not None:
            extracted.units.append(Unit(CLIP, pixels=prepare(image)))
        if models.wants(TEXT):
            reduced = max(image.size) < max(meta.width, meta.height)
            detail = (lambda: decode_image(data, draft_size=MAX_SIDE // 2)[0]) if reduced else None
            if max(image.size) > MAX_SIDE:  # OCR reads no finer: let the full-size copy go now
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR)
            lines = read_picture(image, self._reader, detail)
            extracted.meta["text_lines"] = lines
            extracted.units.extend(text_units(lines, models))
        return extracted
