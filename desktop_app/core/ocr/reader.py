"""Text lines read in a picture, with where they sit and how sure the model is.

Most photos hold no text, and recognition is the expensive half of OCR. So a picture is first
looked at by the detection model alone; the recognition model only reads the regions where it
found text. Photos are looked at reduced (a sign, a receipt or a page held up to the camera
stays several pixels tall); pictures with large flat areas (screenshots, scans, slides) hold
small text on a plain background and are looked at in more detail.

The models run on ONNX Runtime with one thread: the indexer's decode worker calls this while
the other core embeds. One :class:`TextReader` is shared by the whole process (models load once,
about a second); a lock keeps one picture at a time in it.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

# Longest side a picture is read at; larger ones are reduced first (a 12 MP photo to 2000 px).
MAX_SIDE = 2000
# Pictures with a shorter side than this hold no readable line.
MIN_SIDE = 12
# Longest side the detection model looks at a photo at, and a screenshot-like picture at.
GLANCE_SIDE = 352
DETAIL_SIDE = 1280
# Share of side-by-side pixel pairs that are identical above which a picture counts as flat
# (screen content, scans, slides) rather than a photo (whose sensor noise leaves few).
FLAT_SHARE = 0.35
# A text line is thinner than this share of the picture's shorter side.
MAX_LINE_SHARE = 0.5
# Lines read with less confidence than this are noise (textures that looked like text).
MIN_SCORE = 0.6

Quad = tuple[tuple[float, float], ...]  # four corners, clockwise from top left, as 0..1 shares


@dataclass(frozen=True)
class TextLine:
    """One line of text read in a picture: its words, its corners (fractions of the picture's
    width and height, so they fit any size it is shown at) and the model's confidence."""

    text: str
    box: Quad
    score: float


def flat_share(rgb: np.ndarray) -> float:
    """The share of horizontally adjacent pixels (sampled every 8th row) that are identical."""
    rows = rgb[::8, :, :]
    if rows.shape[1] < 2:
        return 1.0
    same = np.all(rows[:, 1:, :] == rows[:, :-1, :], axis=2)
    return float(same.mean())


class TextReader:
    """Detection, then recognition where text was found (see the module docstring)."""

    def __init__(self, threads: int = 1) -> None:
        from rapidocr import RapidOCR  # about 0.3 s of imports: only once OCR is wanted

        self._engine: Any = RapidOCR(
            params={
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                "Det.limit_type": "max",
                "Det.limit_side_len": DETAIL_SIDE,
            }
        )
        self._lock = threading.Lock()

    def read(
        self, picture: Image.Image, detail: Callable[[], Image.Image] | None = None
    ) -> list[TextLine]:
        """The lines of text in an upright RGB picture, top to bottom; [] when it has none.

        ``detail`` gives the same picture at a higher resolution, when ``picture`` was
        decoded reduced (a JPEG photo at 1/8 scale costs a few milliseconds): a photo is
        looked at reduced and read in detail only where text was found; a flat picture is
        looked at in detail.
        """
        if min(picture.size) < MIN_SIDE:
            return []  # an icon or a sliver: no line of text fits
        pixels = _bgr(picture)
        flat = flat_share(pixels) >= FLAT_SHARE
        if flat and detail is not None:
            pixels = _bgr(detail())
        with self._lock:
            boxes = self.detect(pixels, flat=flat)
            if not len(boxes):
                return []
            if not flat and detail is not None:
                small = pixels.shape[:2]
                pixels = _bgr(detail())
                scale = np.array([pixels.shape[1] / small[1], pixels.shape[0] / small[0]])
                boxes = (boxes * scale).astype(np.float32)
            return self.recognise(pixels, boxes)

    def detect(self, pixels: np.ndarray, *, flat: bool = False) -> np.ndarray:
        """Where text lines are (an array of quads in pixels); empty when there is none.
        A ``flat`` picture (see :func:`flat_share`) is looked at in detail."""
        detector = self._engine._load_det_model()
        detector.limit_side_len = DETAIL_SIDE if flat else GLANCE_SIDE
        found = detector(pixels)
        if found.boxes is None:
            return np.zeros((0, 4, 2), dtype=np.float32)
        boxes = np.asarray(found.boxes, dtype=np.float32)
        return boxes[[_line_shaped(box, pixels.shape[:2]) for box in boxes]].reshape(-1, 4, 2)

    def recognise(self, pixels: np.ndarray, boxes: np.ndarray) -> list[TextLine]:
        """Read the text inside each quad (turned upright when upside down)."""
        from rapidocr.ch_ppocr_rec import TextRecInput
        from rapidocr.utils.process_img import get_rotate_crop_image

        crops = [get_rotate_crop_image(pixels, box.copy()) for box in boxes]
        upright = self._engine._load_cls_model()(crops).img_list or crops
        read = self._engine._load_rec_model()(TextRecInput(img=upright))
        height, width = pixels.shape[:2]
        lines = []
        for box, text, score in zip(boxes, read.txts or (), read.scores or (), strict=False):
            words = " ".join(str(text).split())
            if score < MIN_SCORE or not any(ch.isalnum() for ch in words):
                continue
            lines.append(TextLine(words, _shares(box, width, height), round(float(score), 3)))
        return lines


def _line_shaped(box: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether a detected quad can be a line of text: thinner than half the picture. On
    smooth photos the detector sometimes outlines the whole frame, which holds no line."""
    thickness = min(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[0] - box[1]))
    return bool(thickness <= MAX_LINE_SHARE * min(shape))


def _bgr(picture: Image.Image) -> np.ndarray:
    """The picture as OpenCV's BGR array, reduced to :data:`MAX_SIDE`."""
    if max(picture.size) > MAX_SIDE:
        picture = picture.copy()
        picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(picture.convert("RGB"))[:, :, ::-1])


def _shares(box: np.ndarray, width: int, height: int) -> Quad:
    return tuple(
        (
            round(min(max(float(x) / width, 0.0), 1.0), 4),
            round(min(max(float(y) / height, 0.0), 1.0), 4),
        )
        for x, y in box
    )


_shared: TextReader | None = None
_shared_lock = threading.Lock()


def shared_reader() -> TextReader:
    """The process's reader, loaded on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TextReader()
        return _shared


def joined(lines: Sequence[TextLine]) -> str:
    """The lines as one text, one per line (how they are cut into units)."""
    return "\n".join(line.text for line in lines)
