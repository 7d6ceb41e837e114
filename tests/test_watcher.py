"""Live folders: changes are noticed, debounced, and unreliable roots fall back to polling."""

import errno
import threading
from pathlib import Path

from imagegen import save_scene
from watchdog.observers import Observer

from desktop_app.core.indexing.watcher import FolderWatcher, filesystem_type


def _watch(roots: list[Path], **kwargs: object) -> tuple[FolderWatcher, threading.Event, list[int]]:
    fired = threading.Event()
    count: list[int] = []

    def on_change() -> None:
        count.append(1)
        fired.set()

    watcher = FolderWatcher([str(r) for r in roots], on_change, **kwargs)  # type: ignore[arg-type]
    watcher.start()
    return watcher, fired, count


def test_new_file_fires_once_after_changes_settle(tmp_path: Path) -> None:
    watcher, fired, count = _watch([tmp_path], debounce_s=0.3)
    try:
        assert [m.mode for m in watcher.modes] == ["events"]
        for i in range(5):
            save_scene(tmp_path / f"{i}.jpg", seed=i, size=(64, 64))
        assert fired.wait(5)
        fired.clear()
        assert not fired.wait(0.6)  # one burst, one notification
        assert len(count) == 1
    finally:
        watcher.stop()


def test_reading_files_is_not_a_change(tmp_path: Path) -> None:
    photo = save_scene(tmp_path / "a.jpg", seed=1, size=(64, 64))
    watcher, fired, _ = _watch([tmp_path], debounce_s=0.2)
    try:
        photo.read_bytes()
        assert not fired.wait(0.8)
    finally:
        watcher.stop()


def test_watch_limit_falls_back_to_polling(tmp_path: Path) -> None:
    class Exhausted(Observer):  # type: ignore[misc, valid-type]
        def schedule(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    watcher, fired, _ = _watch(
        [tmp_path, tmp_path / "missing"], poll_interval_s=0.2, observer_factory=Exhausted
    )
    try:
        modes = [(m.mode, m.reason) for m in watcher.modes]
        assert modes[0][0] == "polling" and "watch limit" in modes[0][1]
        assert modes[1][0] == "offline"
        assert fired.wait(3)  # the periodic re-scan fires on its own
    finally:
        watcher.stop()


def test_filesystem_type_is_read_from_mounts(tmp_path: Path) -> None:
    assert filesystem_type(str(tmp_path)) is not None
