"""The filters this issue adds: camera photos against screenshots (EXIF exposure data present
or not), files with text in them, and RAW as a file type, in the engine, the CLI and the bar."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from imagegen import scene
from PIL import Image
from pytestqt.qtbot import QtBot
from rawgen import write_dng

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.core.searching.filters import Filters, canonical
from desktop_app.gui.filter_bar import FilterBar


def save_camera_photo(path: Path, seed: int) -> None:
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x829A] = 1 / 125  # exposure time
    sub[0x829D] = 2.8  # f-number
    sub[0x8827] = 200  # ISO
    scene(seed, (160, 120)).save(path, exif=exif)


@pytest.fixture(scope="module")
def library(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_clip: OpenClipEncoder,
    minilm: SentenceTransformerEncoder,
) -> Iterator[Engine]:
    base = tmp_path_factory.mktemp("origin")
    root = base / "library"
    root.mkdir()
    save_camera_photo(root / "holiday.jpg", 1)
    scene(2, (160, 120)).save(root / "Screenshot 2024-05-01.png")
    scene(3, (160, 120)).save(root / "exported.jpg")  # no EXIF at all
    write_dng(root / "IMG_9.dng", seed=4)
    (root / "shopping.txt").write_text("Milk, eggs and bread.\n", "utf-8")
    engine = Engine(base / "home", clip_loader=lambda: tiny_clip, text_loader=lambda: minilm)
    engine.add_root(root)
    list(engine.index())
    yield engine
    engine.close()


def found(engine: Engine, filters: Filters, text: str = "something") -> set[str]:
    return {Path(h.path).name for h in engine.search(text, k=20, filters=filters)}


def test_camera_photos_and_screenshots_are_told_apart_by_exposure_data(library: Engine) -> None:
    assert found(library, Filters(origin="camera")) == {"holiday.jpg", "IMG_9.dng"}
    assert found(library, Filters(origin="screenshot")) == {
        "Screenshot 2024-05-01.png",
        "exported.jpg",
    }
    with pytest.raises(KnownError, match="Unknown origin"):
        Filters(origin="scanner")


def test_has_text_keeps_files_with_words_in_them(library: Engine) -> None:
    assert found(library, Filters(has_text=True)) == {"shopping.txt"}
    assert Filters(has_text=True).active and not Filters().active


def test_raw_is_a_file_type_by_any_of_its_extensions(library: Engine) -> None:
    assert canonical("DNG") == canonical("nef") == canonical("raw") == "raw"
    assert found(library, Filters(types=("raw",))) == {"IMG_9.dng"}
    assert found(library, Filters(types=("dng",))) == {"IMG_9.dng"}


def test_the_filter_bar_offers_origin_and_has_text(qtbot: QtBot) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    changes: list[bool] = []
    bar.changed.connect(lambda: changes.append(True))
    bar.origin.setCurrentIndex(bar.origin.findData("screenshot"))
    bar.has_text.setChecked(True)
    assert bar.filters().origin == "screenshot" and bar.filters().has_text
    assert bar.active_count() == 2 and len(changes) == 2
    assert "RAW" in [bar.file_type.itemText(i) for i in range(bar.file_type.count())]
    bar.clear()
    assert bar.filters() == Filters() and bar.active_count() == 0
