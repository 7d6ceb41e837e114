"""Videos for tests, written with PyAV's encoders (no ffmpeg binary): shots made of the test
pictures from :mod:`imagegen`, with a little motion and noise so frames of a shot are alike
but not identical, an optional rotation tag, a soundtrack, and a choice of codec and GOP."""

from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from imagegen import scene
from PIL import Image

# (picture seed, seconds) per shot.
Shot = tuple[int, float]


def iter_frames(
    shots: Sequence[Shot], size: tuple[int, int], fps: int, pan: bool = True
) -> Iterator[tuple[np.ndarray, int]]:
    """(RGB frame, seed) for every frame, made as needed: each shot's picture, slowly panned
    (or still)."""
    width, height = size
    for seed, seconds in shots:
        big = np.asarray(scene(seed, (width + 40, height + 40)))
        for i in range(round(seconds * fps)):
            step = (i // 2) % 40 if pan else 0  # a slow pan: 5 px a second at 10 fps
            yield np.ascontiguousarray(big[step : step + height, step : step + width]), seed


def shot_frames(
    shots: Sequence[Shot], size: tuple[int, int], fps: int, pan: bool = True
) -> list[tuple[np.ndarray, int]]:
    return list(iter_frames(shots, size, fps, pan))


def write_video(
    path: Path,
    shots: Sequence[Shot],
    *,
    size: tuple[int, int] = (160, 96),
    fps: int = 10,
    codec: str = "libx264",
    gop: int | None = None,
    rotation: int = 0,
    audio: bool = False,
    creation_time: str | None = None,
    pan: bool = True,
) -> Path:
    """An MP4/MKV/WebM (by ``path``'s extension) of ``shots``; ``gop`` frames between keyframes
    (default: one a second); ``rotation`` is written as the display matrix a phone writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        if creation_time:
            container.metadata["creation_time"] = creation_time
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        options = {"g": str(gop or fps), "keyint_min": str(gop or fps)}
        if codec == "libx264":
            options |= {"preset": "ultrafast", "sc_threshold": "0"}
        stream.codec_context.options = options
        stream.codec_context.thread_count = 1
        if rotation:
            stream.set_display_rotation(rotation)
        sound = container.add_stream("aac", rate=16000) if audio else None
        for index, (array, _) in enumerate(iter_frames(shots, size, fps, pan)):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if sound is not None:
            _write_tone(container, sound, sum(seconds for _, seconds in shots))
    return path


def _write_tone(
    container: av.container.OutputContainer, stream: av.AudioStream, seconds: float
) -> None:
    rate = 16000
    samples = (0.2 * np.sin(np.arange(int(seconds * rate)) * 2 * np.pi * 440 / rate)).astype(
        np.float32
    )
    for start in range(0, len(samples), 1024):
        chunk = samples[start : start + 1024].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def write_audio_only(path: Path, seconds: float = 2.0) -> Path:
    """An MP4 holding sound and no pictures."""
    with av.open(str(path), mode="w") as container:
        _write_tone(container, container.add_stream("aac", rate=16000), seconds)
    return path


def upright(picture: Image.Image, rotation: int) -> Image.Image:
    """How a picture stored in a video tagged with ``rotation`` is shown."""
    return picture.rotate(rotation, expand=True) if rotation else picture


def write_vfr_video(path: Path, shots: Sequence[Shot], size: tuple[int, int] = (96, 64)) -> Path:
    """A variable-frame-rate MP4, as phones write: frame gaps between 10 and 200 ms."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.codec_context.options = {"preset": "ultrafast", "g": "15"}
        stream.codec_context.thread_count = 1
        when = 0
        for index, (array, _) in enumerate(shot_frames(shots, size, 10)):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts, frame.time_base = when, Fraction(1, 1000)
            container.mux(stream.encode(frame))
            when += (10, 200, 40, 90)[index % 4]
        container.mux(stream.encode(None))
    return path


def y4m_header_only(width: int, height: int) -> bytes:
    """A raw YUV4MPEG2 video whose header claims ``width``×``height`` and holds a few bytes."""
    return (
        f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\n".encode() + b"FRAME\n" + bytes(64)
    )
