"""How fast and how well recordings are transcribed: the bundled Whisper tiny.en on one core.

Speed is the audio's length over the time to transcribe it through the app's own path
(:func:`desktop_app.core.kinds.speech.transcribe_file`: PyAV streaming decode, Silero voice
activity detection, faster-whisper int8), as a multiple of real time, the median of several
runs; the goal is at least 15x. Word error rate compares each committed espeak-ng fixture's
transcript with its script (lower case, punctuation dropped; word-level edit distance over the
script's words). A longer recording made of every fixture four times over, with pauses, shows
the speed on minutes of audio rather than seconds.

    .venv/bin/python bench/bench_speech.py [--runs 3] [--beams 1 5]
"""

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import bench_env  # noqa: F401  (sys.path and offline hub)
import numpy as np
from measure import CpuClock

os.environ.setdefault("OMP_NUM_THREADS", "1")


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Substitutions + deletions + insertions turning ``reference`` into ``heard``."""
    row = list(range(len(heard) + 1))
    for i, ref in enumerate(reference, start=1):
        diagonal, row[0] = row[0], i
        for j, word in enumerate(heard, start=1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref != word))
    return row[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per file (median)")
    parser.add_argument("--beams", type=int, nargs="+", default=[1], help="beam sizes to compare")
    args = parser.parse_args()

    from audiogen import FIXTURES, decode, scripts, silence, write

    from desktop_app.core.encoders import speech as speech_encoder
    from desktop_app.core.encoders.speech import WhisperTranscriber
    from desktop_app.core.kinds.speech import transcribe_file

    started = time.perf_counter()
    whisper = WhisperTranscriber(threads=1)
    loaded = time.perf_counter() - started
    print(f"model load (tiny.en, int8, 1 thread, SHA-256 checked): {loaded:.2f} s")
    script = scripts()
    with tempfile.TemporaryDirectory() as tmp:
        pieces = []
        for _ in range(4):
            for name in script:
                pieces += [decode(FIXTURES / name), silence(3.0)]
        long_file = write(Path(tmp) / "all fixtures x4.ogg", np.concatenate(pieces))
        files = [FIXTURES / name for name in script] + [long_file]
        for beam in args.beams:
            speech_encoder.BEAM_SIZE = beam
            print(f"\nbeam size {beam}")
            print(
                "| recording | audio s | transcribe s (median) | x real time "
                "| x real time per CPU second | WER |"
            )
            print("|---|---|---|---|---|---|")
            total_errors = total_words = 0
            clock = CpuClock.now()
            speeds = []
            for path in files:
                times, cpu, found = [], [], None
                for _ in range(args.runs):
                    start, start_cpu = time.perf_counter(), sum(os.times()[:2])
                    found = transcribe_file(str(path), whisper)
                    times.append(time.perf_counter() - start)
                    cpu.append(sum(os.times()[:2]) - start_cpu)
                assert found is not None
                seconds = found.heard_s
                median = statistics.median(times)
                speeds.append(seconds / median)
                wer = ""
                if path.name in script:
                    reference = words(" ".join(p["text"] for p in script[path.name]["parts"]))
                    heard = words(" ".join(s.text for s in found.segments))
                    errors = word_errors(reference, heard)
                    total_errors += errors
                    total_words += len(reference)
                    wer = f"{errors / len(reference):.1%} ({errors}/{len(reference)})"
                print(
                    f"| {path.name} | {seconds:.1f} | {median:.2f} | {seconds / median:.1f}x "
                    f"| {seconds / statistics.median(cpu):.1f}x | {wer} |"
                )
            load = clock.other_load(CpuClock.now(), len(os.sched_getaffinity(0)))
            print(
                f"overall WER {total_errors / max(1, total_words):.1%} "
                f"({total_errors}/{total_words} words); other processes kept {load:.0%} of the "
                "machine busy meanwhile" + (" (WARNING: timings inflated)" if load > 0.1 else "")
            )


if __name__ == "__main__":
    main()
