"""Switching reading text in pictures (OCR) off and on: the real pipeline with the tiny CLIP,
the real MiniLM and the real PP-OCR reader, on a handful of small pictures and one note.

Off, a picture is indexed once its look is embedded, the reader never runs, and its words find
nothing; on again, the next run reads exactly the pictures not read yet.
"""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EngineFactory
from docgen import text_picture
from imagegen import save_scene
from PIL import Image
from test_cli import cli

from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import TEXT
from desktop_app.core.ocr import reader as ocr
from desktop_app.core.settings import Settings

RECEIPT_WORDS = "Hardware Store Receipt Invoice 4471"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of every picture the OCR reader is given, from now on."""
    reader = ocr.shared_reader()
    read = reader.read
    calls: list[tuple[int, int]] = []

    def counted(
        picture: Image.Image, detail: Callable[[], Image.Image] | None = None
    ) -> list[ocr.TextLine]:
        calls.append(picture.size)
        return read(picture, detail)

    monkeypatch.setattr(reader, "read", counted)
    return calls


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    text_picture(["Hardware Store Receipt", "Invoice 4471"]).save(folder / "receipt.png")
    for seed in range(2):
        save_scene(folder / f"holiday-{seed}.jpg", seed=seed, size=(160, 120))
    (folder / "shopping.txt").write_text("Milk, eggs and bread for the weekend.\n", "utf-8")
    return folder


def _phases(engine: Engine) -> list[str]:
    """An index run's phases, in order."""
    return list(dict.fromkeys(p.phase for p in engine.index()))


def _text_hits(engine: Engine, query: str) -> list[tuple[str, str | None]]:
    """The hits that quote words read in a picture."""
    return [
        (Path(hit.path).name, hit.snippet)
        for hit in engine.search(query, k=5)
        if hit.kind == "image" and hit.snippet
    ]


def test_off_pictures_are_indexed_by_look_alone_and_on_again_reads_them(
    engine: Engine, photos: Path, reads: list[tuple[int, int]]
) -> None:
    engine.set_read_text_in_pictures(False)
    engine.add_root(photos)
    phases = _phases(engine)
    assert "text in images" not in phases and "images" in phases
    assert reads == [], "the OCR reader ran while switched off"
    status = engine.status()
    assert status.counts["image"] == {"indexed": 3}
    assert status.read_text_in_pictures is False
    [root] = engine.root_status()
    assert (root.indexed, root.pending, root.searchable) == (4, 0, 0)
    # The note's words fill the text space, which is complete without the pictures.
    [text_set] = [s for s in status.vector_sets if s["space"] == TEXT]
    assert text_set["state"] == "ready" and text_set["vectors"] == 1
    assert _text_hits(engine, "invoice 4471 hardware store") == []
    assert engine.text_lines(str(photos / "receipt.png")) == []
    # A second run has nothing to do.
    assert _phases(engine) == ["scanning", "done"]

    engine.set_read_text_in_pictures(True)
    [root] = engine.root_status()  # waiting for their words, findable by look already
    assert (root.indexed, root.pending, root.searchable) == (1, 3, 3)
    assert len(engine.browse(["image"])) == 3  # the library still shows them meanwhile
    phases = _phases(engine)
    assert phases == ["scanning", "text in images", "done"]
    assert len(reads) == 3  # each picture once; the note is not read again
    assert engine.status().counts["image"] == {"indexed": 3}
    assert _text_hits(engine, "invoice 4471 hardware store") == [("receipt.png", RECEIPT_WORDS)]
    reads.clear()
    assert _phases(engine) == ["scanning", "done"] and reads == []


def test_text_read_before_stays_searchable_when_switched_off(
    engine: Engine, photos: Path, reads: list[tuple[int, int]]
) -> None:
    engine.add_root(photos)
    list(engine.index())
    assert len(reads) == 3
    engine.set_read_text_in_pictures(False)
    text_picture(["Lost cat", "call 555 0199"]).save(photos / "sign.png")
    reads.clear()
    phases = _phases(engine)
    assert "text in images" not in phases and reads == []
    assert engine.status().counts["image"] == {"indexed": 4}
    assert _text_hits(engine, "invoice 4471 hardware store") == [("receipt.png", RECEIPT_WORDS)]
    assert [line.text for line in engine.text_lines(str(photos / "receipt.png"))] == [
        "Hardware Store Receipt",
        "Invoice 4471",
    ]
    assert not any(name == "sign.png" for name, _ in _text_hits(engine, "lost cat call"))


def test_switching_off_during_the_pass_stops_it_after_the_batch(
    engine: Engine, photos: Path, reads: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person who switches reading off while it runs does not wait for the rest."""
    from desktop_app.core.indexing import indexer

    monkeypatch.setattr(indexer, "FILE_BATCH", 1)
    monkeypatch.setattr(indexer, "BATCHES_AHEAD", 1)
    engine.add_root(photos)
    for progress in engine.index():
        if progress.phase == "text in images" and progress.done == 1:
            engine.settings.read_text_in_pictures = False  # as the settings dialog does
    assert 1 <= len(reads) < 3
    assert engine.status().counts["image"] == {"indexed": 3}


def test_old_settings_files_read_text_in_pictures(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"clip_model": "ViT-B-32", "threads": 2}), "utf-8")
    assert Settings.load(path).read_text_in_pictures is True
    settings = Settings.load(path)
    settings.read_text_in_pictures = False
    settings.save(path)
    assert Settings.load(path).read_text_in_pictures is False


def test_the_command_line_shows_and_switches_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert "OCR): on" in cli(home, "ocr").stdout
    assert "off. Pictures are indexed by their look alone" in cli(home, "ocr", "off").stdout
    assert json.loads(cli(home, "ocr", "--json").stdout) == {"read_text_in_pictures": False}
    assert "OCR:       off (pictures by look alone)" in cli(home, "status").stdout
    assert json.loads(cli(home, "status", "--json").stdout)["read_text_in_pictures"] is False
    assert Settings.load(home / "settings.json").read_text_in_pictures is False
    wrong = cli(home, "ocr", "maybe", check=False)
    assert wrong.returncode == 2 and "choose from 'on', 'off'" in wrong.stderr
    assert "snapfind-cli index" in cli(home, "ocr", "on").stdout
    assert Settings.load(home / "settings.json").read_text_in_pictures is True


def test_a_setting_changed_outside_the_app_applies_on_the_next_run(
    make_engine: EngineFactory, home: Path, photos: Path, reads: list[tuple[int, int]]
) -> None:
    """settings.json edited by hand (or by another version) between runs: the run itself puts
    the pictures' status in line before its passes."""
    engine = make_engine()
    engine.set_read_text_in_pictures(False)
    engine.add_root(photos)
    list(engine.index())
    engine.close()
    settings = Settings.load(home / "settings.json")
    settings.read_text_in_pictures = True
    settings.save(home / "settings.json")
    engine = make_engine()
    assert engine.status().counts["image"] == {"indexed": 3}  # nothing ran yet
    assert "text in images" in _phases(engine)
    assert len(reads) == 3
    assert _text_hits(engine, "invoice 4471 hardware store") == [("receipt.png", RECEIPT_WORDS)]
