"""Videos in the window: the card shows the matched frame with a play badge and its time; the
preview shows that frame, the filmstrip with the matching moments marked, and plays from the
moment inside the app; More like this starts from the frame. The player also plays sound."""

from pathlib import Path

import pytest
from gui_support import WAIT_MS, settle_pools, wait_indexed
from imagegen import save_scene, scene
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from videogen import write_audio_only, write_video

from desktop_app.core.searching.terms import Query, image
from desktop_app.gui.cards import VideoCard, card_for, play_badge
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.media_player import MediaPlayer, playback_available

pytestmark = pytest.mark.usefixtures("qt_pools_idle")
# Qt Multimedia's FFmpeg backend reports what this headless machine lacks (VA-API, a sound
# server, window hints) as warnings: not the app's.
PLAYER_NOISE = pytest.mark.qt_log_ignore(
    "va", "PulseAudio", "propagateSizeHints", "No HW decoder", "audio device", "RHI", "QRhi"
)
SIZE = (160, 96)


def shot_picture(seed: int) -> Image.Image:
    return scene(seed, (SIZE[0] + 40, SIZE[1] + 40)).crop((0, 0, *SIZE))


@pytest.fixture
def video_library(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    write_video(folder / "holiday.mp4", [(11, 3), (12, 3), (13, 3)], size=SIZE)
    save_scene(folder / "photo.jpg", 31, SIZE)
    window.add_folder(str(folder))
    wait_indexed(qtbot, window, indexed=2)
    return folder


def search_by_frame(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    query = tmp_path / "query.png"
    shot_picture(12).save(query)
    window.search_by_image(str(query))
    qtbot.waitUntil(lambda: window.results_model.rowCount() == 2, timeout=WAIT_MS)


def video_row(window: MainWindow) -> int:
    return next(i for i, h in enumerate(window.results_model.hits()) if h.kind == "video")


@PLAYER_NOISE
def test_a_video_hit_shows_its_frame_strip_and_plays_from_the_moment(
    qtbot: QtBot, window: MainWindow, video_library: Path, tmp_path: Path
) -> None:
    search_by_frame(qtbot, window, tmp_path)
    model, preview = window.results_model, window.preview
    row = video_row(window)
    hit = model.hits()[row]
    assert isinstance(card_for(hit), VideoCard) and hit.moment == 3.0
    # The tile: the frame at 00:03, badged, once it arrived.
    qtbot.waitUntil(lambda: window.thumbnails.picture(hit.file_id) is not None, timeout=WAIT_MS)
    index = model.index(row)
    assert "@ 00:03" in index.data(Qt.ItemDataRole.ToolTipRole)
    window.results_view.setCurrentIndex(index)
    assert preview.hit() == hit
    assert preview.fields["Moment"].text() == "00:03–00:06"
    assert preview.fields["Length"].text() == "00:09"
    assert "H264" in preview.fields["Video"].text()
    assert not preview.form.isRowVisible(preview.fields["Skipped"])
    strip = preview.video.strip
    qtbot.waitUntil(lambda: strip.count() >= 3, timeout=WAIT_MS)
    assert strip.marked() == [m for m in strip.moments() if 3.0 <= m < 6.0]
    assert 3.0 in strip.marked() and 0.0 not in strip.marked()
    qtbot.waitUntil(lambda: not strip.item(0).icon().isNull(), timeout=WAIT_MS)
    assert preview.video.play_button.text() == "Play from 00:03"
    window.resize(1200, 800)
    if not playback_available():
        pytest.skip("Qt Multimedia has no backend here")
    qtbot.mouseClick(preview.video.play_button, Qt.MouseButton.LeftButton)
    player = preview.video.player
    assert player is not None
    qtbot.waitUntil(player.is_playing, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: player.position_seconds() >= 3.0, timeout=WAIT_MS)
    assert not preview.picture.isVisible() and player.isVisible()
    window.grab().save(str(tmp_path / "video-preview.png"))
    # Choosing another result stops the player and lets go of the file.
    window.results_view.setCurrentIndex(model.index(1 - row))
    assert not player.is_playing() and player.path is None and preview.picture.isVisible()
    settle_pools(window)


@PLAYER_NOISE
def test_more_like_this_from_a_video_starts_from_its_frame(
    qtbot: QtBot, window: MainWindow, video_library: Path, tmp_path: Path
) -> None:
    search_by_frame(qtbot, window, tmp_path)
    hit = window.results_model.hits()[video_row(window)]
    window.more_like_this(hit)
    (term,) = window.search_bar.query().terms
    assert (term.kind, term.value, term.at) == ("file", hit.file_id, 3.0)
    assert window.search_bar.chips.chips()[0]._label == "Like holiday.mp4 @ 00:03"
    qtbot.waitUntil(
        lambda: [h.path for h in window.results_model.hits()] == [str(video_library / "photo.jpg")],
        timeout=WAIT_MS,
    )
    settle_pools(window)


def test_the_play_badge_marks_the_picture_and_keeps_its_size(qtbot: QtBot) -> None:
    picture = QImage(200, 120, QImage.Format.Format_RGB32)
    picture.fill(Qt.GlobalColor.white)
    from PySide6.QtGui import QPixmap

    badged = play_badge(QPixmap.fromImage(picture), "03:41").toImage()
    assert badged.size() == picture.size()
    assert badged.pixelColor(12, 110) != picture.pixelColor(12, 110)  # the badge, lower left
    assert badged.pixelColor(100, 20) == picture.pixelColor(100, 20)  # the frame, untouched


@PLAYER_NOISE
def test_the_player_plays_sound_only_files_from_a_moment(qtbot: QtBot, tmp_path: Path) -> None:
    if not playback_available():
        pytest.skip("Qt Multimedia has no backend here")
    parent = QWidget()
    qtbot.addWidget(parent)
    player = MediaPlayer(parent)
    parent.resize(400, 300)
    parent.show()
    memo = write_audio_only(tmp_path / "memo.m4a", seconds=4.0)
    player.play(str(memo), 1.5)
    qtbot.waitUntil(player.is_playing, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: player.position_seconds() >= 1.5, timeout=WAIT_MS)
    assert player.pages.currentWidget() is player.sound
    assert "memo.m4a" in player.sound.text()
    player.stop()


@PLAYER_NOISE
def test_a_file_that_cannot_play_says_so_and_offers_the_system_player(
    qtbot: QtBot, tmp_path: Path
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    player = MediaPlayer(parent)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x13" * 500)
    with qtbot.waitSignal(player.problem, timeout=WAIT_MS) as said:
        player.play(str(broken), 61.0)
    assert "Cannot play this file here" in said.args[0] and "01:01" in said.args[0]
    assert player.pages.currentWidget() is player.message
    assert player.system_button.isEnabled()
    player.stop()


def test_an_image_query_term_is_unchanged(tmp_path: Path) -> None:
    """Pictures still search as pictures (the video moment is only for indexed files)."""
    term = image(str(tmp_path / "x.jpg"))
    assert term.at is None and Query((term,)).terms[0].kind == "image"
