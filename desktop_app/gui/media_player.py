"""Playing a video or a recording inside the app, from the moment a search matched.

One widget for every timed kind: ``play(path, start_seconds)`` shows the picture when the file
has one (a video) and a plain sound panel when it has none (a voice memo, a soundtrack-only
MP4), with play/pause, a position slider and the time. It uses Qt Multimedia (its FFmpeg
backend decodes what PyAV indexes). Where Qt Multimedia has no backend, or a file will not
play, the widget says so and offers the system's player instead, which opens at the start:
the message names the moment to skip to.
"""

import os

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtMultimedia import QAudioOutput, QMediaFormat, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedLayout,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.kinds.base import clock


def playback_available() -> bool:
    """Whether Qt Multimedia has a backend that can decode anything here."""
    return bool(QMediaFormat().supportedFileFormats(QMediaFormat.ConversionMode.Decode))


class MediaPlayer(QWidget):
    """A small player: picture (or a sound panel), play/pause, position, time, and the way out
    to the system's player. ``problem`` carries a message when a file cannot play here."""

    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path: str | None = None
        self._start_ms = 0
        self._pending_start = False
        self.player = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        self.player.setAudioOutput(self.audio)
        self.video = QVideoWidget(self)
        self.video.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.player.setVideoOutput(self.video)
        self.sound = QLabel("♪", self)
        self.sound.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sound.setWordWrap(True)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages = QStackedLayout()
        for page in (self.video, self.sound, self.message):
            self.pages.addWidget(page)
        self.play_button = QPushButton(self)
        self.play_button.setToolTip("Play or pause (Space)")
        self.play_button.clicked.connect(self.toggle)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setAccessibleName("Position")
        self.slider.sliderMoved.connect(lambda ms: self.player.setPosition(ms))
        self.time = QLabel("00:00 / 00:00", self)
        self.system_button = QPushButton("Open in player", self)
        self.system_button.setToolTip("Open in the system's player (it starts at the beginning)")
        self.system_button.clicked.connect(self.open_in_system_player)
        controls = QHBoxLayout()
        for widget in (self.play_button, self.slider, self.time, self.system_button):
            controls.addWidget(widget, 1 if widget is self.slider else 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.pages, 1)
        layout.addLayout(controls)
        self.player.mediaStatusChanged.connect(self._status)
        self.player.positionChanged.connect(self._position)
        self.player.durationChanged.connect(lambda ms: self.slider.setRange(0, max(0, ms)))
        self.player.playbackStateChanged.connect(lambda _state: self._show_state())
        self.player.errorOccurred.connect(lambda _error, text: self._cannot_play(text))
        self._show_state()

    def play(self, path: str, start_seconds: float = 0.0) -> None:
        """Play ``path`` from ``start_seconds`` (a video shows its picture, a recording a
        sound panel)."""
        self.path = path
        self._start_ms = max(0, round(start_seconds * 1000))
        self.sound.setText(f"♪\n{os.path.basename(path)}")
        if not playback_available():
            self._cannot_play("this system has no media playback support for Qt")
            return
        self.pages.setCurrentWidget(self.video)
        if self.player.source() == QUrl.fromLocalFile(path) and self._loaded():
            self.player.setPosition(self._start_ms)
            self.player.play()
            return
        self._pending_start = True
        self.player.setSource(QUrl.fromLocalFile(path))

    def stop(self) -> None:
        """Stop and let go of the file (another hit was chosen, or the pane closes)."""
        self._pending_start = False
        self.player.stop()
        self.player.setSource(QUrl())
        self.path = None

    def toggle(self) -> None:
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        elif self.path is not None:
            self.player.play()

    def position_seconds(self) -> float:
        return self.player.position() / 1000

    def is_playing(self) -> bool:
        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def open_in_system_player(self) -> bool:
        """The fallback: the desktop's player for the file (at its start; Qt cannot pass a
        moment to an unknown program)."""
        if self.path is None:
            return False
        self.player.pause()
        return QDesktopServices.openUrl(QUrl.fromLocalFile(self.path))

    def _loaded(self) -> bool:
        return self.player.mediaStatus() in (
            QMediaPlayer.MediaStatus.LoadedMedia,
            QMediaPlayer.MediaStatus.BufferedMedia,
            QMediaPlayer.MediaStatus.BufferingMedia,
            QMediaPlayer.MediaStatus.EndOfMedia,
        )

    def _status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.LoadedMedia and self._pending_start:
            self._pending_start = False
            if not self.player.hasVideo():
                self.pages.setCurrentWidget(self.sound)
            self.player.setPosition(self._start_ms)
            self.player.play()
        elif status == QMediaPlayer.MediaStatus.InvalidMedia:
            self._cannot_play(self.player.errorString() or "the file cannot be decoded")

    def _position(self, ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(ms)
        self.time.setText(f"{clock(ms / 1000)} / {clock(self.player.duration() / 1000)}")

    def _show_state(self) -> None:
        icon = (
            QStyle.StandardPixmap.SP_MediaPause
            if self.is_playing()
            else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if self.is_playing() else "Play")

    def _cannot_play(self, reason: str) -> None:
        moment = clock(self._start_ms / 1000)
        text = (
            f"Cannot play this file here ({reason}). Open it in the system's player and skip "
            f"to {moment}."
        )
        self._pending_start = False
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)
        self.problem.emit(text)
