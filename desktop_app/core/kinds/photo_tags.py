"""The words a camera or a photo manager wrote about a picture, and whether a camera took it.

People tag and caption their photos in digiKam, Lightroom, darktable, or their camera's app;
those words are the most exact description a picture will ever have. They live in three
places, all read here: EXIF (description, artist, Windows' XP title/keywords, lens), IPTC
(keywords, caption, headline, by-line, city) and XMP, embedded in the file or in a sidecar
beside it (``photo.jpg.xmp`` as darktable writes it, ``photo.xmp`` as Lightroom and digiKam
do): Dublin Core title, description, subject and creator, Lightroom's hierarchical keywords,
digiKam's tag paths, people and places.

A picture whose EXIF records an exposure (time, aperture or ISO) came out of a camera; one
without, of a screen or an editor: the "camera photo" / "screenshot" filter.

Everything here is optional metadata from arbitrary files: any failure means "no words", never
an error for the file.
"""

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, IptcImagePlugin

if TYPE_CHECKING:  # lxml loads at the first XMP packet: a search never needs it
    from lxml import etree

_EXIF_IFD = 0x8769
_DESCRIPTION, _ARTIST = 0x010E, 0x013B
_XP_TAGS = (0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F)  # title, comment, author, keywords, subject
_USER_COMMENT = 0x9286
_LENS_MAKE, _LENS_MODEL = 0xA433, 0xA434
_EXPOSURE_TAGS = (0x829A, 0x829D, 0x8827)  # exposure time, f-number, ISO
# XMP properties that hold words, by local name (their namespace varies between writers).
_XMP_WORDS = frozenset(
    {
        "title",
        "description",
        "subject",
        "creator",
        "hierarchicalSubject",  # Lightroom, darktable: "Places|France|Paris"
        "TagsList",  # digiKam: "People/Anna"
        "Headline",
        "PersonInImage",
        "Location",
        "City",
        "State",
        "Country",
        "Lens",
        "LensModel",
        "Event",
    }
)
# IPTC-IIM datasets: object name, keywords, by-line, city, country, headline, caption.
_IPTC_WORDS = ((2, 5), (2, 25), (2, 80), (2, 90), (2, 101), (2, 105), (2, 120))
# Text that cameras write into the description of every picture: not a person's words.
_CAMERA_BOILERPLATE = frozenset(
    {"olympus digital camera", "sony dsc", "digital camera", "samsung", "default", "untitled"}
)
MAX_TAG_CHARS = 4000
MAX_SIDECAR_BYTES = 2 * 1024 * 1024
SEPARATOR = " · "


@functools.cache
def _xmp_parser() -> "etree.XMLParser":
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )


@dataclass(frozen=True)
class PhotoTags:
    words: str | None  # the tags and captions, joined by " · "
    exposure: bool | None  # EXIF exposure data present (None: not a picture with EXIF at all)


def embedded_tags(image: Image.Image) -> PhotoTags:
    """The words in a picture's own EXIF, IPTC and XMP, and whether EXIF records an exposure.
    Call it on an opened image before or after ``load``."""
    try:
        values, exposure = exif_words(image.getexif())
    except Exception:  # EXIF in the wild is arbitrary: no words from it
        values, exposure = [], False
    values.extend(_iptc_words(image))
    packet = _xmp_packet(image)
    if packet:
        values.extend(xmp_words(packet))
    return PhotoTags(join(values), exposure)


def exif_words(exif: Image.Exif) -> tuple[list[str | None], bool]:
    """The words of an EXIF block (and of the XMP packet a TIFF keeps in tag 700), and whether
    it records an exposure. May raise on damaged EXIF."""
    sub = exif.get_ifd(_EXIF_IFD)
    values = [_text(exif.get(tag)) for tag in (_DESCRIPTION, _ARTIST)]
    values += [_xp_text(exif.get(tag)) for tag in _XP_TAGS]
    values += [_user_comment(sub.get(_USER_COMMENT))]
    values += [_text(sub.get(tag)) for tag in (_LENS_MAKE, _LENS_MODEL)]
    packet = exif.get(700)
    if isinstance(packet, (bytes, bytearray)):
        values.extend(xmp_words(bytes(packet)))
    exposure = any(sub.get(tag) not in (None, 0, "") for tag in _EXPOSURE_TAGS)
    return values, exposure


def sidecar_words(path: str) -> list[str]:
    """The words of an XMP sidecar beside ``path`` (``photo.jpg.xmp`` or ``photo.xmp``)."""
    stem = os.path.splitext(path)[0]
    for candidate in (path + ".xmp", path + ".XMP", stem + ".xmp", stem + ".XMP"):
        try:
            with open(candidate, "rb") as handle:
                packet = handle.read(MAX_SIDECAR_BYTES + 1)
        except OSError:
            continue
        if len(packet) <= MAX_SIDECAR_BYTES:
            return xmp_words(packet)
    return []


def xmp_words(packet: bytes) -> list[str]:
    """Words from an XMP packet: every property named in :data:`_XMP_WORDS`, as an element
    (with its ``rdf:li`` items) or as an attribute of ``rdf:Description``."""
    from lxml import etree

    try:
        root = etree.fromstring(packet.strip(b"\x00 \t\r\n"), _xmp_parser())
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    words: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        for name, value in element.attrib.items():
            if etree.QName(name).localname in _XMP_WORDS:
                words.append(value)
        if etree.QName(element).localname not in _XMP_WORDS:
            continue
        items = [li.text for li in element.iter() if _local(li) == "li" and li.text]
        words += items or ([element.text] if element.text else [])
    return [part for word in words for part in _tag_path(word)]


def join(values: Iterable[str | None]) -> str | None:
    """Distinct non-empty values, in order, joined by :data:`SEPARATOR`, bounded."""
    seen: dict[str, str] = {}
    for value in values:
        text = " ".join((value or "").split())
        if text and text.lower() not in _CAMERA_BOILERPLATE:
            seen.setdefault(text.lower(), text)
    joined = SEPARATOR.join(seen.values())
    return joined[:MAX_TAG_CHARS] or None


def _local(element: "etree._Element") -> str:
    from lxml import etree

    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _tag_path(tag: str) -> list[str]:
    """A hierarchical tag ("People|Family|Anna", "Places/Paris") as its parts."""
    for separator in ("|", "/"):
        if separator in tag:
            return [part.strip() for part in tag.split(separator) if part.strip()]
    return [tag]


def _xmp_packet(image: Image.Image) -> bytes | None:
    """The XMP packet Pillow found (JPEG APP1, PNG iTXt, WebP chunk, TIFF tag 700)."""
    info = image.info
    for key in ("xmp", "XML:com.adobe.xmp"):
        packet = info.get(key)
        if packet:
            return packet.encode("utf-8") if isinstance(packet, str) else bytes(packet)
    tag = getattr(image, "tag_v2", None)
    if tag is not None:
        value = tag.get(700)
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if isinstance(value, str):
            return value.encode("utf-8")
    return None


def _iptc_words(image: Image.Image) -> list[str]:
    try:
        info = IptcImagePlugin.getiptcinfo(image) or {}  # type: ignore[arg-type]
    except Exception:  # damaged IPTC blocks: no words from them
        return []
    words: list[str] = []
    for key in _IPTC_WORDS:
        value = info.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bytes):
                words.append(_decode(item))
    return words


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = _decode(value)
    if isinstance(value, str):
        return value.strip("\x00 ").strip() or None
    return None


def _xp_text(value: object) -> str | None:
    """Windows' XP tags: UTF-16LE bytes (or a tuple of byte values), NUL-terminated."""
    if isinstance(value, tuple):
        value = bytes(v for v in value if isinstance(v, int) and 0 <= v < 256)
    if not isinstance(value, bytes):
        return _text(value)
    return value.decode("utf-16-le", errors="ignore").strip("\x00 ").replace(";", SEPARATOR)


def _user_comment(value: object) -> str | None:
    """EXIF UserComment: an 8-byte character code, then the text."""
    if not isinstance(value, bytes):
        return _text(value)
    code, body = value[:8], value[8:]
    if code.startswith(b"UNICODE"):
        order = "utf-16-be" if body[:1] == b"\x00" else "utf-16-le"
        return body.decode(order, errors="ignore").strip("\x00 ").strip() or None
    return _text(body)
