"""Videos: sampling, rotation, metadata and the bounds on work, with clips PyAV writes here."""

import json
from pathlib import Path

import numpy as np
import pytest
from imagegen import scene
from PIL import Image
from videogen import (
    shot_frames,
    upright,
    write_audio_only,
    write_vfr_video,
    write_video,
    y4m_header_only,
)

from desktop_app.core.kinds import registry, video_frames
from desktop_app.core.kinds.base import CLIP, DecodeError, Span
from desktop_app.core.kinds.video import VideoExtractor, frame_units
from desktop_app.core.searching.segments import segment

SIZE = (160, 96)


def grey_distance(a: Image.Image, b: Image.Image) -> float:
    small = (32, 32)
    left = np.asarray(a.convert("L").resize(small), np.float32)
    right = np.asarray(b.convert("L").resize(small), np.float32)
    return float(np.mean(np.abs(left - right))) / 255


def first_frame(seed: int, rotation: int = 0) -> Image.Image:
    array, _ = shot_frames([(seed, 0.1)], SIZE, 10)[0]
    return upright(Image.fromarray(array), rotation)


def test_a_static_shot_gives_one_frame_and_each_cut_another(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "cuts.mp4", [(1, 3), (2, 2), (3, 3)], pan=False)
    sampled = video_frames.sample(str(clip), 64)
    assert [when for when, _ in sampled.frames] == [0.0, 3.0, 5.0]
    for (_, picture), seed in zip(sampled.frames, (1, 2, 3), strict=True):
        resized = first_frame(seed).resize(picture.size)
        assert grey_distance(picture, resized) < 0.05
    assert min(sampled.frames[0][1].size) == 64  # scaled down in the decoder
    info = sampled.info
    assert (info.width, info.height, info.codec, info.rotation) == (160, 96, "h264", 0)
    assert info.duration == pytest.approx(8.0, abs=0.2)
    assert info.fps == pytest.approx(10.0)
    assert sampled.notes == []


def test_a_portrait_phone_video_is_turned_upright(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "phone.mp4", [(4, 2)], rotation=90)
    sampled = video_frames.sample(str(clip), 64)
    assert (sampled.info.width, sampled.info.height, sampled.info.rotation) == (96, 160, 90)
    (_, picture), *_ = sampled.frames
    assert picture.height > picture.width
    expected = first_frame(4, rotation=90).resize(picture.size)
    assert grey_distance(picture, expected) < 0.05
    wrong_way = first_frame(4, rotation=270).resize(picture.size)
    assert grey_distance(picture, wrong_way) > 0.08
    shown = video_frames.frame_at(str(clip), 1.0, 64)
    assert shown.height > shown.width


def test_sparse_keyframes_are_filled_every_few_seconds(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "screen.mp4", [(1, 2), (2, 8), (3, 8)], gop=10_000)
    sampled = video_frames.sample(str(clip), 48)
    times = [when for when, _ in sampled.frames]
    # One keyframe in 18 s: the shots after it are still seen, within MAX_GAP_S of their start.
    assert times[0] == 0.0
    assert any(2 < t <= 2 + video_frames.MAX_GAP_S + 0.2 for t in times)
    assert any(10 < t <= 10 + video_frames.MAX_GAP_S + 0.2 for t in times)


def test_the_container_date_is_the_date_taken(tmp_path: Path) -> None:
    clip = write_video(
        tmp_path / "dated.mp4", [(1, 1)], creation_time="2021-05-01T10:00:00.000000Z"
    )
    assert video_frames.probe(str(clip)).created_at == pytest.approx(1619863200.0)
    assert video_frames.probe(str(write_video(tmp_path / "plain.mp4", [(1, 1)]))).created_at is None


def test_webm_vp9_and_matroska_read(tmp_path: Path) -> None:
    webm = write_video(tmp_path / "clip.webm", [(5, 2), (6, 2)], codec="libvpx-vp9")
    assert video_frames.sample(str(webm), 48).info.codec == "vp9"
    mkv = write_video(tmp_path / "clip.mkv", [(5, 2)], codec="mpeg4")
    assert len(video_frames.sample(str(mkv), 48).frames) >= 1


def test_a_long_video_is_sampled_sparsely_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(video_frames, "MAX_FRAMES", 4)
    clip = write_video(tmp_path / "lecture.mp4", [(s, 1) for s in range(12)], size=(64, 48))
    sampled = video_frames.sample(str(clip), 32)
    assert len(sampled.frames) <= 4
    assert any("one frame every" in note for note in sampled.notes)


def test_a_decode_over_its_budget_keeps_what_it_has_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_video(tmp_path / "slow.mp4", [(1, 2), (2, 2), (3, 2)])
    with pytest.raises(DecodeError, match="took too long"):
        video_frames.sample(str(clip), 32, budget_s=0.0)
    # A clock that runs out after the first two frames were offered.
    ticks = iter([0.0] * 13)  # the deadline, then a check per packet: 10 a second
    monkeypatch.setattr(video_frames.time, "monotonic", lambda: next(ticks, 1e9))
    sampled = video_frames.sample(str(clip), 32, budget_s=10.0)
    assert len(sampled.frames) < 3
    assert any("took too long to read: frames after" in note for note in sampled.notes)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(y4m_header_only(12000, 12000)), "too large to decode safely"),
        (lambda p: p.write_bytes(y4m_header_only(20000, 20000)), "not a readable video"),
        (lambda p: p.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100), "not a readable"),
        (lambda p: write_audio_only(p), "sound only"),
    ],
    ids=["empty", "huge-header", "huge-beyond-ffmpeg", "header-only", "audio-only"],
)
def test_unusable_files_give_a_clear_error(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "bad.mp4"
    assert callable(make)
    make(path)
    with pytest.raises(DecodeError, match=message):
        video_frames.sample(str(path), 32)


def test_a_truncated_video_keeps_the_frames_before_the_cut(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "whole.mkv", [(1, 2), (2, 2), (3, 2)], codec="libx264")
    data = clip.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 2 // 3])
    sampled = video_frames.sample(str(cut), 32)
    assert 1 <= len(sampled.frames) < 3 or sampled.notes


def test_units_span_to_the_next_frame_and_segments_merge() -> None:
    info = video_frames.VideoInfo(160, 96, 9.0, 10.0, "h264", 0, None, False)
    pictures = [(t, scene(t, (32, 32))) for t in (0.0, 3.0, 5.0)]
    units = frame_units(video_frames.Sampled(info, pictures), lambda p: p)
    assert [u.span for u in units] == [
        Span(0.0, 3.0, "second"),
        Span(3.0, 5.0, "second"),
        Span(5.0, 9.0, "second"),
    ]
    assert all(u.space == CLIP for u in units)
    spans = [u.span for u in units]
    found = [(0.30, spans[1]), (0.29, spans[2]), (0.20, spans[0])]
    assert segment(spans[1], 0.30, found, floor=0.10) == Span(3.0, 9.0, "second")
    assert segment(spans[1], 0.30, found, floor=0.27) == spans[1]  # all scores bunched
    assert Span(3.0, 9.0, "second").describe() == "@ 00:03"


def test_the_registry_claims_videos_by_extension_and_by_header(tmp_path: Path) -> None:
    assert registry.kind_of("/x/a.MOV", "a.MOV") == "video"
    assert registry.kind_of_type("webm") == "video"
    clip = write_video(tmp_path / "noext.mp4", [(1, 1)])
    bare = clip.rename(tmp_path / "noext")
    assert registry.kind_of(str(bare), "noext") == "video"


def test_a_pass_without_frames_reads_the_header_only(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "c.mp4", [(1, 1)], rotation=90)

    class NoClip:
        def wants(self, space: str) -> bool:
            return False

    class Path_:
        path = str(clip)

        def read(self) -> bytes:
            raise AssertionError("a video is streamed, never read whole")

    extracted = VideoExtractor().extract(Path_(), NoClip())  # type: ignore[arg-type]
    assert extracted.units == []
    assert (extracted.meta["width"], extracted.meta["height"]) == (96, 160)
    assert extracted.meta["media"] is None
    details = json.loads(json.dumps({"x": 1}))
    assert details == {"x": 1}


def test_variable_frame_rate_and_a_size_change_mid_stream_read(tmp_path: Path) -> None:
    vfr = video_frames.sample(str(write_vfr_video(tmp_path / "vfr.mp4", [(1, 2), (2, 2)])), 32)
    times = [when for when, _ in vfr.frames]
    assert times == sorted(times) and len(times) == 2 and times[1] > 1.0
    first = write_video(tmp_path / "a.ts", [(1, 1)], size=(160, 96)).read_bytes()
    second = write_video(tmp_path / "b.ts", [(2, 1)], size=(64, 64)).read_bytes()
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first + second)
    sizes = {picture.size for _, picture in video_frames.sample(str(joined), 32).frames}
    assert (53, 32) in sizes  # the first part, 5:3; the square part may share its timestamps


def test_damaged_packets_are_skipped_and_counted(tmp_path: Path) -> None:
    data = bytearray(write_video(tmp_path / "a.ts", [(1, 2), (2, 2), (3, 2)]).read_bytes())
    for start in range(len(data) // 3, len(data) // 3 + 4000, 188):  # TS packets mid-stream
        data[start + 4 : start + 60] = bytes(56)
    damaged = tmp_path / "damaged.ts"
    damaged.write_bytes(bytes(data))
    sampled = video_frames.sample(str(damaged), 32)
    assert sampled.frames and sampled.frames[0][0] == 0.0
