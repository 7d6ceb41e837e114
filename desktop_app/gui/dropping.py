"""What a drop or a paste carries: folders to add, or a picture to search by."""

import os
from dataclasses import dataclass, field

from PySide6.QtCore import QBuffer, QMimeData
from PySide6.QtGui import QImage

from desktop_app.core.kinds.image import IMAGE_EXTENSIONS, sniff


@dataclass
class Dropped:
    folders: list[str] = field(default_factory=list)
    picture_file: str | None = None  # a local image file
    picture_bytes: bytes | None = None  # image data without a file (a browser image, a paste)
    picture: QImage | None = None


def read_mime(mime: QMimeData) -> Dropped:
    paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
    dropped = Dropped(folders=[p for p in paths if os.path.isdir(p)])
    files = [p for p in paths if os.path.isfile(p) and _is_picture(p)]
    if files:
        dropped.picture_file = files[0]
    elif mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            dropped.picture, dropped.picture_bytes = image, png_bytes(image)
    return dropped


def png_bytes(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QBuffer.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; str works
    return bytes(buffer.data().data())


def _is_picture(path: str) -> bool:
    if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
        return True
    try:
        with open(path, "rb") as handle:
            return sniff(handle.read(16)) is not None
    except OSError:
        return False
