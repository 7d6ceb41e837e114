"""Recordings: voice memos, recorded calls and talks, music. What is said in them becomes text
units in the documents' space (see :mod:`kinds.speech`), each with the moment it was said.

Transcribing is the slowest work there is (seconds to minutes a file), so it is a later pass:
a library is searchable by its pictures first and by what its recordings say after, one
recording committed at a time. A recording without speech (music, silence) is indexed with no
units and marked as such, not as an error.
"""

from collections.abc import Mapping, Sequence

from desktop_app.core.kinds.base import TEXT, Extracted, Pass, Source, UnitModels
from desktop_app.core.kinds.speech import media_seconds, speech_units

AUDIO_FILE_TYPES: Mapping[str, Sequence[str]] = {
    "mp3": (".mp3",),
    "m4a": (".m4a", ".aac"),
    "wav": (".wav",),
    "flac": (".flac",),
    "ogg": (".ogg", ".oga", ".opus"),
}
AUDIO_EXTENSIONS = frozenset(ext for exts in AUDIO_FILE_TYPES.values() for ext in exts)


def sniff_audio(head: bytes) -> bool:
    """Whether a file's first bytes announce a recording (for files without an extension)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return True
    if head[:4] in (b"fLaC", b"OggS") or head[:3] == b"ID3":
        return True
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"M4B"):
        return True
    return len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0


class AudioExtractor:
    """Recordings, transcribed by the speech model (faster-whisper) in a later pass."""

    name = "audio"
    label = "recordings"
    extensions = AUDIO_EXTENSIONS
    file_types = AUDIO_FILE_TYPES
    spaces = (TEXT,)
    passes = (
        Pass(
            "recordings",
            spaces,
            later=True,
            verb="Transcribing",
            files_per_batch=1,
            measure=media_seconds,
        ),
    )
    typical_units = 6  # passages of a recording

    def sniff(self, head: bytes) -> bool:
        return sniff_audio(head)

    def extract(self, source: Source, models: UnitModels) -> Extracted:
        # Never source.read(): a recording can be hours long; it is streamed from its path.
        return speech_units(source.path, models)
