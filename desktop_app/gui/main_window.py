"""The main window: search bar, library panel, results grid, preview, status and banner.

It owns the background work: one indexing task at a time (started on launch to catch up,
when folders change, and when the watcher sees changes), searches on the thread pool (an
answer to a query that is no longer current is dropped), and model downloads.
"""

import os
import time
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QMimeData,
    QObject,
    QPoint,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QImage,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app import __version__
from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.core.progress import Progress
from desktop_app.core.scanner import IMAGE_EXTENSIONS
from desktop_app.core.search import Hit
from desktop_app.core.watcher import FolderWatcher, WatchMode
from desktop_app.gui.downloads import DownloadTask
from desktop_app.gui.library_panel import LibraryPanel
from desktop_app.gui.preview import PreviewPane, open_file, show_in_folder
from desktop_app.gui.results import HitRole, ResultsModel, ResultsView
from desktop_app.gui.search_bar import SearchBar
from desktop_app.gui.settings_dialog import SettingsDialog
from desktop_app.gui.tasks import GeneratorTask, run_async
from desktop_app.gui.thumbnails import ThumbnailCache
from desktop_app.gui.welcome import WelcomeView
from desktop_app.gui.widgets import Banner, IndexingStatus

RESULTS_K = 500
REFRESH_WHILE_INDEXING_S = 2.0


class MainWindow(QMainWindow):
    watch_fired = Signal()  # from the watcher's thread; queued to the UI thread

    def __init__(self, engine: Engine, icon: QIcon, settings: QSettings | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings or QSettings()
        self.setWindowTitle("Snapfind")
        self.setWindowIcon(icon)
        self.setAcceptDrops(True)
        self.thumbnails = ThumbnailCache(engine.thumbnail, self)
        self.results_model = ResultsModel(self.thumbnails, self)
        self._query_id = 0
        self._image_query: str | bytes | None = None
        self._similar_to: Hit | None = None
        self._task: GeneratorTask | None = None
        self._download: DownloadTask | None = None
        self._index_again = False
        self._last_refresh = 0.0
        self._watcher: FolderWatcher | None = None
        self._build(icon)
        self._restore()
        self.watch_fired.connect(self.start_index)

    # -- layout --------------------------------------------------------------------------------

    def _build(self, icon: QIcon) -> None:
        self.search_bar = SearchBar()
        self.banner = Banner()
        self.library_panel = LibraryPanel()
        self.results_view = ResultsView()
        self.results_view.setModel(self.results_model)
        self.empty_label = QLabel()
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.results_stack = QStackedWidget()
        self.results_stack.addWidget(self.empty_label)
        self.results_stack.addWidget(self.results_view)
        self.preview = PreviewPane(self.engine.thumbnail)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.library_panel)
        self.splitter.addWidget(self.results_stack)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 700, 320])
        self.welcome = WelcomeView(icon.pixmap(128, 128))
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.splitter)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addWidget(self.search_bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.indexing_status = IndexingStatus()
        self.statusBar().addPermanentWidget(self.indexing_status)
        self._build_menus()
        self.search_bar.text_query.connect(self._text_query)
        self.search_bar.image_removed.connect(self._image_removed)
        self.search_bar.filters_changed.connect(self.refresh_results)
        self.search_bar.edit.installEventFilter(self)
        self.library_panel.add_requested.connect(self.choose_folder)
        self.library_panel.remove_requested.connect(self.remove_folder)
        self.library_panel.rescan_requested.connect(self.start_index)
        self.welcome.add_requested.connect(self.choose_folder)
        self.welcome.model_box.download_requested.connect(self.download_model)
        self.welcome.model_box.cancel_requested.connect(self._cancel_download)
        self.welcome.model_box.import_requested.connect(self.import_model)
        self.banner.action_clicked.connect(self._banner_action)
        self.results_view.selectionModel().currentChanged.connect(self._selected)
        self.results_view.activated_hit.connect(lambda hit: open_file(hit.path))
        self.results_view.customContextMenuRequested.connect(self._context_menu)
        self.preview.more_like_this.connect(self.more_like_this)
        self.indexing_status.pause_toggled.connect(self._pause)
        self.indexing_status.cancel_clicked.connect(self.cancel_index)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, shortcut, slot in (
            ("&Add folder…", QKeySequence("Ctrl+O"), self.choose_folder),
            ("Search by &image…", QKeySequence("Ctrl+I"), self.choose_query_image),
            ("&Settings…", QKeySequence.StandardKey.Preferences, self.open_settings),
            ("&Quit", QKeySequence.StandardKey.Quit, self.close),
        ):
            action = QAction(text, self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            file_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Snapfind", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        sizes = self.settings.value("window/splitter")
        if isinstance(sizes, QByteArray):
            self.splitter.restoreState(sizes)
        history = self.settings.value("search/history", [])
        self.search_bar.set_history(list(history) if isinstance(history, list) else [])
        zoom = self.settings.value("results/zoom")
        if zoom is not None:
            self.results_view.set_zoom(int(zoom))

    # -- start and stop ------------------------------------------------------------------------

    def start(self) -> None:
        """After the window is shown: fill the panels, catch up with changes, start watching."""
        self.refresh_library()
        if self.engine.roots():
            self.start_index()
            self._start_watching()
        self._check_model()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("search/history", self.search_bar.history())
        self.settings.setValue("results/zoom", self.results_view.zoom())
        self.settings.sync()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop background work cleanly; what was indexed so far is kept."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        for task in (self._task, self._download):
            if task is not None:
                task.cancel()
                task.wait(60_000)
        self.thumbnails.pool.waitForDone(10_000)

    def _start_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        self._watcher = self.engine.watch(self.watch_fired.emit)

    # -- library -------------------------------------------------------------------------------

    def refresh_library(self) -> None:
        status = self.engine.status()
        modes: dict[str, WatchMode] = (
            {m.root: m for m in self._watcher.modes} if self._watcher else {}
        )
        self.library_panel.update_state(status.roots, modes, self.engine.errors())
        self.search_bar.set_folders([r.path for r in status.roots])
        self.pages.setCurrentIndex(1 if status.roots else 0)
        self.search_bar.setVisible(bool(status.roots))
        self._show_empty_state()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to the library")
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        try:
            self.engine.add_root(folder)
        except KnownError as err:
            self.banner.show_message(str(err), error=True)
            return
        self.refresh_library()
        self._start_watching()
        self.start_index()

    def remove_folder(self, folder: str) -> None:
        answer = QMessageBox.question(
            self,
            "Remove folder",
            f"Forget {folder} and its search entries?\n\nThe files themselves are not touched.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.cancel_index()
        try:
            self.engine.remove_root(folder)
        except KnownError as err:
            self.banner.show_message(str(err), error=True)
        self.refresh_library()
        self._start_watching()
        self.refresh_results()

    # -- indexing ------------------------------------------------------------------------------

    def start_index(self) -> None:
        if self._task is not None and self._task.isRunning():
            self._index_again = True  # changes arrived mid-run: one more pass afterwards
            return
        self._index_again = False
        self._task = GeneratorTask(self.engine.index, self)
        self._task.progress.connect(self._index_progress)
        self._task.failed.connect(self._index_failed)
        self._task.finished.connect(self._index_finished)
        self._task.begin()

    def cancel_index(self) -> None:
        if self._task is not None and self._task.isRunning():
            self._index_again = False
            self._task.cancel()
            self._task.wait(60_000)

    def _pause(self, paused: bool) -> None:
        if self._task is not None:
            (self._task.control.pause if paused else self._task.control.resume)()

    def _index_progress(self, progress: Progress) -> None:
        self.indexing_status.show_progress(progress)
        now = time.monotonic()
        if (
            progress.phase in ("images", "documents")
            and now - self._last_refresh > REFRESH_WHILE_INDEXING_S
        ):
            self._last_refresh = now
            self.refresh_library()
            self.refresh_results()  # new files appear as they are committed

    def _index_failed(self, message: str) -> None:
        if "not on this computer" in message:
            self._check_model()
        else:
            self.banner.show_message(message, error=True)

    def _index_finished(self) -> None:
        self.indexing_status.finish()
        self.refresh_library()
        self.refresh_results()
        if self._index_again:
            QTimer.singleShot(0, self.start_index)

    # -- the picture model ---------------------------------------------------------------------

    def _check_model(self) -> None:
        if self.engine.clip_available():
            self.welcome.model_box.hide()
            return
        choices = {m["name"]: m for m in self.engine.model_choices()}
        chosen = choices.get(self.engine.settings.clip_model, {})
        self.welcome.model_box.show_missing(
            self.engine.settings.clip_model, str(chosen.get("download_mb", "?"))
        )
        if self.engine.roots():
            self.banner.show_message(
                f"The picture model ({self.engine.settings.clip_model}) is not on this computer, "
                "so pictures cannot be indexed or searched yet. Documents work already.",
                actions=("Download model", "Import model file…"),
            )

    def _banner_action(self, name: str) -> None:
        if name == "Download model":
            self.pages.setCurrentIndex(0)
            self.download_model()
        elif name == "Import model file…":
            self.import_model()

    def download_model(self) -> None:
        self._download = DownloadTask(self.engine, self)
        self._download.progress.connect(self.welcome.model_box.show_downloading)
        self._download.failed.connect(self._download_failed)
        self._download.succeeded.connect(self._downloaded)
        self._download.start()

    def _cancel_download(self) -> None:
        if self._download is not None:
            self._download.cancel()

    def _download_failed(self, message: str) -> None:
        self._check_model()
        self.banner.show_message(message, error=True)

    def _downloaded(self) -> None:
        self.banner.hide()
        self._check_model()
        self.refresh_library()
        self.start_index()

    def import_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import CLIP weights", "", "Weights (*.safetensors *.bin *.pt *.pth)"
        )
        if path:
            self._import_model(path, "ViT-B-32")

    def _import_model(self, path: str, arch: str) -> None:
        try:
            name = self.engine.import_model(arch, Path(path))
        except KnownError as err:
            self.banner.show_message(str(err), error=True)
            return
        self.banner.show_message(f"Imported {name}; re-indexing your pictures with it.")
        self._check_model()
        self.start_index()

    # -- searching -----------------------------------------------------------------------------

    def _text_query(self, text: str) -> None:
        self._image_query = None
        self._similar_to = None
        self.refresh_results()

    def _image_removed(self) -> None:
        self._image_query = None
        self._similar_to = None
        self.refresh_results()

    def search_by_image(self, source: str | bytes, image: QImage | None = None) -> None:
        """Search for pictures like a file or image bytes (dropped, pasted or chosen)."""
        self._similar_to = None
        self._image_query = source
        if image is None:
            image = QImage(source) if isinstance(source, str) else QImage.fromData(source)
        name = os.path.basename(source) if isinstance(source, str) else "Pasted image"
        self.search_bar.show_image(image, name)
        self.refresh_results()

    def more_like_this(self, hit: Hit) -> None:
        self._image_query = None
        self._similar_to = hit
        thumb = self.thumbnails.get(hit)
        self.search_bar.show_image(
            thumb.toImage() if thumb else QImage(hit.path), f"Like {os.path.basename(hit.path)}"
        )
        self.refresh_results()

    def choose_query_image(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS))
        path, _ = QFileDialog.getOpenFileName(self, "Search by image", "", f"Images ({patterns})")
        if path:
            self.search_by_image(path)

    def refresh_results(self) -> None:
        """Run the current query again (new filters, or new files committed)."""
        self._query_id += 1
        query_id = self._query_id
        kinds, folders = self.search_bar.kinds(), self.search_bar.folders()
        engine = self.engine
        if self._similar_to is not None:
            target = self._similar_to.file_id
            job = lambda: engine.similar(target, RESULTS_K, folders=folders)  # noqa: E731
        elif self._image_query is not None:
            source = self._image_query
            job = lambda: engine.search_image(source, RESULTS_K, folders=folders)  # noqa: E731
        elif self.search_bar.text():
            text = self.search_bar.text()
            job = lambda: engine.search(text, RESULTS_K, kinds=kinds, folders=folders)  # noqa: E731
        else:
            self.results_model.set_hits([])
            self._show_empty_state()
            return
        run_async(
            job,
            lambda hits: self._results(query_id, hits),
            lambda message: self._search_failed(query_id, message),
        )

    def _results(self, query_id: int, hits: list[Hit]) -> None:
        if query_id != self._query_id:
            return  # a newer query is on its way
        selected = self.preview.hit()
        self.results_model.set_hits(hits)
        self._show_empty_state()
        if selected is not None:
            for row, hit in enumerate(hits):
                if hit.file_id == selected.file_id:
                    self.results_view.setCurrentIndex(self.results_model.index(row))
                    return
        self.preview.show_hit(None)

    def _search_failed(self, query_id: int, message: str) -> None:
        if query_id == self._query_id:
            self.banner.show_message(message, error=True)

    def _show_empty_state(self) -> None:
        if self.results_model.rowCount() > 0:
            self.results_stack.setCurrentIndex(1)
            return
        status_roots = self.library_panel.roots.rowCount()
        searching = bool(self.search_bar.text() or self._image_query or self._similar_to)
        if not status_roots:
            text = "Library is empty. Add a folder to start."
        elif searching:
            text = "No matches. Try other words, or another folder or kind filter."
        else:
            text = "Type what you are looking for, or drop a photo here."
        self.empty_label.setText(f"<span style='font-size:15px'>{text}</span>")
        self.results_stack.setCurrentIndex(0)

    def _selected(self) -> None:
        index = self.results_view.currentIndex()
        self.preview.show_hit(index.data(HitRole) if index.isValid() else None)

    def _context_menu(self, position: QPoint) -> None:
        index = self.results_view.indexAt(position)
        if not index.isValid():
            return
        hit: Hit = index.data(HitRole)
        menu = QMenu(self)
        menu.addAction("More like this", lambda: self.more_like_this(hit))
        menu.addAction("Open", lambda: open_file(hit.path))
        menu.addAction("Show in folder", lambda: show_in_folder(hit.path))
        menu.addAction("Copy path", lambda: QGuiApplication.clipboard().setText(hit.path))
        menu.popup(self.results_view.viewport().mapToGlobal(position))

    # -- drag, drop and paste ------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.handle_mime(event.mimeData()):
            event.acceptProposedAction()

    def handle_mime(self, mime: QMimeData) -> bool:
        """Folders are added to the library; a picture becomes the query."""
        paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        folders = [p for p in paths if os.path.isdir(p)]
        for folder in folders:
            self.add_folder(folder)
        pictures = [p for p in paths if os.path.isfile(p)]
        if pictures:
            self.search_by_image(pictures[0])
            return True
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                self.search_by_image(_png_bytes(image), image)
                return True
        return bool(folders)

    def paste(self) -> bool:
        """Ctrl+V: a copied picture or image file becomes the query."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not (mime.hasImage() or mime.hasUrls()):
            return False
        return self.handle_mime(mime)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.matches(QKeySequence.StandardKey.Paste)
            and self.paste()
        ):
            return True  # a picture was pasted; text pastes go to the search field as usual
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste) and self.paste():
            return
        super().keyPressEvent(event)

    # -- dialogs -------------------------------------------------------------------------------

    def open_settings(self) -> None:
        s = self.engine.settings
        dialog = SettingsDialog(
            self.engine.model_choices(),
            s.clip_model,
            str(self.engine.home),
            list(s.exclude),
            s.include_hidden,
            s.threads,
            self,
        )
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.apply_settings(dialog)

    def apply_settings(self, dialog: SettingsDialog) -> None:
        choice = dialog.choice()
        s = self.engine.settings
        s.exclude, s.include_hidden, s.threads = (
            choice.exclude,
            choice.include_hidden,
            choice.threads,
        )
        self.engine.save_settings()
        if choice.data_folder != str(self.engine.home):
            self.settings.setValue("library/home", choice.data_folder)
            self.banner.show_message(f"Snapfind will use {choice.data_folder} from the next start.")
        if choice.import_file and choice.import_arch:
            self._import_model(choice.import_file, choice.import_arch)
            return
        if choice.model != s.clip_model:
            try:
                self.engine.set_model(choice.model)
            except KnownError as err:
                self.banner.show_message(str(err), error=True)
                return
            self.banner.show_message(
                f"Now using {choice.model}. Pictures are being re-indexed in the background; "
                "searches use the previous model until that is done."
            )
            self._check_model()
        self.start_index()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Snapfind",
            f"<h3>Snapfind {__version__}</h3>"
            "<p>Find your photos and notes by meaning, offline.</p>"
            f"<p>Picture model: {self.engine.settings.clip_model}<br>"
            "Document model: all-MiniLM-L6-v2<br>"
            f"Data folder: {self.engine.home}</p>",
        )


def _png_bytes(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QBuffer.OpenModeFlag.WriteOnly)
    image.save(buffer, b"PNG")
    return bytes(buffer.data().data())
