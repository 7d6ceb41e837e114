"""Videos: the moments worth finding, as CLIP units with their place in time.

Each kept frame (see :mod:`video_frames` for how frames are chosen) is one CLIP unit whose span
is the stretch of video it stands for, from its own time to the next kept frame's (the last to
the end): a search then merges consecutive matching frames into one segment ("03:41-03:52").
The file's metadata adds what a person asks of a video: its length, frame rate, codec, and
what was skipped (a long video's frame cap, damaged packets, a decode that ran out of time).
Files are streamed from their path, never read whole.

A video's soundtrack is a later pass (speech) that another module adds to :attr:`passes`.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from desktop_app.core.kinds.base import CLIP, TEXT, Extracted, Pass, Source, Span, Unit, UnitModels
from desktop_app.core.kinds.speech import media_seconds, speech_units

if TYPE_CHECKING:  # PyAV loads in a quarter of a second: only when a video is read
    from desktop_app.core.kinds import video_frames

VIDEO_TYPES: Mapping[str, Sequence[str]] = {
    "mp4": (".mp4", ".m4v"),
    "mov": (".mov", ".qt"),
    "mkv": (".mkv",),
    "webm": (".webm",),
    "avi": (".avi",),
    "3gp": (".3gp", ".3g2"),
    "mpeg": (".mpg", ".mpeg", ".mts", ".m2ts"),  # not .ts: TypeScript sources share it
    "wmv": (".wmv",),
}
VIDEO_EXTENSIONS = frozenset(ext for exts in VIDEO_TYPES.values() for ext in exts)
_MP4_BRANDS = (b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"M4V ", b"3gp", b"3g2")


def sniff(head: bytes) -> bool:
    """An MP4/MOV/3GP (``ftyp`` box of a video brand), Matroska/WebM, AVI or MPEG-TS header."""
    if head[4:8] == b"ftyp":
        return head[8:12].startswith(_MP4_BRANDS)
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska and WebM
        return True
    return head[:4] == b"RIFF" and head[8:12] == b"AVI "


def frame_units(sampled: "video_frames.Sampled", prepare: Callable[[Any], Any]) -> list[Unit]:
    """One CLIP unit per kept frame, spanning up to the next kept frame (the last: the end)."""
    times = [when for when, _ in sampled.frames]
    ends = [*times[1:], max(sampled.info.duration or 0.0, times[-1])]
    return [
        Unit(CLIP, pixels=prepare(picture), span=Span(round(start, 3), round(end, 3), "second"))
        for (start, picture), end in zip(sampled.frames, ends, strict=True)
    ]


def describe(sampled: "video_frames.Sampled") -> dict[str, object]:
    """The video's own details, kept as JSON in ``files.media`` (the preview shows them)."""
    info = sampled.info
    return {
        "duration": info.duration,
        "fps": round(info.fps, 3) if info.fps else None,
        "codec": info.codec,
        "rotation": info.rotation,
        "sound": info.has_audio,
        "frames": len(sampled.frames),
        "skipped": sampled.notes,
    }


class VideoExtractor:
    """Videos (MP4, MOV, MKV, WebM, AVI, 3GP…) decoded with PyAV: their frames in CLIP's
    space, so a description or a photo finds the moment."""

    name = "video"
    label = "videos"
    extensions = VIDEO_EXTENSIONS
    file_types = VIDEO_TYPES
    spaces: tuple[str, ...] = (CLIP, TEXT)
    passes: tuple[Pass, ...] = (
        # A long video's frames are many model inputs in memory: two videos a batch.
        Pass("videos", (CLIP,), files_per_batch=2),
        Pass(
            "videos' soundtracks",
            (TEXT,),
            later=True,
            verb="Transcribing",
            files_per_batch=1,
            measure=media_seconds,
        ),
    )
    typical_units = 20  # frames of a phone clip of a minute or two

    def sniff(self, head: bytes) -> bool:
        return sniff(head)

    def extract(self, source: Source, models: UnitModels) -> Extracted:
        from desktop_app.core.kinds import video_frames

        units: list[Unit] = []
        if models.wants(CLIP):
            prepare, short_side = models.picture_input(CLIP)
            sampled = video_frames.sample(source.path, short_side or 224)
            info, details = sampled.info, describe(sampled)
            units += frame_units(sampled, prepare)
        else:  # another pass (the soundtrack's): the header is enough for the metadata
            info, details = video_frames.probe(source.path), {}
        meta = _meta(info, details)
        if models.wants(TEXT) and info.has_audio:  # the soundtrack's words, in its later pass
            heard = speech_units(source.path, models)
            units += heard.units
            meta = heard.meta | meta
        return Extracted(meta, units)


def _meta(info: "video_frames.VideoInfo", details: dict[str, object]) -> dict[str, object]:
    return {
        "width": info.width,
        "height": info.height,
        "taken_at": info.created_at,
        "camera": None,
        "duration": info.duration,
        "media": json.dumps(details) if details else None,
    }
