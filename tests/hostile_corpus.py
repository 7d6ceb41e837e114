"""A generated corpus of hostile and broken files, written into a real folder.

:func:`build` returns, for each file the library should list, what must become of it:
``"indexed"`` (unusual but valid), ``"failed"`` (one recorded error) or ``"either"`` (damage
that a decoder may or may not survive: it must end indexed or failed, never pending). Things
that are not regular files (FIFOs, devices, link loops) must never be opened nor listed.
"""

import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docgen import docx_file, encrypted_pdf, pdf_bomb, pdf_bytes, pptx_file, zip_bomb_docx
from imagegen import scene
from PIL import Image
from videogen import write_audio_only, write_vfr_video, write_video, y4m_header_only

GOOD = 12
_EXIF_APP1 = b"\xff\xe1"


def _encode(image: Image.Image, fmt: str, **args: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **args)
    return buffer.getvalue()


def _corrupt(data: bytes, seed: int) -> bytes:
    """Overwrite a run of bytes in the middle with garbage, keeping the header."""
    middle = len(data) // 2
    garbage = bytes((seed * 31 + i * 17) % 256 for i in range(64))
    return data[:middle] + garbage + data[middle + 64 :]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions and holds a few bytes of pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _png_text_bomb() -> bytes:
    """A small valid PNG with a zTXt chunk that inflates to 200 MB (a zip bomb)."""
    plain = _encode(scene(3, (64, 64)), "PNG")
    bomb = zlib.compress(b"\x00" * 200_000_000, 9)
    chunk = _png_chunk(b"zTXt", b"Comment\x00\x00" + bomb)
    return plain[:33] + chunk + plain[33:]  # right after IHDR


def _png_idat_bomb() -> bytes:
    """8000×8000 black, under the pixel limit: about 60 KB that decode to 192 MB."""
    return _encode(Image.new("L", (8000, 8000)), "PNG", optimize=True)


def _gif_many_frames(frames: int) -> bytes:
    first = Image.new("P", (32, 32), 0)
    rest = [Image.new("P", (32, 32), i % 200 + 1) for i in range(frames - 1)]
    for image in (first, *rest):
        image.putpalette([v for i in range(256) for v in ((i * 7) % 256, i, 255 - i)])
    return _encode(first, "GIF", save_all=True, append_images=rest, duration=10, loop=0)


def _jpeg_with_exif(exif_payload: bytes) -> bytes:
    """A JPEG whose APP1 segment carries the given bytes as its EXIF."""
    plain = _encode(scene(5, (64, 64)), "JPEG", quality=85)
    body = b"Exif\x00\x00" + exif_payload
    segment = _EXIF_APP1 + struct.pack(">H", len(body) + 2) + body
    return plain[:2] + segment + plain[2:]


def _exif_bad_orientation() -> bytes:
    """Little-endian TIFF header, one IFD entry: Orientation (0x0112) = 9 (no such value)."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, 9, 0) + b"\x00\x00\x00\x00"
    return b"II*\x00" + struct.pack("<I", 8) + ifd


def _exif_loop() -> bytes:
    """An IFD whose ExifIFD pointer points back at itself, and an offset beyond the end."""
    ifd = (
        struct.pack("<H", 2)
        + struct.pack("<HHII", 0x8769, 4, 1, 8)
        + struct.pack("<HHII", 0x010F, 2, 400, 0xFFFFFF)
        + b"\x00\x00\x00\x00"
    )
    return b"II*\x00" + struct.pack("<I", 8) + ifd


def _videos(put: Callable[[str, bytes, str], None], scratch: Path) -> None:
    """Videos: good ones of every shape, and damaged, empty, fake, huge and very long ones."""
    made = scratch / ".made"
    made.mkdir()

    def clip(name: str, shots: list[tuple[int, float]], **args: Any) -> bytes:
        return write_video(made / name, shots, size=(96, 64), **args).read_bytes()

    mp4 = clip("a.mp4", [(1, 2), (2, 2)])
    webm = clip("a.webm", [(3, 2)], codec="libvpx-vp9")
    put("video-good.mp4", mp4, "indexed")
    put("video-portrait.mov", clip("p.mov", [(4, 2)], rotation=270), "indexed")
    put("video-good.webm", webm, "indexed")
    put("video-vfr.mp4", write_vfr_video(made / "vfr.mp4", [(5, 2)]).read_bytes(), "indexed")
    halves = (
        clip("a.ts", [(6, 1)]) + write_video(made / "b.ts", [(7, 1)], size=(64, 48)).read_bytes()
    )
    put("video-resolution-change.mts", halves, "indexed")
    put("video-long-1h.mp4", clip("long.mp4", [(8, 3600)], fps=1, pan=False), "indexed")
    for ext, data in (("mp4", mp4), ("webm", webm)):
        put(f"video-truncated-half.{ext}", data[: len(data) // 2], "either")
        put(f"video-truncated-header.{ext}", data[:24], "failed")
        put(f"video-corrupted.{ext}", _corrupt(data, 7), "either")
        put(f"video-empty.{ext}", b"", "failed")
    put("video-corrupt-packets.mts", _corrupt(halves, 3), "either")
    put("video-audio-only.mp4", write_audio_only(made / "au.mp4").read_bytes(), "failed")
    put("video-huge-header.avi", y4m_header_only(20000, 20000), "failed")
    put("video-huge-under-ffmpeg-limit.mkv", y4m_header_only(12000, 12000), "failed")
    put("video-text.mp4", b"not a video, just words\n" * 10, "failed")
    for leftover in made.iterdir():
        leftover.unlink()
    made.rmdir()


def build(folder: Path) -> dict[str, str]:
    """Write the corpus into ``folder``; returns {path: expected outcome}."""
    folder.mkdir(parents=True, exist_ok=True)
    expect: dict[str, str] = {}

    def put(name: str | bytes, data: bytes, outcome: str, where: Path = folder) -> None:
        path = os.path.join(os.fsencode(where), os.fsencode(name))
        with open(path, "wb") as handle:
            handle.write(data)
        expect[os.fsdecode(path)] = outcome

    for i in range(GOOD):
        put(f"good{i:02d}.jpg", _encode(scene(900 + i, (96, 72)), "JPEG", quality=90), "indexed")

    import pillow_heif

    pillow_heif.register_heif_opener()
    originals = {
        "jpg": _encode(scene(1, (160, 120)), "JPEG", quality=90),
        "png": _encode(scene(2, (160, 120)), "PNG"),
        "webp": _encode(scene(3, (160, 120)), "WEBP", quality=80),
        "heic": _encode(scene(4, (160, 120)), "HEIF"),
        "tif": _encode(scene(5, (160, 120)), "TIFF", compression="tiff_deflate"),
    }
    for ext, data in originals.items():
        put(f"truncated-half.{ext}", data[: len(data) // 2], "failed")
        put(f"truncated-header.{ext}", data[:24], "failed")
        put(f"corrupted.{ext}", _corrupt(data, len(ext)), "either")
        put(f"empty.{ext}", b"", "failed")

    put("pixel-bomb.png", _encode(Image.new("1", (20000, 20000)), "PNG"), "failed")
    put("huge-header.png", _png_header_only(65535, 65535), "failed")
    put("huge-header-under-limit.png", _png_header_only(12000, 12000), "failed")
    put("zip-bomb-text.png", _png_text_bomb(), "either")
    put("big-but-allowed.png", _png_idat_bomb(), "indexed")
    put("gif-10000-frames.gif", _gif_many_frames(10_000), "indexed")
    put("exif-garbage.jpg", _jpeg_with_exif(b"\xde\xad\xbe\xef" * 40), "indexed")
    put("exif-bad-orientation.jpg", _jpeg_with_exif(_exif_bad_orientation()), "indexed")
    put("exif-loop.jpg", _jpeg_with_exif(_exif_loop()), "indexed")
    put("png-named.jpg", originals["png"], "indexed")
    put("jpeg-named.heic", originals["jpg"], "indexed")
    put("text-named.png", b"Dear diary,\nnot a picture at all.\n", "failed")
    put("binary-named.webp", bytes(range(256)) * 8, "failed")
    put(b"invalid-utf8-\xff\xfe.jpg", originals["jpg"], "indexed")
    put("new\nline.jpg", originals["jpg"], "indexed")
    put("tab\tand 'quotes\" .jpg", originals["jpg"], "indexed")

    _videos(put, folder)

    _documents(put, folder)

    deep = folder
    while len(os.fsencode(deep)) < 3700:
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    put("x" * 200 + ".jpg", originals["jpg"], "indexed", where=deep)

    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "self-loop.jpg").symlink_to(folder / "self-loop.jpg")
    (folder / "dangling.jpg").symlink_to(folder / "does-not-exist.jpg")
    os.mkfifo(folder / "pipe.jpg")
    os.mkfifo(folder / "pipe-without-extension")
    for device in ("/dev/zero", "/dev/urandom"):
        if os.path.exists(device):
            (folder / f"{Path(device).name}.png").symlink_to(device)
    return expect


def _documents(put: Callable[[str, bytes, str], None], folder: Path) -> None:
    """Malformed and hostile PDFs, office files, e-books, web pages and RTF."""
    scratch = folder.parent / f"{folder.name}-sources"
    scratch.mkdir(exist_ok=True)
    pdf = pdf_bytes([["A fine page"], ["Another fine page"]])
    docx = docx_file(scratch / "d.docx", ["A paragraph", "Another one"]).read_bytes()
    pptx = pptx_file(scratch / "p.pptx", ["A slide"]).read_bytes()
    put("fine.pdf", pdf, "indexed")
    put("truncated-half.pdf", pdf[: len(pdf) // 2], "either")  # PDFium rebuilds what it can
    put("garbage.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 16, "failed")
    put("encrypted.pdf", encrypted_pdf(), "failed")
    put("bomb.pdf", pdf_bomb(), "failed")
    put("zip-bomb.docx", zip_bomb_docx(scratch / "z.docx").read_bytes(), "failed")
    put("truncated.docx", docx[: len(docx) // 2], "failed")
    put("corrupted.docx", _corrupt(docx, 3), "either")
    put("truncated.pptx", pptx[:200], "failed")
    put("pdf-named.docx", pdf, "failed")
    put("empty.odt", b"", "failed")
    put("not-a-zip.epub", b"PK\x03\x04" + bytes(range(256)) * 4, "failed")
    put("binary.html", bytes(range(256)) * 8, "either")
    put("unbalanced.rtf", b"{\\rtf1 {{{ unbalanced \\par", "either")
    put("nul-bytes.py", b"print(1)\x00\x00\x00" * 10, "failed")
