"""Text in pictures: real OCR (RapidOCR's PP-OCR models) on drawn text, the later pass that
makes it searchable, and the boxes the preview draws.

The OCR models load once per session (the process's shared reader); pictures stay small.
"""

from pathlib import Path

import numpy as np
import pytest
from docgen import text_picture
from imagegen import save_scene, scene
from PIL import Image, ImageFilter

from desktop_app.core.engine import Engine
from desktop_app.core.ocr import reader as ocr
from desktop_app.core.ocr.reader import TextLine, TextReader, flat_share


@pytest.fixture(scope="session")
def text_reader() -> TextReader:
    return ocr.shared_reader()


@pytest.fixture
def recognitions(text_reader: TextReader, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many boxes each call of the recognition model was given, from now on."""
    calls: list[int] = []
    recognise = text_reader.recognise

    def counted(pixels: np.ndarray, boxes: np.ndarray) -> list[TextLine]:
        calls.append(len(boxes))
        return recognise(pixels, boxes)

    monkeypatch.setattr(text_reader, "recognise", counted)
    return calls


CASES = [
    pytest.param(["Hardware Store Receipt", "Invoice 4471"], 34, 0, False, 0.0, id="sans-light"),
    pytest.param(["Parking Permit", "Zone B7"], 40, 1, True, 0.0, id="serif-bold-dark"),
    pytest.param(["Meeting at noon", "Room 212"], 28, 2, False, 6.0, id="mono-rotated"),
    pytest.param(["MAIN STREET"], 56, 0, True, -4.0, id="sign-dark-rotated"),
    pytest.param(["Total due 23.50 EUR"], 20, 0, False, 0.0, id="small-print"),
]


@pytest.mark.parametrize(("lines", "size", "which", "dark", "angle"), CASES)
def test_drawn_words_come_back_exactly(
    text_reader: TextReader,
    lines: list[str],
    size: int,
    which: int,
    dark: bool,
    angle: float,
) -> None:
    picture = text_picture(lines, size=size, which=which, dark=dark, angle=angle)
    read = text_reader.read(picture)
    assert [line.text for line in read] == lines
    for line in read:
        assert len(line.box) == 4 and all(0 <= x <= 1 and 0 <= y <= 1 for x, y in line.box)
        assert line.score >= ocr.MIN_SCORE


def _photo() -> Image.Image:
    return scene(11, (640, 480)).filter(ImageFilter.GaussianBlur(2))


def test_a_photo_without_text_is_only_looked_at(
    text_reader: TextReader, recognitions: list[int]
) -> None:
    assert text_reader.read(_photo()) == []
    assert recognitions == [], "the recognition model ran on a photo with no text"
    assert text_reader.read(text_picture(["Exit only"])) and recognitions == [1]


def test_screens_are_looked_at_in_detail_and_photos_at_a_glance() -> None:
    screen = np.asarray(text_picture(["a", "b"]))
    assert flat_share(screen) >= ocr.FLAT_SHARE
    grainy = np.asarray(scene(2, (320, 240)), dtype=np.int16)
    grain = np.random.default_rng(2).integers(-9, 10, size=(240, 320, 1), dtype=np.int16)
    assert flat_share(np.clip(grainy + grain, 0, 255).astype(np.uint8)) < ocr.FLAT_SHARE


def test_tiny_pictures_are_not_read(text_reader: TextReader, recognitions: list[int]) -> None:
    assert text_reader.read(Image.new("RGB", (4, 300), "white")) == []
    assert recognitions == []


@pytest.fixture
def signs(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    text_picture(["Hardware Store Receipt", "Invoice 4471"]).save(folder / "receipt.png")
    text_picture(["Quarterly revenue", "up 12 percent"], dark=True).save(folder / "slide.png")
    text_picture(["Lost cat", "call 555 0199"], which=1, angle=5).convert("RGB").save(
        folder / "poster.jpg", quality=92
    )
    for seed in range(3):
        save_scene(folder / f"holiday-{seed}.jpg", seed=seed, size=(320, 240))
    return folder


def test_words_in_pictures_are_found_after_the_look_pass(engine: Engine, signs: Path) -> None:
    engine.add_root(signs)
    phases = list(dict.fromkeys(p.phase for p in engine.index()))
    assert phases.index("images") < phases.index("text in images") < phases.index("done")
    assert engine.status().counts["image"] == {"indexed": 6}
    for query, name, words in [
        ("invoice 4471 hardware store", "receipt.png", "Hardware Store Receipt Invoice 4471"),
        ("quarterly revenue", "slide.png", "Quarterly revenue up 12 percent"),
        ("lost cat", "poster.jpg", "Lost cat call 555 0199"),
    ]:
        best = engine.search(query, k=3)[0]
        assert (Path(best.path).name, best.snippet) == (name, words)
        assert best.span is not None and best.span.unit == "line"
    lines = engine.text_lines(str(signs / "receipt.png"))
    assert [line.text for line in lines] == ["Hardware Store Receipt", "Invoice 4471"]
    assert engine.text_lines(str(signs / "holiday-0.jpg")) == []


def test_more_like_a_picture_without_text_still_answers(engine: Engine, signs: Path) -> None:
    engine.add_root(signs)
    list(engine.index())
    photo = engine.file(str(signs / "holiday-1.jpg"))
    similar = engine.similar(photo.id, k=3)
    assert similar and photo.id not in {hit.file_id for hit in similar}


def test_a_second_run_reads_nothing_again(
    engine: Engine, signs: Path, recognitions: list[int]
) -> None:
    engine.add_root(signs)
    list(engine.index())
    recognitions.clear()
    phases = list(dict.fromkeys(p.phase for p in engine.index()))
    assert phases == ["scanning", "done"] and recognitions == []
