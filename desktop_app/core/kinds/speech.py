"""Spoken words in any media file: its first audio stream, streamed through PyAV, transcribed
into text units with their time spans (see :class:`Transcriber`).

Used by recordings (:mod:`kinds.audio`) and by videos for their soundtracks. The file is never
held whole in memory: it is decoded to 16 kHz mono in pieces of a few minutes, each cut at a
quiet moment near its end so that no word is split, and each piece is transcribed on its own
with its offset. Work is bounded: at most :data:`MAX_AUDIO_S` of a file is transcribed and a
file gets at most :data:`TIME_BUDGET_S` of the worker's time; what was skipped is recorded in
the metadata (``speech_note``), and the words found until then are kept.
"""

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from desktop_app.core.kinds.base import TEXT, DecodeError, Extracted, Span, Unit, UnitModels

RATE = 16_000  # what Whisper listens at
PIECE_S = 300.0  # audio transcribed at once (19 MB of samples)
QUIET_SEARCH_S = 15.0  # a piece ends at the quietest moment of its last seconds
MAX_AUDIO_S = 3 * 3600.0  # a 10-hour file: its first three hours
TIME_BUDGET_S = 20 * 60.0  # worker time one file may take before the rest is skipped
# Consecutive segments join into one passage (one unit) while they stay short and close, so a
# passage carries a thought rather than a few words, and a hit still points at its moment.
PASSAGE_WORDS = 60
PASSAGE_SECONDS = 30.0
PASSAGE_GAP_S = 1.5


@dataclass(frozen=True)
class SpokenSegment:
    """Words heard from ``start`` to ``end`` seconds (of the piece handed in)."""

    start: float
    end: float
    text: str


class Transcriber(Protocol):
    """A speech-to-text model (Whisper). ``model_id`` names it, so that transcripts can say
    which model wrote them."""

    @property
    def model_id(self) -> str: ...

    def transcribe(self, samples: np.ndarray) -> tuple[Iterator[SpokenSegment], str | None]:
        """(the segments heard in 16 kHz mono float32 ``samples``, produced lazily as they are
        iterated; the language, detected or known, or None)."""
        ...


@dataclass(frozen=True)
class AudioPiece:
    offset: float  # seconds into the file
    samples: np.ndarray


def media_seconds(path: str) -> float | None:
    """The length of a file's first audio stream from its header (no decoding), or None."""
    import av

    try:
        with av.open(path) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            return container.duration / 1e6 if container.duration else None
    except (av.error.FFmpegError, OSError, ValueError):
        return None


def audio_pieces(path: str, *, limit_s: float = MAX_AUDIO_S) -> Iterator[AudioPiece]:
    """The file's first audio stream as 16 kHz mono pieces, at most ``limit_s`` seconds in all.

    Corrupt packets mid-stream are skipped (their moment is silence); a file that cannot be
    opened, or has no sound, raises :class:`DecodeError`.
    """
    import av

    container = _open(path)
    try:
        stream = container.streams.audio[0]
        stream.thread_type = "SLICE"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        buffered: list[np.ndarray] = []
        size, offset, limit = 0, 0.0, int(limit_s * RATE)
        for samples in _decoded(container, stream, resampler):
            buffered.append(samples)
            size += len(samples)
            if offset * RATE + size >= limit:
                break
            if size >= PIECE_S * RATE:
                whole = np.concatenate(buffered)
                cut = _quiet_cut(whole)
                yield AudioPiece(offset, whole[:cut])
                offset += cut / RATE
                buffered, size = [whole[cut:]], len(whole) - cut
        if size:
            whole = np.concatenate(buffered)[: max(0, limit - int(offset * RATE))]
            if len(whole):
                yield AudioPiece(offset, whole)
    finally:
        container.close()


def _open(path: str) -> Any:
    import av

    try:
        if os.path.getsize(path) == 0:
            raise DecodeError("empty file")
        container = av.open(path, metadata_errors="ignore")
    except FileNotFoundError:
        raise DecodeError("file vanished before it could be read") from None
    except PermissionError:
        raise DecodeError("permission denied") from None
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as err:
        raise DecodeError(f"not a readable recording ({_reason(err)})") from None
    if not container.streams.audio:
        container.close()
        raise DecodeError("no sound in this file (it has no audio stream)")
    return container


def _reason(err: Exception) -> str:
    text = getattr(err, "strerror", None) or str(err)
    return str(text).split(": '")[0]


def _decoded(container: Any, stream: Any, resampler: Any) -> Iterator[np.ndarray]:
    import av

    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except (av.error.InvalidDataError, ValueError):
            continue  # a damaged packet: its moment stays silent, the rest is heard
        except av.error.FFmpegError as err:
            raise DecodeError(f"cannot decode the sound ({_reason(err)})") from None
        for frame in frames:
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    for out in resampler.resample(None):
        yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)


def _quiet_cut(samples: np.ndarray) -> int:
    """Where to end a piece: the quietest tenth of a second in its last seconds."""
    window = RATE // 10
    start = max(0, len(samples) - int(QUIET_SEARCH_S * RATE))
    tail = samples[start:]
    frames = len(tail) // window
    if frames < 2:
        return len(samples)
    energy = np.square(tail[: frames * window]).reshape(frames, window).mean(axis=1)
    quietest = frames - 1 - int(np.argmin(energy[::-1]))  # the latest, among equals
    return start + quietest * window + window // 2


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class Transcript:
    """What was heard in a file, and how much of it was listened to."""

    segments: list[SpokenSegment]
    language: str | None
    heard_s: float  # seconds of the file transcribed
    total_s: float | None  # the file's length, from its header
    note: str | None = None  # what was skipped, and why

    @property
    def has_speech(self) -> bool:
        return bool(self.segments)


class _WorkClock:
    """Seconds spent on a file, not counting the time spent paused in ``checkpoint``."""

    def __init__(self, checkpoint: Callable[[], None]) -> None:
        self._checkpoint = checkpoint
        self._start = time.monotonic()
        self._paused = 0.0

    def checkpoint(self) -> None:
        entered = time.monotonic()
        try:
            self._checkpoint()
        finally:
            self._paused += time.monotonic() - entered

    def worked(self) -> float:
        return time.monotonic() - self._start - self._paused


def transcribe_file(
    path: str,
    transcriber: Transcriber,
    checkpoint: Callable[[], None] = lambda: None,
    *,
    limit_s: float = MAX_AUDIO_S,
    budget_s: float = TIME_BUDGET_S,
) -> Transcript:
    """Everything said in a file's first audio stream, within the caps (see module docstring).

    ``checkpoint`` is called between segments: it blocks while indexing is paused and raises
    to stop (a cancel), so a long recording never holds up a pause.
    """
    total = media_seconds(path)
    clock = _WorkClock(checkpoint)
    segments: list[SpokenSegment] = []
    language: str | None = None
    heard, note = 0.0, None
    for piece in audio_pieces(path, limit_s=limit_s):
        clock.checkpoint()
        found, detected = transcriber.transcribe(piece.samples)
        language = language or detected
        for segment in found:
            at = piece.offset
            segments.append(SpokenSegment(at + segment.start, at + segment.end, segment.text))
            clock.checkpoint()
            if clock.worked() > budget_s:
                heard = piece.offset + segment.end
                note = f"transcribed the first {_clock(heard)} (time limit of this file reached)"
                return Transcript(segments, language, heard, total, note)
        heard = piece.offset + len(piece.samples) / RATE
    if total is not None and heard < total - 1.0 and heard >= limit_s - 1.0:
        note = f"transcribed the first {_clock(heard)} of {_clock(total)} (longer files are capped)"
    return Transcript(segments, language, heard, total, note)


def passages(segments: Sequence[SpokenSegment]) -> list[SpokenSegment]:
    """Consecutive segments joined into passages (see :data:`PASSAGE_WORDS`)."""
    out: list[SpokenSegment] = []
    for segment in segments:
        text = segment.text.strip()
        if not text:
            continue
        last = out[-1] if out else None
        if (
            last is not None
            and segment.start - last.end <= PASSAGE_GAP_S
            and segment.end - last.start <= PASSAGE_SECONDS
            and len(last.text.split()) + len(text.split()) <= PASSAGE_WORDS
        ):
            out[-1] = SpokenSegment(last.start, segment.end, f"{last.text} {text}")
        else:
            out.append(SpokenSegment(segment.start, segment.end, text))
    return out


def speech_meta(transcript: Transcript) -> dict[str, Any]:
    """The metadata a file keeps about its speech (``files``' speech columns)."""
    return {
        "duration": transcript.total_s if transcript.total_s is not None else transcript.heard_s,
        "has_speech": transcript.has_speech,
        "language": transcript.language if transcript.has_speech else None,
        "speech_note": transcript.note,
    }


def speech_units(path: str, models: UnitModels) -> Extracted:
    """A media file's speech as text units with their spans in seconds, and its speech
    metadata (see :func:`speech_meta`). ``models`` is the extractor's
    :class:`~desktop_app.core.kinds.base.UnitModels`: the transcriber and the pause/cancel
    checkpoint come from it. A file with no speech gives no units, and is no error.

    A kind with a soundtrack (videos) calls this in a later pass of its own, like recordings'
    ``Pass("videos' soundtracks", (TEXT,), later=True, verb="Transcribing", files_per_batch=1,
    measure=media_seconds)``, when ``models.wants(TEXT)``, and merges the result into its own
    metadata and units."""
    transcript = transcribe_file(path, models.transcriber(), models.checkpoint)
    units = [
        Unit(TEXT, text=p.text, span=Span(round(p.start, 2), round(p.end, 2), "second"))
        for p in passages(transcript.segments)
    ]
    return Extracted(speech_meta(transcript), units)
