"""DNG files for tests, written offline with tifffile: a Bayer sensor image in a SubIFD and,
optionally, a preview in the main IFD (as cameras and Adobe's converter write them)."""

from pathlib import Path

import numpy as np
import tifffile
from imagegen import scene

_DNG_VERSION = (50706, "B", 4, (1, 4, 0, 0), True)
_WHITE_LEVEL = (50717, "I", 1, 4095, True)
_CFA = [(33421, "H", 2, (2, 2), True), (33422, "B", 4, (0, 1, 1, 2), True)]  # RGGB


def _camera(make: str, model: str) -> list[tuple]:
    return [
        (50708, "s", 0, f"{make} {model}", True),  # UniqueCameraModel
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (306, "s", 0, "2022:08:15 09:30:00", True),
    ]


def bayer(seed: int, size: tuple[int, int]) -> np.ndarray:
    """A 12-bit RGGB mosaic of a test scene."""
    w, h = size
    rgb = np.asarray(scene(seed, (w, h)), dtype=np.uint16) * 16
    mosaic = np.empty((h, w), dtype=np.uint16)
    mosaic[0::2, 0::2] = rgb[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = rgb[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = rgb[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return mosaic


def write_dng(
    path: Path,
    *,
    seed: int = 0,
    size: tuple[int, int] = (384, 256),
    preview: str | None = "jpeg",  # "jpeg", "bitmap" or None
    preview_size: tuple[int, int] | None = None,
    orientation: int = 1,
    make: str = "Testmaker",
    model: str = "TM-1",
) -> Path:
    """A DNG of a test scene; ``preview`` says what the main IFD holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    camera = [*_camera(make, model), (274, "H", 1, orientation, True), _DNG_VERSION]
    raw_tags = [*_CFA, _WHITE_LEVEL]
    with tifffile.TiffWriter(path) as tif:
        if preview is None:
            tif.write(
                bayer(seed, size),
                photometric=32803,
                subfiletype=0,
                extratags=camera + raw_tags,
                metadata=None,
            )
            return path
        shown = np.asarray(scene(seed, preview_size or size), dtype=np.uint8)
        compression = "jpeg" if preview == "jpeg" else None
        tif.write(
            shown,
            photometric="rgb",
            compression=compression,
            subfiletype=1,
            subifds=1,
            extratags=camera,
            rowsperstrip=shown.shape[0],
            metadata=None,
        )
        tif.write(bayer(seed, size), photometric=32803, subfiletype=0, extratags=raw_tags)
    return path
