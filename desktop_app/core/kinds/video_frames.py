"""Reading a video with PyAV: its metadata, the frames worth embedding, and one frame at a time.

Sampling decodes keyframes only (the decoder skips every other frame: a minute of 720p H.264 in
under a second on one core), scaled down to the model's input size inside the decoder. Where
keyframes are sparse (screen recordings, some phones) the gaps are filled by decoding forward
from the keyframe before them, so that no stretch longer than :data:`MAX_GAP_S` goes unseen. A
frame is kept only when it differs from the last kept one (a cheap distance between tiny colour
copies), so a static shot gives one frame and a busy one several.

Work is bounded whatever the file claims: a frame-size limit read from the header, a cap on the
frames kept (spread evenly over a long video, and said so), a wall-clock budget per file, and a
limit on damaged packets. PyAV reports a phone video's rotation but does not apply it: frames
are turned upright here. The file is streamed from its path, never read whole.
"""

import bisect
import itertools
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

import av
import numpy as np
from PIL import Image

from desktop_app.core.kinds.base import DecodeError, clock

MAX_GAP_S = 4.0  # at least one candidate frame every this many seconds
MIN_GAP_S = 0.5  # never two kept frames closer than this
MAX_FRAMES = 300  # per video (each waits as a model input, 0.6 MB); a long one: evenly spread
BUDGET_S = 120.0  # wall-clock seconds of decoding per file; the rest is skipped and said so
MAX_FRAME_PIXELS = 80_000_000  # 8K is 33 MP; a header claiming more is refused
MAX_BAD_PACKETS = 50  # damaged packets skipped before a file is given up as unreadable
CHANGE = 0.12  # mean absolute difference (0-1) of tiny colour copies that makes a new frame
_TINY = (16, 16)


@dataclass(frozen=True)
class VideoInfo:
    """What the container says: upright size, duration, frame rate, codec, rotation, date."""

    width: int
    height: int
    duration: float | None
    fps: float | None
    codec: str
    rotation: int
    created_at: float | None
    has_audio: bool


@dataclass
class Sampled:
    """The kept frames (time in seconds, upright picture at the model's size), in time order,
    and what was skipped (the cap, the budget, damaged packets), in words."""

    info: VideoInfo
    frames: list[tuple[float, Image.Image]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _open(path: str) -> av.container.InputContainer:
    try:
        if os.path.getsize(path) == 0:
            raise DecodeError("empty file")
        return av.open(path, mode="r", metadata_errors="ignore")
    except FileNotFoundError:
        raise DecodeError("file vanished before it could be read") from None
    except PermissionError:
        raise DecodeError("permission denied") from None
    except (av.FFmpegError, OSError, ValueError) as err:
        raise DecodeError(f"not a readable video ({_reason(err)})") from None


def _reason(err: Exception) -> str:
    text = getattr(err, "strerror", None) or str(err)
    return text.split(":", 1)[0] if "Invalid data" in text else text


def _video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    # A cover picture (an attached JPEG in an MP4/MKV) is a "video" stream of one frame.
    streams = [s for s in container.streams.video if not s.disposition & 0x400]
    if not streams:
        if container.streams.audio:
            raise DecodeError("no pictures in this file: it holds sound only")
        raise DecodeError("no video track in this file")
    stream = streams[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > MAX_FRAME_PIXELS:
        raise DecodeError(
            f"video frames too large to decode safely ({width}×{height}; the limit is "
            f"{MAX_FRAME_PIXELS // 1_000_000} megapixels)"
        )
    if width <= 0 or height <= 0:
        raise DecodeError("not a readable video (its frame size is missing)")
    return stream


def _created_at(container: av.container.InputContainer) -> float | None:
    """The container's creation date (phones write it), else None (the file's mtime is used)."""
    tags = {k.lower(): v for k, v in container.metadata.items()}
    for key in ("com.apple.quicktime.creationdate", "creation_time", "date"):
        text = str(tags.get(key) or "").strip()
        if not text:
            continue
        try:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError, OSError):
            continue
        if stamp > 86_400:  # 1970 and 1904 (QuickTime's zero) mean "unset"
            return stamp
    return None


def read_info(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> VideoInfo:
    """The container's metadata, as stored (see :func:`_turned` for the rotation)."""
    duration = None
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / 1_000_000
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else None
    width, height = stream.codec_context.width, stream.codec_context.height
    return VideoInfo(
        width=width,
        height=height,
        duration=duration if duration and math.isfinite(duration) and duration > 0 else None,
        fps=fps if fps and math.isfinite(fps) else None,
        codec=stream.codec_context.name,
        rotation=0,
        created_at=_created_at(container),
        has_audio=bool(container.streams.audio),
    )


def _turned(info: VideoInfo, rotation: int) -> VideoInfo:
    """The metadata of a video shown turned by ``rotation`` degrees counter-clockwise (from a
    decoded frame's display matrix, which is where PyAV reports it): upright size."""
    rotation %= 360
    if rotation in (90, 270):
        return replace(info, rotation=rotation, width=info.height, height=info.width)
    return replace(info, rotation=rotation)


def _picture(frame: av.VideoFrame, short_side: int) -> Image.Image:
    """The frame scaled in the decoder's scaler (short side ``short_side``) and turned upright."""
    scale = short_side / max(1, min(frame.width, frame.height))
    scale = min(scale, 1.0)
    width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
    array: np.ndarray = frame.to_ndarray(width=width, height=height, format="rgb24")
    turns = (frame.rotation or 0) // 90 % 4
    if turns:
        array = np.ascontiguousarray(np.rot90(array, turns))
    return Image.fromarray(array)


def _tiny(picture: Image.Image) -> np.ndarray:
    """A 16×16 colour copy: enough to tell a cut or a new view from the same shot (two shots
    alike in brightness differ in colour)."""
    return np.asarray(picture.resize(_TINY, Image.Resampling.BILINEAR), np.float32)


def _decoded(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    deadline: float,
    problems: list[str],
) -> Iterator[av.VideoFrame]:
    """The frames the decoder gives, skipping damaged packets (counted in ``problems``)."""
    bad = 0
    try:
        for packet in container.demux(stream):
            if time.monotonic() > deadline:
                problems.append("budget")
                return
            try:
                yield from packet.decode()
            except av.FFmpegError:
                bad += 1
                if bad > MAX_BAD_PACKETS:
                    raise DecodeError("damaged video: too many unreadable packets") from None
    except av.FFmpegError as err:  # demuxing itself failed: the file ends or breaks here
        problems.append(f"stopped early ({_reason(err)})")
    if bad:
        problems.append(f"{bad} damaged packet{'s' if bad > 1 else ''} skipped")


class _Keeper:
    """Keeps a frame when it is not too close in time to the kept frame before it and differs
    enough from it; frames may be offered out of order (gaps are filled after the keyframes)."""

    def __init__(self, min_gap: float) -> None:
        self.min_gap = min_gap
        self.times: list[float] = []
        self._kept: list[tuple[Image.Image, np.ndarray]] = []

    def __len__(self) -> int:
        return len(self.times)

    def offer(self, when: float, picture: Image.Image) -> None:
        place = bisect.bisect_right(self.times, when)
        if place and when - self.times[place - 1] < self.min_gap:
            return
        tiny = _tiny(picture)
        if place:
            before = self._kept[place - 1][1]
            if float(np.mean(np.abs(tiny - before))) / 255 < CHANGE:
                return
        self.times.insert(place, when)
        self._kept.insert(place, (picture, tiny))

    def frames(self) -> list[tuple[float, Image.Image]]:
        return [(when, kept[0]) for when, kept in zip(self.times, self._kept, strict=True)]


def sample(path: str, short_side: int, *, budget_s: float = BUDGET_S) -> Sampled:
    """The frames worth embedding, at ``short_side`` pixels on their short side (see the
    module docstring). Raises :class:`DecodeError` when the file gives no frame at all."""
    deadline = time.monotonic() + budget_s
    with _open(path) as container:
        stream = _video_stream(container)
        info = read_info(container, stream)
        min_gap = max(MIN_GAP_S, (info.duration or 0) / MAX_FRAMES)
        keeper = _Keeper(min_gap)
        problems: list[str] = []
        keyframes: list[float] = []
        rotation: int | None = None
        stream.codec_context.skip_frame = "NONKEY"
        for frame in _decoded(container, stream, deadline, problems):
            if rotation is None:
                rotation = int(frame.rotation or 0)
            if frame.time is not None and len(keeper) < MAX_FRAMES:
                keyframes.append(frame.time)
                keeper.offer(frame.time, _picture(frame, short_side))
        gaps = _gaps(keyframes, info.duration)
        if gaps and "budget" not in problems and len(keeper) < MAX_FRAMES:
            _fill(container, stream, gaps, keeper, short_side, deadline, problems)
    if not len(keeper):
        if "budget" in problems:
            raise DecodeError(f"took too long to decode (no frame within {budget_s:.0f} s)")
        stopped = "; ".join(p for p in problems if p != "budget")
        raise DecodeError(f"no readable frame in this video{f' ({stopped})' if stopped else ''}")
    sampled = Sampled(_turned(info, rotation or 0))
    sampled.frames = keeper.frames()
    if min_gap > MIN_GAP_S:
        sampled.notes.append(f"long video: one frame every {min_gap:.0f} s at most")
    elif len(keeper) >= MAX_FRAMES:
        sampled.notes.append(f"frames capped at {MAX_FRAMES}")
    if "budget" in problems:
        last = sampled.frames[-1][0]
        sampled.notes.append(f"took too long to read: frames after {clock(last)} skipped")
    sampled.notes += [p for p in problems if p != "budget"]
    return sampled


def _gaps(times: list[float], duration: float | None) -> list[tuple[float, float]]:
    """Stretches longer than :data:`MAX_GAP_S` without a keyframe (the end included)."""
    marks = sorted(set(times))
    if duration and (not marks or duration - marks[-1] > MAX_GAP_S):
        marks.append(duration)
    return [(a, b) for a, b in itertools.pairwise(marks) if b - a > MAX_GAP_S]


def _fill(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    gaps: list[tuple[float, float]],
    keeper: _Keeper,
    short_side: int,
    deadline: float,
    problems: list[str],
) -> None:
    """Decode every frame of each sparse stretch, offering one every :data:`MAX_GAP_S`."""
    stream.codec_context.skip_frame = "DEFAULT"
    base = stream.time_base
    for start, end in gaps:
        if "budget" in problems or len(keeper) >= MAX_FRAMES:
            return
        try:
            container.seek(int(start / base) if base else 0, stream=stream, backward=True)
        except av.FFmpegError:
            return
        stream.codec_context.flush_buffers()
        due = start + MAX_GAP_S
        for frame in _decoded(container, stream, deadline, problems):
            when = frame.time
            if when is None or when < due:
                continue
            if when >= end - MIN_GAP_S or len(keeper) >= MAX_FRAMES:
                break
            keeper.offer(when, _picture(frame, short_side))
            due = when + MAX_GAP_S


def probe(path: str) -> VideoInfo:
    """The metadata alone (header and first frame): for passes that do not embed frames."""
    with _open(path) as container:
        stream = _video_stream(container)
        info = read_info(container, stream)
        stream.codec_context.skip_frame = "NONKEY"
        problems: list[str] = []
        for frame in _decoded(container, stream, time.monotonic() + 10, problems):
            return _turned(info, int(frame.rotation or 0))
    return info


def frame_at(path: str, seconds: float, short_side: int, *, budget_s: float = 20.0) -> Image.Image:
    """The upright frame shown at ``seconds`` (for thumbnails and the filmstrip): a seek to the
    keyframe before it, then forward to the moment."""
    deadline = time.monotonic() + budget_s
    with _open(path) as container:
        stream = _video_stream(container)
        base = stream.time_base
        try:
            container.seek(int(max(0.0, seconds) / base) if base else 0, stream=stream)
        except av.FFmpegError:
            container.seek(0)
        problems: list[str] = []
        last: av.VideoFrame | None = None
        for frame in _decoded(container, stream, deadline, problems):
            if last is not None and frame.time is not None and frame.time > seconds + 1e-3:
                break
            last = frame
        if last is None:
            raise DecodeError("no readable frame at this moment")
        return _picture(last, short_side)
