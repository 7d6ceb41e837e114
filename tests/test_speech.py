"""Speech with the real Whisper tiny.en: recordings are found by what is said in them, at the
moment it was said; silence and music are indexed without a transcript, not as errors."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from audiogen import FIXTURES, decode, scripts, silence, tone, write, write_video_with_speech

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.speech import WhisperTranscriber
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.indexing.indexer import SpaceModels
from desktop_app.core.kinds.base import CLIP, TEXT
from desktop_app.core.kinds.speech import speech_units
from desktop_app.core.progress import Progress

RECORDINGS = ("budget.mp3", "bread.flac", "talk.ogg")


@pytest.fixture(scope="module")
def speech_library(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_clip: OpenClipEncoder,
    minilm: SentenceTransformerEncoder,
    whisper: WhisperTranscriber,
) -> Iterator[tuple[Engine, Path, list[Progress]]]:
    """A folder of recordings in every supported format, indexed once for the module."""
    folder = tmp_path_factory.mktemp("recordings")
    for name in RECORDINGS:
        shutil.copy(FIXTURES / name, folder / name)
    bread = decode(FIXTURES / "bread.flac")
    write(folder / "bread copy.wav", bread)
    write(folder / "budget memo.m4a", decode(FIXTURES / "budget.mp3"))
    write(folder / "quiet room.wav", silence(8.0))
    write(folder / "beep.ogg", tone(6.0))
    home = tmp_path_factory.mktemp("home")
    engine = Engine(
        home,
        clip_loader=lambda: tiny_clip,
        text_loader=lambda: minilm,
        speech_loader=lambda: whisper,
    )
    engine.add_root(folder)
    progress = list(engine.index())
    yield engine, folder, progress
    engine.close()


def _best(engine: Engine, query: str) -> tuple[str, float]:
    hits = engine.search(query, k=5)
    assert hits, f"nothing found for {query!r}"
    top = hits[0]
    assert top.span is not None and top.span.unit == "second"
    return Path(top.path).name, top.span.start


@pytest.mark.parametrize(
    ("query", "names", "script", "part"),
    [
        ("a power cut after bad weather", {"talk.ogg"}, "talk.ogg", 1),
        (
            "looking after vegetable plants while someone is on vacation",
            {"talk.ogg"},
            "talk.ogg",
            2,
        ),
        (
            "reducing company spending on business trips",
            {"budget.mp3", "budget memo.m4a"},
            "budget.mp3",
            0,
        ),
        ("a recipe for baking a loaf", {"bread.flac", "bread copy.wav"}, "bread.flac", 0),
    ],
)
def test_a_query_for_a_sentences_meaning_finds_its_recording_and_moment(
    speech_library: tuple[Engine, Path, list[Progress]],
    query: str,
    names: set[str],
    script: str,
    part: int,
) -> None:
    engine, _, _ = speech_library
    name, start = _best(engine, query)
    assert name in names
    truth = scripts()[script]["parts"][part]["start"]  # type: ignore[index]
    assert abs(start - truth) <= 2.0, (query, start, truth)


def test_recordings_are_indexed_with_language_and_silence_has_no_transcript(
    speech_library: tuple[Engine, Path, list[Progress]],
) -> None:
    engine, folder, _ = speech_library
    assert engine.errors() == []
    store = engine.library.reader()
    for name in ("quiet room.wav", "beep.ogg"):
        record = engine.file(folder / name)
        assert record.status == "indexed"
        assert store.speech_of(record.id) == {
            "has_speech": False,
            "language": None,
            "seconds": pytest.approx(8.0 if name.endswith("wav") else 6.0, abs=0.1),
            "note": None,
        }
        vset = engine.library.searchable_set(TEXT)
        assert vset is not None and store.vectors_of_file(vset.id, record.id) == []
    for name in (*RECORDINGS, "bread copy.wav", "budget memo.m4a"):
        heard = store.speech_of(engine.file(folder / name).id)
        assert heard is not None and heard["has_speech"] and heard["language"] == "en"


def test_a_hit_quotes_the_words_said_there(
    speech_library: tuple[Engine, Path, list[Progress]],
) -> None:
    engine, _, _ = speech_library
    hit = engine.search("the town lost electricity", k=1)[0]
    assert "electricity" in (hit.snippet or "").lower()
    assert hit.span is not None and hit.span.describe() == "@ 00:09"


def test_transcription_is_its_own_phase_after_the_quick_ones_with_audio_left(
    speech_library: tuple[Engine, Path, list[Progress]],
) -> None:
    _, _, progress = speech_library
    phases = [p.phase for p in progress]
    assert "recordings" in phases
    spoken = [p for p in progress if p.phase == "recordings"]
    first, last = spoken[0], spoken[-1]
    assert first.verb == "Transcribing" and first.total == 7
    seconds = {name: float(s["seconds"]) for name, s in scripts().items()}  # type: ignore[arg-type]
    total = sum(seconds.values()) + seconds["budget.mp3"] + seconds["bread.flac"] + 8.0 + 6.0
    assert first.media_s == pytest.approx(total, abs=1.0)
    assert first.headline().startswith("Transcribing 1 of 7 recordings · ")
    assert first.headline().endswith("min of audio left")
    assert last.done == 7 and last.media_left_s == pytest.approx(0.0, abs=0.5)


def test_a_videos_aac_soundtrack_gives_timed_text_units(
    tmp_path: Path, whisper: WhisperTranscriber, minilm: SentenceTransformerEncoder
) -> None:
    video = write_video_with_speech(tmp_path / "clip.mp4", decode(FIXTURES / "talk.ogg"))
    extracted = speech_units(str(video), SpaceModels({TEXT: minilm}, lambda: whisper))
    assert extracted.meta["has_speech"] and extracted.meta["language"] == "en"
    assert extracted.meta["duration"] == pytest.approx(28.85, abs=0.5)
    storm = [u for u in extracted.units if "electricity" in (u.text or "")]
    assert len(storm) == 1 and storm[0].span is not None
    assert storm[0].span.unit == "second" and abs(storm[0].span.start - 8.98) <= 2.0
    assert all(u.space == TEXT for u in extracted.units)


def test_a_videos_soundtrack_is_transcribed_after_its_frames_and_found_at_its_moment(
    tmp_path: Path,
    tiny_clip: OpenClipEncoder,
    minilm: SentenceTransformerEncoder,
    whisper: WhisperTranscriber,
) -> None:
    """Frames first (quick pass), then the soundtrack (later pass): a words query finds the
    moment something is said in a video; a speech model change re-transcribes it and keeps
    its frames."""
    folder = tmp_path / "videos"
    folder.mkdir()
    write_video_with_speech(folder / "town meeting.mp4", decode(FIXTURES / "talk.ogg"))
    with Engine(
        tmp_path / "home",
        clip_loader=lambda: tiny_clip,
        text_loader=lambda: minilm,
        speech_loader=lambda: whisper,
    ) as engine:
        engine.add_root(folder)
        phases = list(dict.fromkeys(p.phase for p in engine.index()))
        assert phases == ["scanning", "videos", "videos' soundtracks", "done"]
        record = engine.file(folder / "town meeting.mp4")
        assert record.status == "indexed"
        hit = engine.search("a power cut after bad weather", k=1, kinds=("video",))[0]
        assert Path(hit.path).name == "town meeting.mp4"
        assert hit.span is not None and hit.span.unit == "second"
        truth = scripts()["talk.ogg"]["parts"][1]["start"]  # type: ignore[index]
        assert abs(hit.span.start - truth) <= 2.0
        assert "electricity" in (hit.snippet or "").lower()
        store = engine.library.reader()
        heard = store.speech_of(record.id)
        assert heard is not None and heard["has_speech"]
        frames_set = engine.library.searchable_set(CLIP)
        assert frames_set is not None
        frames = store.vectors_of_file(frames_set.id, record.id)
        assert frames

        freed = engine.library.store.forget_space(("audio", "video"), TEXT)
        engine.library.drop_labels(freed)
        assert engine.file(folder / "town meeting.mp4").status == "pending"
        phases = list(dict.fromkeys(p.phase for p in engine.index()))
        assert phases == ["scanning", "videos' soundtracks", "done"], "frames were kept"
        assert len(store.vectors_of_file(frames_set.id, record.id)) == len(frames)
        assert engine.search("a power cut after bad weather", k=1, kinds=("video",))
