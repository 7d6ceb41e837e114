"""A process killed (SIGKILL) in the middle of a transcript loses at most that file, which is
transcribed again from its start on the next run, without duplicates; and recordings are only
ever read, never written."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audiogen import silence, tone, write
from speech_fakes import LoudnessTranscriber

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.kinds.base import TEXT

TESTS = Path(__file__).parent
# Indexes FOLDER into HOME with the loudness stand-in, and SIGKILLs itself at the KILL-th
# segment heard (in the middle of a recording).
_CHILD = """
import os, signal, sys
sys.path.insert(0, sys.argv[4])
from pathlib import Path
from speech_fakes import LoudnessTranscriber
from tiny_model import ARCH, write_tiny_model
from desktop_app.core.encoders.catalog import ClipSpec
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.engine import Engine
home, folder, kill = sys.argv[1], sys.argv[2], int(sys.argv[3])
_, weights = write_tiny_model(Path(home).parent / "tiny")
clip = OpenClipEncoder(ClipSpec(f"open_clip:{ARCH}/test", ARCH, weights, {}, "tiny"))
heard = []
def die(segment):
    heard.append(segment)
    if len(heard) == kill:
        os.kill(os.getpid(), signal.SIGKILL)
engine = Engine(home, clip_loader=lambda: clip, speech_loader=lambda: LoudnessTranscriber(die))
engine.add_root(folder)
for _ in engine.index():
    pass
"""


def _beeps(count: int) -> np.ndarray:
    return np.concatenate([np.concatenate([tone(1.0), silence(2.0)])] * count)


@pytest.mark.slow
def test_a_kill_mid_transcript_restarts_that_file_without_duplicates(
    tmp_path: Path, tiny_clip: OpenClipEncoder, minilm: SentenceTransformerEncoder
) -> None:
    folder = tmp_path / "memos"
    folder.mkdir()
    for number in range(4):
        write(folder / f"memo {number}.wav", _beeps(3))
    home = tmp_path / "home"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS)])}
    # 3 segments a file: the 8th is in the middle of the third file transcribed.
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(home), str(folder), "8", str(TESTS)],
        env=env,
        capture_output=True,
        timeout=240,
    )
    assert child.returncode == -9, child.stderr.decode()[-2000:]

    with Engine(
        home,
        clip_loader=lambda: tiny_clip,
        text_loader=lambda: minilm,
        speech_loader=LoudnessTranscriber,
    ) as engine:
        recordings = engine.library.reader().files_of_kind("audio")
        pending = [r for r in recordings if r.status != "indexed"]
        assert 1 <= len(pending) <= 4  # the file in hand at least, never a half transcript
        assert list(engine.index())[-1].phase == "done"
        vset = engine.library.searchable_set(TEXT)
        assert vset is not None
        store = engine.library.reader()
        for record in store.files_of_kind("audio"):
            assert record.status == "indexed"
            assert len(store.vectors_of_file(vset.id, record.id)) == 3
        assert store.vector_count(vset.id) == 12
        assert len(engine.library.index_for(vset)) == 12


def _digest(folder: Path) -> dict[str, tuple[str, int, int]]:
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
            p.stat().st_mode,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_recordings_are_only_read(
    tmp_path: Path, tiny_clip: OpenClipEncoder, minilm: SentenceTransformerEncoder
) -> None:
    folder = tmp_path / "recordings"
    (folder / "sub").mkdir(parents=True)
    write(folder / "memo.wav", _beeps(2))
    write(folder / "sub" / "talk.ogg", _beeps(3))
    write(folder / "locked.mp3", _beeps(1)).chmod(0o444)
    (folder / "broken.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A broken")
    before = _digest(folder)
    with Engine(
        tmp_path / "home",
        clip_loader=lambda: tiny_clip,
        text_loader=lambda: minilm,
        speech_loader=LoudnessTranscriber,
    ) as engine:
        engine.add_root(folder)
        list(engine.index())
        assert engine.search("sound at three seconds", k=3)
        engine.retry_failed()
        list(engine.index())
    assert _digest(folder) == before
