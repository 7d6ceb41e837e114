"""Property-based fuzzing of videos (hypothesis): MP4, WebM and MPEG-TS (.mts) clips with bytes
overwritten, inserted, deleted or cut short are sampled without a crash or a hang (frames, or a
clear :class:`DecodeError`), and a batch of them through the index pipeline fails file by file
while an intact video stays searchable at its moment."""

import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imagegen import scene
from videogen import write_video

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.kinds import video_frames
from desktop_app.core.kinds.base import DecodeError

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SIZE = (64, 48)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("video-seeds")
    shots = [(41, 1), (42, 1)]
    return {
        "mp4": write_video(folder / "s.mp4", shots, size=SIZE).read_bytes(),
        "webm": write_video(folder / "s.webm", shots, size=SIZE, codec="libvpx-vp9").read_bytes(),
        "mts": write_video(folder / "s.ts", shots, size=SIZE).read_bytes(),
    }


Mutation = tuple[str, list[tuple[str, int, int, bytes]]]


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    """A seed's extension and a few edits (action, place as a fraction, length, bytes)."""
    ext = draw(st.sampled_from(["mp4", "webm", "mts"]))
    edits = [
        (
            draw(st.sampled_from(["flip", "insert", "delete", "truncate", "header"])),
            draw(st.integers(0, 9999)),
            draw(st.integers(1, 64)),
            draw(st.binary(min_size=1, max_size=16)),
        )
        for _ in range(draw(st.integers(1, 5)))
    ]
    return ext, edits


def mutate(data: bytes, edits: list[tuple[str, int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for action, place, length, garbage in edits:
        if not out:
            break
        where = place * len(out) // 10_000
        if action == "flip":
            out[where] = garbage[0]
        elif action == "insert":
            out[where:where] = garbage
        elif action == "delete":
            del out[where : where + length]
        elif action == "truncate":
            del out[where:]
        else:  # the first bytes, where the container's boxes and sizes start
            out[where % 64] = garbage[0]
    return bytes(out)


@settings(FUZZ, max_examples=60)
@given(sample=mutations())
def test_mutated_videos_sample_or_fail_cleanly(
    sample: Mutation, seeds: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> None:
    ext, edits = sample
    path = tmp_path_factory.mktemp("fuzz") / f"clip.{ext}"
    path.write_bytes(mutate(seeds[ext], edits))
    started = time.monotonic()
    try:
        sampled = video_frames.sample(str(path), 32, budget_s=10)
    except DecodeError as err:
        assert str(err)
        return
    finally:
        assert time.monotonic() - started < 15
    assert sampled.frames
    for when, picture in sampled.frames:
        assert np.isfinite(when) and min(picture.size) >= 2
        assert picture.mode == "RGB"


@settings(FUZZ, max_examples=3)
@given(samples=st.lists(mutations(), min_size=4, max_size=6))
def test_mutated_videos_through_the_index_pipeline(
    samples: list[Mutation],
    seeds: dict[str, bytes],
    tiny_clip: OpenClipEncoder,
    minilm: SentenceTransformerEncoder,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "videos"
        folder.mkdir()
        for i, (ext, edits) in enumerate(samples):
            (folder / f"m{i:02d}.{ext}").write_bytes(mutate(seeds[ext], edits))
        intact = write_video(folder / "intact.mp4", [(43, 1), (44, 1)], size=SIZE, pan=False)
        query = Path(tmp) / "query.png"
        scene(44, (SIZE[0] + 40, SIZE[1] + 40)).crop((0, 0, *SIZE)).save(query)
        with Engine(
            Path(tmp) / "home", clip_loader=lambda: tiny_clip, text_loader=lambda: minilm
        ) as engine:
            engine.add_root(folder)
            assert list(engine.index())[-1].phase == "done"
            counts = engine.status().counts["video"]
            assert set(counts) <= {"indexed", "failed"}
            assert sum(counts.values()) == len(samples) + 1
            assert all(rec.error for rec in engine.errors())
            hits = engine.search_image(query, k=len(samples) + 1)
            best = next(h for h in hits if h.path == str(intact))
            assert best.moment == 1.0
