"""Sound for tests, written with PyAV (no ffmpeg binary): speech fixtures decoded to samples,
silence and tones, and files in the formats people have (WAV, M4A/AAC, MP3, FLAC, Ogg/Opus),
plus a short H.264 video with an AAC soundtrack."""

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

FIXTURES = Path(__file__).parent / "fixtures" / "speech"
RATE = 16_000

# format suffix -> (container format, audio codec, sample format)
_FORMATS = {
    ".wav": ("wav", "pcm_s16le", "s16"),
    ".m4a": ("mp4", "aac", "fltp"),
    ".mp3": ("mp3", "libmp3lame", "s16p"),
    ".flac": ("flac", "flac", "s16"),
    ".ogg": ("ogg", "libopus", "s16"),
    ".opus": ("ogg", "libopus", "s16"),
}


def scripts() -> dict[str, dict[str, object]]:
    """fixture file name -> {"parts": [{"start": s, "text": words}], ...} (see make_fixtures)."""
    loaded: dict[str, dict[str, object]] = json.loads(
        (FIXTURES / "scripts.json").read_text("utf-8")
    )
    return loaded


def decode(path: Path, rate: int = RATE) -> np.ndarray:
    """A file's first audio stream as mono float32 at ``rate``."""
    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


def tone(seconds: float, hz: float = 440.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def write(path: Path, samples: np.ndarray, rate: int = RATE, bitrate: int | None = None) -> Path:
    """Encode mono float samples into ``path``; the suffix picks the format."""
    container_format, codec, sample_format = _FORMATS[path.suffix.lower()]
    out_rate = 48_000 if codec == "libopus" else rate
    pcm = _resample(samples, rate, out_rate)
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=out_rate, layout="mono")
        if bitrate:
            stream.bit_rate = bitrate
        _encode_audio(container, stream, pcm, out_rate, sample_format)
    return path


def write_video_with_speech(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """A small H.264 MP4 (flat colours, 10 fps) with ``samples`` as its AAC soundtrack."""
    seconds = len(samples) / rate
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("aac", rate=rate, layout="mono")
        for index in range(int(seconds * 10)):
            pixels = np.full((48, 64, 3), (index * 5) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, 10)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        _encode_audio(container, audio, samples, rate, "fltp")
    return path


def _encode_audio(
    container: av.container.OutputContainer,
    stream: av.AudioStream,
    samples: np.ndarray,
    rate: int,
    sample_format: str,
) -> None:
    block = 1024
    for start in range(0, len(samples), block):
        piece = samples[start : start + block]
        frame = _frame(piece, sample_format)
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _frame(piece: np.ndarray, sample_format: str) -> av.AudioFrame:
    clipped = np.clip(piece, -1.0, 1.0)
    if sample_format.startswith("s16"):
        data = (clipped * 32767).astype(np.int16).reshape(1, -1)
    else:
        data = clipped.astype(np.float32).reshape(1, -1)
    return av.AudioFrame.from_ndarray(data, format=sample_format, layout="mono")


def _resample(samples: np.ndarray, rate: int, out_rate: int) -> np.ndarray:
    if rate == out_rate:
        return samples
    positions = np.arange(int(len(samples) * out_rate / rate)) * rate / out_rate
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
