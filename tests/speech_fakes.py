"""A fast, deterministic stand-in for Whisper in pipeline tests: it "hears" every stretch of
sound loud enough to be speech, and says where it was. Cheap enough to run on mutated files by
the hundred; the real model's tests are in test_speech.py."""

from collections.abc import Callable, Iterator

import numpy as np

from desktop_app.core.kinds.speech import RATE, SpokenSegment

LOUD = 0.05
WINDOW = RATE // 10


class LoudnessTranscriber:
    """Each run of loud tenths of a second becomes a segment "sound at N seconds"."""

    model_id = "test:loudness"

    def __init__(self, on_segment: Callable[[SpokenSegment], None] | None = None) -> None:
        self.on_segment = on_segment
        self.pieces: list[int] = []  # samples in each piece handed in

    def transcribe(self, samples: np.ndarray) -> tuple[Iterator[SpokenSegment], str | None]:
        self.pieces.append(len(samples))
        frames = len(samples) // WINDOW
        energy = np.abs(samples[: frames * WINDOW]).reshape(frames, WINDOW).max(axis=1)
        loud = energy > LOUD

        def heard() -> Iterator[SpokenSegment]:
            start = None
            for index, flag in enumerate([*loud, False]):
                if flag and start is None:
                    start = index
                elif not flag and start is not None:
                    segment = SpokenSegment(
                        start / 10, index / 10, f"sound at {round(start / 10)} seconds"
                    )
                    if self.on_segment is not None:
                        self.on_segment(segment)
                    yield segment
                    start = None

        return heard(), "xx"
