"""Videos through the whole pipeline: indexed beside photos, found by a picture at the right
moment, More like this from a frame, thumbnails of a moment, the CLI's place and JSON."""

import argparse
import json
import os
from pathlib import Path

import pytest
from imagegen import save_scene, scene
from PIL import Image
from videogen import write_video

from desktop_app.cli_search import UsageError, parse_moment, print_hits
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import Span
from desktop_app.core.searching.filters import Filters

SHOTS = [(11, 3), (12, 3), (13, 3)]  # seed, seconds: shot 12 runs from 3 s to 6 s
SIZE = (160, 96)


def shot_picture(seed: int) -> Image.Image:
    """The first frame of a shot, as a person's photo of the same scene."""
    return scene(seed, (SIZE[0] + 40, SIZE[1] + 40)).crop((0, 0, *SIZE))


@pytest.fixture
def library(tmp_path: Path, engine: Engine) -> tuple[Engine, Path]:
    folder = tmp_path / "media"
    write_video(folder / "holiday.mp4", SHOTS, size=SIZE)
    write_video(folder / "phone.mp4", [(21, 2), (22, 2)], size=SIZE, rotation=90)
    for seed in (31, 32, 33):
        save_scene(folder / f"photo{seed}.jpg", seed, SIZE)
    shot_picture(12).save(folder / "still12.png")
    engine.add_root(folder)
    list(engine.index())
    return engine, folder


def test_a_video_is_indexed_with_its_details(library: tuple[Engine, Path]) -> None:
    engine, folder = library
    assert engine.status().counts["video"] == {"indexed": 2}
    record = engine.file(folder / "phone.mp4")
    assert (record.width, record.height) == (96, 160)  # upright
    assert record.duration == pytest.approx(4.0, abs=0.2)
    details = json.loads(record.media or "{}")
    assert details["codec"] == "h264" and details["rotation"] == 90
    assert details["frames"] == 2 and details["skipped"] == []
    assert record.taken_at == pytest.approx(os.stat(folder / "phone.mp4").st_mtime, abs=1)
    spans = engine.moments(folder / "holiday.mp4")
    assert {0.0, 3.0, 6.0} <= {s.start for s in spans}  # each cut, and more as shots pan
    assert spans[-1].end == pytest.approx(9.0, abs=0.2)


def test_a_frame_is_found_by_its_picture_at_the_right_moment(
    library: tuple[Engine, Path], tmp_path: Path
) -> None:
    engine, folder = library
    query = tmp_path / "query.png"
    shot_picture(12).save(query)
    hits = engine.search_image(query, k=3, filters=Filters(types=("video",)))
    assert hits[0].path == str(folder / "holiday.mp4")
    assert hits[0].moment == 3.0
    assert hits[0].span == Span(3.0, 6.0, "second")
    data = hits[0].as_dict()
    assert (data["start"], data["end"]) == (3.0, 6.0)
    mixed = engine.search_image(query, k=2)
    assert {h.path for h in mixed} == {str(folder / "still12.png"), str(folder / "holiday.mp4")}


def test_more_like_a_frame_finds_the_photo_of_that_moment(library: tuple[Engine, Path]) -> None:
    engine, folder = library
    like_frame = engine.similar(folder / "holiday.mp4", k=1, at=4.5)
    assert like_frame[0].path == str(folder / "still12.png")
    like_other = engine.similar(folder / "holiday.mp4", k=1, at=0.0)
    assert like_other[0].path != str(folder / "still12.png") or like_other[0].score < (
        like_frame[0].score
    )


def test_a_thumbnail_shows_the_frame_at_the_moment(library: tuple[Engine, Path]) -> None:
    engine, folder = library
    first = engine.thumbnail(folder / "holiday.mp4", 64)
    later = engine.thumbnail(folder / "holiday.mp4", 64, at=3.0)
    assert first and later and first != later
    with Image.open(later) as picture:
        assert max(picture.size) == 64
    with Image.open(engine.thumbnail(folder / "phone.mp4", 64) or "") as upright:
        assert upright.height > upright.width


def test_reindexing_an_unchanged_video_embeds_nothing(
    library: tuple[Engine, Path], picture_batches: list[int]
) -> None:
    engine, _ = library
    list(engine.index())
    assert picture_batches == []


def test_the_cli_prints_the_stretch_and_json_start_end(
    library: tuple[Engine, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, folder = library
    query = tmp_path / "query.png"
    shot_picture(12).save(query)
    hits = engine.search_image(query, k=1, filters=Filters(types=("video",)))
    print_hits(hits, argparse.Namespace(all=True, json=False))
    assert f"{folder / 'holiday.mp4'} @ 00:03-00:06" in capsys.readouterr().out
    print_hits(hits, argparse.Namespace(all=True, json=True))
    hit = json.loads(capsys.readouterr().out)["results"][0]
    assert (hit["start"], hit["end"], hit["moment"]) == (3.0, 6.0, 3.0)
    assert hit["media"]["codec"] == "h264"
    assert parse_moment("03:41") == 221.0 and parse_moment("1:00:05") == 3605.0
    with pytest.raises(UsageError, match="MM:SS"):
        parse_moment("soon")
