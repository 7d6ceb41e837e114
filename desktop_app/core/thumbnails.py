"""On-demand thumbnails, cached on disk by content hash and size.

The cache key is the content hash, so a moved file keeps its thumbnail and a changed file gets
a new one. Files are written to a temporary name and renamed, so a crash leaves either a whole
thumbnail or none. JPEG sources decode in draft mode (DCT scaling), several times faster.
"""

import os
from pathlib import Path

from PIL import Image

from desktop_app.core.kinds.base import DecodeError
from desktop_app.core.kinds.image import decode_image
from desktop_app.core.kinds.pdf import render_page
from desktop_app.core.kinds.raw import decode_raw, is_raw

THUMBNAIL_QUALITY = 85


def thumbnail_path(cache_dir: Path, content_hash: str, size: int, at: float | None = None) -> Path:
    moment = "" if at is None else f"-at{round(at * 1000)}"
    return cache_dir / content_hash[:2] / f"{content_hash}-{size}{moment}.jpg"


def thumbnail(cache_dir: Path, source: str, content_hash: str, size: int) -> Path:
    """The cached thumbnail (longest side ``size`` px), made now if missing.

    Raises :class:`DecodeError` when the source cannot be read or decoded.
    """
    target = thumbnail_path(cache_dir, content_hash, size)
    if target.exists():
        return target
    try:
        with open(source, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise DecodeError(f"cannot read ({err.strerror or err})") from None
    decode = decode_raw if is_raw(source) else decode_image  # a RAW: its embedded preview
    image, _ = decode(data, draft_size=size)
    return _save(image, target, size)


def video_thumbnail(cache_dir: Path, source: str, content_hash: str, size: int, at: float) -> Path:
    """The cached thumbnail of a video's frame at ``at`` seconds, upright, made now if missing
    (a seek and a short decode; the file is streamed, never read whole)."""
    from desktop_app.core.kinds import video_frames  # PyAV: loaded when a video needs it

    target = thumbnail_path(cache_dir, content_hash, size, at)
    if target.exists():
        return target
    return _save(video_frames.frame_at(source, at, size), target, size)


def page_thumbnail(cache_dir: Path, source: str, content_hash: str, size: int, page: int) -> Path:
    """The cached picture of a PDF's ``page`` (longest side ``size`` px), rendered now if
    missing: a PDF hit's card shows the page that matched."""
    target = cache_dir / content_hash[:2] / f"{content_hash}-p{page}-{size}.jpg"
    if target.exists():
        return target
    return _save(render_page(source, page, size), target, size)


def _save(image: Image.Image, target: Path, size: int) -> Path:
    image.thumbnail((size, size))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        image.save(tmp, "JPEG", quality=THUMBNAIL_QUALITY)
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk must not leave half a thumbnail behind
        raise
    return target
