"""How recordings go through the indexer, with a fast stand-in for Whisper: long files in
pieces cut at quiet moments, caps and time budgets recorded, a cancel in the middle of a file
resumed without duplicates, a change of speech model transcribing again."""

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from audiogen import RATE, silence, tone, write
from speech_fakes import LoudnessTranscriber

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.speech import bundled_whisper_dir
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.kinds import speech
from desktop_app.core.kinds.base import TEXT
from desktop_app.core.kinds.speech import SpokenSegment, audio_pieces, transcribe_file
from desktop_app.core.progress import Control


def beeps(count: int, every: float = 3.0) -> np.ndarray:
    """``count`` one-second tones, one every ``every`` seconds, silence between."""
    return np.concatenate([np.concatenate([tone(1.0), silence(every - 1.0)])] * count)


@pytest.fixture
def speech_engine(
    home: Path, tiny_clip: OpenClipEncoder, minilm: SentenceTransformerEncoder
) -> Iterator[Callable[[LoudnessTranscriber], Engine]]:
    opened: list[Engine] = []

    def factory(transcriber: LoudnessTranscriber) -> Engine:
        engine = Engine(
            home,
            clip_loader=lambda: tiny_clip,
            text_loader=lambda: minilm,
            speech_loader=lambda: transcriber,
        )
        opened.append(engine)
        return engine

    yield factory
    for engine in opened:
        engine.close()


def test_a_long_file_is_heard_in_pieces_cut_in_its_quiet_moments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speech, "PIECE_S", 10.0)
    monkeypatch.setattr(speech, "QUIET_SEARCH_S", 2.5)
    path = write(tmp_path / "long.wav", beeps(12))  # 36 s
    pieces = list(audio_pieces(str(path)))
    assert len(pieces) == 4
    assert sum(len(p.samples) for p in pieces) == 36 * RATE
    for before, after in itertools.pairwise(pieces):
        assert after.offset == pytest.approx(before.offset + len(before.samples) / RATE)
        cut = after.samples[: RATE // 20]
        assert np.abs(cut).max() < 0.01  # cut in a silence, not through a sound
    found = transcribe_file(str(path), LoudnessTranscriber())
    starts = [round(s.start) for s in found.segments]
    assert starts == list(range(0, 36, 3))  # every beep once, at its time in the file


def test_a_file_longer_than_the_cap_is_partly_transcribed_and_says_so(tmp_path: Path) -> None:
    path = write(tmp_path / "ten hours (scaled).wav", beeps(10))  # 30 s
    found = transcribe_file(str(path), LoudnessTranscriber(), limit_s=12.0)
    assert found.heard_s == pytest.approx(12.0, abs=0.01)
    assert [round(s.start) for s in found.segments] == [0, 3, 6, 9]
    assert found.note == "transcribed the first 0:12 of 0:30 (longer files are capped)"


def test_a_file_over_its_time_budget_keeps_the_words_heard_so_far(tmp_path: Path) -> None:
    path = write(tmp_path / "slow.wav", beeps(5))
    found = transcribe_file(str(path), LoudnessTranscriber(), budget_s=0.0)
    assert len(found.segments) == 1
    assert found.note is not None and "time limit" in found.note


def test_a_cancel_mid_file_keeps_the_files_done_and_resumes_without_duplicates(
    tmp_path: Path, speech_engine: Callable[[LoudnessTranscriber], Engine]
) -> None:
    folder = tmp_path / "memos"
    folder.mkdir()
    for number in range(3):
        write(folder / f"memo {number}.wav", beeps(3 + number))
    control = Control()
    heard: list[SpokenSegment] = []

    def cancel_in_second_file(segment: SpokenSegment) -> None:
        heard.append(segment)
        files_begun = sum(1 for s in heard if s.start == 0)
        if files_begun == 2 and segment.start > 0:  # in the middle of the second file
            # A real transcript takes long enough for the first file to be committed meanwhile.
            deadline = time.monotonic() + 30
            while "indexed" not in statuses():
                assert time.monotonic() < deadline
                time.sleep(0.05)
            control.cancel()

    def statuses() -> list[str]:
        return [r.status for r in engine.library.reader().files_of_kind("audio")]

    engine = speech_engine(LoudnessTranscriber(cancel_in_second_file))
    engine.add_root(folder)
    progress = list(engine.index(control))
    assert progress[-1].phase == "cancelled"
    assert sorted(statuses()) == ["indexed", "pending", "pending"]
    engine.close()

    engine = speech_engine(LoudnessTranscriber())
    assert list(engine.index())[-1].phase == "done"
    store = engine.library.reader()
    vset = engine.library.searchable_set(TEXT)
    assert vset is not None
    for number in range(3):
        record = engine.file(folder / f"memo {number}.wav")
        assert record.status == "indexed"
        # Beeps 3 s apart are separate passages: one unit per beep, none twice.
        assert len(store.vectors_of_file(vset.id, record.id)) == 3 + number


def test_a_pause_mid_file_holds_the_transcription_until_resumed(
    tmp_path: Path, speech_engine: Callable[[LoudnessTranscriber], Engine]
) -> None:
    write(tmp_path / "memo.wav", beeps(4))
    control = Control()
    heard: list[SpokenSegment] = []

    def pause_after_first(segment: SpokenSegment) -> None:
        heard.append(segment)
        if len(heard) == 1:
            control.pause()

    engine = speech_engine(LoudnessTranscriber(pause_after_first))
    engine.add_root(tmp_path)
    work = engine.index(control)
    seen = []
    for report in work:
        seen.append(report)
        if report.phase == "recordings" and report.done == 0:
            break
    resumer = threading.Timer(0.5, control.resume)
    resumer.start()
    started = time.monotonic()
    rest = list(work)
    resumer.join()
    assert time.monotonic() - started >= 0.4  # it waited, paused, inside the file
    assert rest[-1].phase == "done" and len(heard) == 4


def test_choosing_another_speech_model_transcribes_recordings_again(
    tmp_path: Path, speech_engine: Callable[[LoudnessTranscriber], Engine]
) -> None:
    folder = tmp_path / "memos"
    folder.mkdir()
    write(folder / "memo.wav", beeps(2))
    engine = speech_engine(LoudnessTranscriber())
    engine.add_root(folder)
    list(engine.index())
    copy = tmp_path / "whisper copy"
    copy.mkdir()
    for source in bundled_whisper_dir().iterdir():
        (copy / source.name).symlink_to(source)
    name = engine.import_speech_model(copy)
    assert name.startswith("whisper-") and engine.settings.speech_model == name
    assert engine.file(folder / "memo.wav").status == "pending"
    assert {c["name"]: c["active"] for c in engine.speech_choices()}[name] is True
    list(engine.index())
    assert engine.file(folder / "memo.wav").status == "indexed"


def test_a_folder_that_is_not_a_whisper_model_is_refused(
    tmp_path: Path, speech_engine: Callable[[LoudnessTranscriber], Engine]
) -> None:
    engine = speech_engine(LoudnessTranscriber())
    with pytest.raises(Exception, match="not a CTranslate2 Whisper model folder"):
        engine.import_speech_model(tmp_path)
