"""Broken and hostile recordings: each is one clear error or a partial transcript, never a hang
or a lost library; mutated MP3/WAV/FLAC/Ogg bytes fuzzed through the decoder and the pipeline
(with the loudness stand-in for Whisper, so hundreds of examples stay cheap)."""

import struct
import tempfile
from pathlib import Path

import pytest
from audiogen import FIXTURES, decode, tone, write, write_video_with_speech
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from speech_fakes import LoudnessTranscriber

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import DecodeError
from desktop_app.core.kinds.speech import transcribe_file

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _wav_claiming_ten_hours(samples: bytes) -> bytes:
    """A WAV whose header says 10 hours of 16 kHz sound, holding a second of it."""
    claimed = 10 * 3600 * 16_000 * 2
    header = b"RIFF" + struct.pack("<I", claimed + 36) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16_000, 32_000, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", claimed) + samples


def _video_only(path: Path) -> bytes:
    """An MP4 with a picture track and no sound, named like a recording."""
    import av
    import numpy as np

    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path.read_bytes()


# name -> (how it is made, what must become of it: a word of its error, or "indexed"/"either")
def _build(folder: Path) -> dict[str, str]:
    budget = (FIXTURES / "budget.mp3").read_bytes()
    write(folder / "good.wav", tone(2.0))
    (folder / "empty.mp3").write_bytes(b"")
    (folder / "notes.wav").write_text("these are notes, not sound\n" * 20, "utf-8")
    (folder / "pictures only.m4a").write_bytes(_video_only(folder / "tmp.mp4"))
    (folder / "tmp.mp4").unlink()
    (folder / "cut short.mp3").write_bytes(budget[: len(budget) * 2 // 5])
    middle = len(budget) // 2
    (folder / "damaged.mp3").write_bytes(budget[:middle] + b"\x00\xff" * 512 + budget[middle:])
    (folder / "ten hours.wav").write_bytes(_wav_claiming_ten_hours(b"\x10\x20" * 16_000))
    (folder / "no extension").write_bytes((folder / "good.wav").read_bytes())
    return {
        "good.wav": "indexed",
        "empty.mp3": "empty",
        "notes.wav": "not a readable recording",
        "pictures only.m4a": "no sound",
        "cut short.mp3": "indexed",
        "damaged.mp3": "either",
        "ten hours.wav": "either",
        "no extension": "indexed",
    }


def test_bad_recordings_fail_one_by_one_and_the_rest_is_indexed(
    tmp_path: Path, tiny_clip: OpenClipEncoder, minilm: SentenceTransformerEncoder
) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    expected = _build(folder)
    engine = Engine(
        tmp_path / "home",
        clip_loader=lambda: tiny_clip,
        text_loader=lambda: minilm,
        speech_loader=LoudnessTranscriber,
    )
    try:
        engine.add_root(folder)
        assert list(engine.index())[-1].phase == "done"
        for name, outcome in expected.items():
            record = engine.file(folder / name)
            assert record.kind == "audio", name
            if outcome == "indexed":
                assert record.status == "indexed", (name, record.error)
            elif outcome == "either":
                assert record.status in ("indexed", "failed"), name
            else:
                assert record.status == "failed", name
                assert record.error is not None and outcome in record.error, record.error
    finally:
        engine.close()


def test_a_cut_short_recording_keeps_the_words_before_the_cut(tmp_path: Path) -> None:
    budget = (FIXTURES / "budget.mp3").read_bytes()
    path = tmp_path / "cut.mp3"
    path.write_bytes(budget[: len(budget) // 2])
    found = transcribe_file(str(path), LoudnessTranscriber())
    assert found.segments and found.heard_s < 10.0


SEEDS: dict[str, bytes] = {}


def _seeds() -> dict[str, bytes]:
    if not SEEDS:
        samples = decode(FIXTURES / "bread.flac")[: 16_000 * 3]
        with tempfile.TemporaryDirectory() as tmp:
            for ext in (".wav", ".mp3", ".flac", ".ogg", ".m4a"):
                SEEDS[ext] = write(Path(tmp) / f"seed{ext}", samples).read_bytes()
            SEEDS[".mp4"] = write_video_with_speech(Path(tmp) / "seed.mp4", samples).read_bytes()
    return SEEDS


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid recording with a few bytes overwritten, inserted or deleted, or cut short."""
    ext = draw(st.sampled_from(sorted(_seeds())))
    data = bytearray(_seeds()[ext])
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "header"]))
        if action == "flip":
            data[where] = draw(st.integers(0, 255))
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=32))
        elif action == "delete":
            del data[where : where + draw(st.integers(1, 64))]
        elif action == "truncate":
            del data[where:]
        else:
            data[where % 64] = draw(st.integers(0, 255))
        if not data:
            break
    return ext, bytes(data)


@settings(FUZZ, max_examples=120)
@given(sample=mutated())
def test_mutated_recordings_transcribe_or_fail_cleanly(sample: tuple[str, bytes]) -> None:
    ext, data = sample
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mutated{ext}"
        path.write_bytes(data)
        try:
            found = transcribe_file(str(path), LoudnessTranscriber(), budget_s=30.0)
        except DecodeError as err:
            assert str(err)
            return
    assert found.heard_s >= 0 and all(s.end >= s.start for s in found.segments)


@pytest.mark.slow
@settings(FUZZ, max_examples=4)
@given(samples=st.lists(mutated(), min_size=6, max_size=10))
def test_mutated_recordings_through_the_index_pipeline(
    samples: list[tuple[str, bytes]],
    tiny_clip: OpenClipEncoder,
    minilm: SentenceTransformerEncoder,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "recordings"
        folder.mkdir()
        for number, (ext, data) in enumerate(samples):
            (folder / f"{number}{ext if ext != '.mp4' else '.m4a'}").write_bytes(data)
        with Engine(
            Path(tmp) / "home",
            clip_loader=lambda: tiny_clip,
            text_loader=lambda: minilm,
            speech_loader=LoudnessTranscriber,
        ) as engine:
            engine.add_root(folder)
            assert list(engine.index())[-1].phase == "done"
            counts = engine.status().counts["audio"]
            assert counts.get("pending", 0) == 0
            assert counts.get("indexed", 0) + counts.get("failed", 0) == len(samples)
