"""Recordings in the window: a spoken hit's card shows the words said where it matched and the
moment; the status bar tells transcription apart, with the audio left."""

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.kinds.base import Span
from desktop_app.core.progress import Progress
from desktop_app.core.searching.ranking import Hit
from desktop_app.gui.cards import AudioCard, card_for, paper_card
from desktop_app.gui.preview import PreviewPane
from desktop_app.gui.widgets import IndexingStatus

WORDS = "The storm last night knocked down trees, and the whole town lost electricity."
MEMO = Hit(
    file_id=3_000_000,  # in no library
    path="/nowhere/town meeting.m4a",
    kind="audio",
    score=0.6,
    relevance=0.8,
    rank=1,
    size=900_000,
    width=None,
    height=None,
    taken_at=None,
    camera=None,
    span=Span(9.26, 15.04, "second"),
    snippet=WORDS,
)


def test_a_spoken_hit_shows_its_words_and_moment_in_the_tile_and_preview(
    qtbot: QtBot, tmp_path: Path
) -> None:
    card = card_for(MEMO)
    assert isinstance(card, AudioCard)
    assert card.place() == "@ 00:09"
    tile = card.tile(192)
    assert tile is not None
    plain = paper_card(192, Path(MEMO.path).name, WORDS)
    assert tile.toImage() != plain.toImage()  # the time badge is drawn on it
    tile.save(str(tmp_path / "audio-tile.png"))

    parent = QWidget()
    qtbot.addWidget(parent)
    preview = PreviewPane(lambda _file_id, _size: None, parent)
    preview.show_hit(MEMO)
    assert preview.picture.text() == f"00:09  “{WORDS}”"
    assert preview.fields["Said at"].text() == "00:09–00:15"
    assert preview.form.isRowVisible(preview.fields["Said at"])
    QApplication.processEvents()


def test_a_recording_without_words_says_so() -> None:
    silent = Hit(**{**MEMO.__dict__, "span": None, "snippet": None})
    card = card_for(silent)
    assert card.preview_text() == "No words were heard in it"
    assert card.details() == {}


@pytest.mark.parametrize(
    ("done", "left_s", "expected"),
    [
        (2, 12 * 60, "Transcribing 3 of 41 recordings · 12 min of audio left"),
        (40, 20, "Transcribing 41 of 41 recordings · under a minute of audio left"),
        (0, 3 * 3600 + 5 * 60, "Transcribing 1 of 41 recordings · 3 h 5 min of audio left"),
    ],
)
def test_the_status_bar_tells_transcription_apart_with_the_audio_left(
    qtbot: QtBot, done: int, left_s: float, expected: str
) -> None:
    status = IndexingStatus()
    qtbot.addWidget(status)
    total_s = 4 * 3600.0
    progress = Progress(
        "recordings",
        total=41,
        done=done,
        verb="Transcribing",
        media_s=total_s,
        media_done_s=total_s - left_s,
    )
    status.show_progress(progress)
    assert status.label.text() == expected
    status.pause_button.setChecked(True)
    assert status.label.text() == expected + " · paused"
