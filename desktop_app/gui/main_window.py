"""The main window: search bar, library panel, results grid, preview, status and banner.

It builds the widgets and wires them to the background work: indexing and the folder watcher
(an :class:`IndexingController`), searches on the thread pool (an answer to a query that is no
longer current is dropped), and model downloads.
"""

import time

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QMimeData,
    QObject,
    QSettings,
    Qt,
    QTimer,
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
    QAbstractItemView,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.core.kinds import registry
from desktop_app.core.kinds.image import IMAGE_EXTENSIONS
from desktop_app.core.progress import Progress
from desktop_app.core.searching.ranking import Hit
from desktop_app.gui import settings_flow, window_state
from desktop_app.gui.browse_page import BrowsePage
from desktop_app.gui.busy import BusyLine, waiting_for
from desktop_app.gui.cards import timeline_kinds
from desktop_app.gui.dropping import read_mime
from desktop_app.gui.duplicates import DuplicatesDialog, open_duplicates
from desktop_app.gui.hit_menu import pop_up_hit_menu
from desktop_app.gui.indexing import IndexingController
from desktop_app.gui.library_panel import LibraryPanel
from desktop_app.gui.model_setup import DOWNLOAD, IMPORT, ModelSetup
from desktop_app.gui.preview import PreviewPane, open_file
from desktop_app.gui.query import Searcher
from desktop_app.gui.results import HitRole, ResultsModel
from desktop_app.gui.results_page import ResultsPage
from desktop_app.gui.search_bar import SearchBar
from desktop_app.gui.settings_dialog import SettingsDialog
from desktop_app.gui.thumbnails import ThumbnailCache
from desktop_app.gui.toolbar import MainToolBar
from desktop_app.gui.vector_move import FAILED, VectorMove
from desktop_app.gui.welcome import WelcomeView
from desktop_app.gui.widgets import Banner, IndexingStatus, show_about

REFRESH_WHILE_INDEXING_S = 2.0


class MainWindow(QMainWindow):
    def __init__(self, engine: Engine, icon: QIcon, settings: QSettings | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings or QSettings()
        self.setWindowTitle("Snapfind")
        self.setWindowIcon(icon)
        self.setAcceptDrops(True)
        self.thumbnails = ThumbnailCache(engine.thumbnail, self)
        self.results_model = ResultsModel(self.thumbnails, self)
        self.searcher = Searcher(engine, self)
        self.indexing = IndexingController(engine, self)
        self._last_refresh = 0.0
        self._new_query = False  # the answer awaited is to a changed query, not a refresh
        self.vector_move = VectorMove(engine, self.indexing, self, self.settings)
        self._build(icon)
        window_state.restore(self)
        self._placeholder()

    # -- layout --------------------------------------------------------------------------------

    def _build(self, icon: QIcon) -> None:
        self.search_bar = SearchBar()
        self.banner = Banner()
        self.library_panel = LibraryPanel()
        self.results_stack = ResultsPage(self.results_model)
        self.results_view, self.empty_label = (
            self.results_stack.view,
            self.results_stack.empty_label,
        )
        self.browse_page = BrowsePage(self.engine, self.thumbnails)
        self.browse_view = self.browse_page.view
        self.results_stack.addWidget(self.browse_page)
        self.preview = PreviewPane(
            self.engine.thumbnail, moments=self.engine.moments, text_lines=self.engine.text_lines
        )
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
        self.zoom_slider = self.results_view.zoom_slider()
        self.statusBar().addPermanentWidget(self.zoom_slider)
        self._build_menus()
        self.search_bar.query_changed.connect(self.new_search)
        self.search_bar.filters_changed.connect(self.new_search)
        self.search_bar.edit.installEventFilter(self)
        self.search_bar.results_requested.connect(self.focus_results)
        # Tab from the words goes straight to the hits; the buttons beside the field come after.
        QWidget.setTabOrder(self.search_bar.edit, self.results_view)
        QWidget.setTabOrder(self.results_view, self.browse_view)
        self.library_panel.add_requested.connect(self.choose_folder)
        self.library_panel.remove_requested.connect(self.remove_folder)
        self.library_panel.rescan_requested.connect(self.indexing.start)
        self.welcome.add_requested.connect(self.choose_folder)
        self.model_setup = ModelSetup(self.engine, self.welcome.model_box, self)
        self.model_setup.ready.connect(self.indexing.start)
        self.model_setup.message.connect(self._model_message)
        self.banner.action_clicked.connect(self._banner_action)
        self.busy = BusyLine(
            self.results_stack.summary, self.results_view, lambda: waiting_for(self.engine), self
        )
        self.searcher.started.connect(self._search_started)
        self.searcher.results.connect(self._results)
        self.searcher.failed.connect(self._search_failed)
        self.results_view.selectionModel().currentChanged.connect(self._selected)
        # Show weaker matches replaces the hits shown (nothing selected): the preview follows.
        self.results_stack.show_weaker.toggled.connect(self._selected)
        self.results_view.activated_hit.connect(lambda hit: open_file(hit.path))
        self.results_view.customContextMenuRequested.connect(
            lambda pos: pop_up_hit_menu(self.results_view, pos, self, self.more_like_this)
        )
        self.browse_view.selectionModel().currentChanged.connect(self._browse_selected)
        self.browse_view.activated_hit.connect(lambda hit: open_file(hit.path))
        self.browse_view.customContextMenuRequested.connect(
            lambda pos: pop_up_hit_menu(self.browse_view, pos, self, self.more_like_this)
        )
        self.results_view.zoomed.connect(self.browse_view.set_tile_size)
        self.preview.more_like_this.connect(self.more_like_this)
        self.indexing_status.pause_toggled.connect(self.indexing.set_paused)
        self.indexing_status.cancel_clicked.connect(self.indexing.cancel)
        self.indexing.progress.connect(self._index_progress)
        self.indexing.failed.connect(self._index_failed)
        self.indexing.finished.connect(self._index_finished)
        self.vector_move.ended.connect(self._vectors_moved)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        on_toolbar: dict[str, QAction] = {}
        for text, shortcut, slot, icon_name in (
            ("&Add folder…", QKeySequence("Ctrl+O"), self.choose_folder, "add-folder"),
            ("Search by &image…", QKeySequence("Ctrl+I"), self.choose_query_image, "search-image"),
            ("Find &duplicates…", QKeySequence("Ctrl+D"), self.find_duplicates, "duplicates"),
            ("&Settings…", QKeySequence.StandardKey.Preferences, self.open_settings, "settings"),
            ("&Quit", QKeySequence.StandardKey.Quit, self.close, ""),
        ):
            action = QAction(text, self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            file_menu.addAction(action)
            if icon_name:
                on_toolbar[icon_name] = action
        self.toolbar = MainToolBar(self, on_toolbar)
        self.addToolBar(self.toolbar)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Snapfind", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def _placeholder(self) -> None:
        """The layout the first paint shows, before :meth:`start` reads anything but the list
        of folders: the library page with placeholder tiles (not the welcome page a library
        with folders never needs)."""
        if self.engine.roots():
            self.pages.setCurrentIndex(1)
            self.results_stack.setCurrentWidget(self.browse_page)
            self.browse_page.summary.setText("Opening the library…")
            self.browse_view.set_waiting(True)

    # -- start and stop ------------------------------------------------------------------------

    def start(self) -> None:
        """After the window is shown: fill the panels, catch up with changes, start watching."""
        self.refresh_library()
        if self.engine.roots():
            self.indexing.start()
            self.indexing.watch()
        self.model_setup.check()

    def closeEvent(self, event: QCloseEvent) -> None:
        window_state.save(self)
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop background work cleanly; what was indexed so far is kept."""
        self.vector_move.shutdown()
        self.indexing.shutdown()
        self.model_setup.shutdown()
        self.thumbnails.pool.waitForDone(10_000)

    # -- library -------------------------------------------------------------------------------

    def refresh_library(self) -> None:
        roots = self.engine.root_status()
        self.library_panel.update_state(roots, self.indexing.watch_modes(), self.engine.errors())
        self.search_bar.set_folders([r.path for r in roots])
        self.search_bar.filter_bar.set_cameras(self.engine.cameras())
        self.pages.setCurrentIndex(1 if roots else 0)
        self.search_bar.setVisible(bool(roots))
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
        self.indexing.watch()
        self.indexing.start()

    def remove_folder(self, folder: str) -> None:
        answer = QMessageBox.question(
            self,
            "Remove folder",
            f"Forget {folder} and its search entries?\n\nThe files themselves are not touched.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.indexing.cancel()
        try:
            self.engine.remove_root(folder)
        except KnownError as err:
            self.banner.show_message(str(err), error=True)
        self.refresh_library()
        self.indexing.watch()
        self.refresh_results()

    # -- indexing ------------------------------------------------------------------------------

    def _index_progress(self, progress: Progress) -> None:
        self.indexing_status.show_progress(progress)
        now = time.monotonic()
        if (
            progress.phase not in ("scanning", "done", "cancelled")  # a kind's files
            and now - self._last_refresh > REFRESH_WHILE_INDEXING_S
        ):
            self._last_refresh = now
            self.refresh_library()
            self.refresh_results()  # new files appear as they are committed

    def _index_failed(self, message: str) -> None:
        if self.model_setup.check():  # a missing model is explained by the model box instead
            self.banner.show_message(message, error=True)

    def _model_message(self, text: str, error: bool, actions: tuple[str, ...]) -> None:
        self.banner.show_message(text, error=error, actions=actions)
        if error:
            self.refresh_library()  # e.g. a failed download: back to the results view

    def _banner_action(self, name: str) -> None:
        self.banner.hide()
        if name == DOWNLOAD:
            self.pages.setCurrentIndex(0)
            self.model_setup.download()
        elif name == IMPORT:
            self.model_setup.choose_file()

    def _index_finished(self) -> None:
        self.indexing_status.finish()
        self.refresh_library()
        self.refresh_results()

    # -- searching -----------------------------------------------------------------------------

    def search_by_image(self, source: str | bytes, image: QImage | None = None) -> None:
        """Search by a picture (a file, or image bytes dropped or pasted): it replaces the words
        typed in the field; terms kept as chips stay."""
        if image is None:
            image = QImage(source) if isinstance(source, str) else QImage.fromData(source)
        self.search_bar.add_image(source, image)

    def more_like_this(self, hit: Hit) -> None:
        thumb = self.thumbnails.get(hit)
        self.search_bar.like_only(hit, thumb.toImage() if thumb else QImage(hit.path))

    def choose_query_image(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS))
        path, _ = QFileDialog.getOpenFileName(self, "Search by image", "", f"Images ({patterns})")
        if path:
            self.search_by_image(path)

    def new_search(self) -> None:
        """The words, chips or filters changed: run the query; its answer starts at the top
        with nothing selected, as the best hits are what the person wants to see first."""
        self._new_query = True
        self.refresh_results()

    def refresh_results(self) -> None:
        """Run the same query again (new files committed, a folder removed); its answer keeps
        the person's selection where the selected file is still among the results."""
        bar = self.search_bar
        if self.searcher.run(bar.query(), bar.kinds(), bar.filters()):
            if not self._new_query:
                self.browse_page.stale = True  # the library changed behind the query
            return
        new_query, self._new_query = self._new_query, False
        self.busy.stop()
        self.results_model.set_hits([])
        if self.library_panel.roots.rowCount() and not bar.has_query():
            # The preview first: the library comes back at the width it was left at, so it
            # is not laid out twice (and is where it was left, to the pixel).
            self._browse_selected()
        self._show_empty_state()
        if self.results_stack.currentWidget() is self.browse_page:
            self.browse_page.load(self._browse_kinds(), bar.filters(), again=not new_query)
        else:
            self.preview.show_hit(None)

    def _browse_kinds(self) -> tuple[str, ...]:
        """With no query the library shows the kinds of the kind filter, or with "All" the
        kinds that belong in a photo timeline (not every note)."""
        kinds = self.search_bar.kinds()
        return timeline_kinds() if set(kinds) == set(registry.names()) else kinds

    def _search_started(self) -> None:
        """A new query: its wait shows on the results line at once (a refresh of the same
        query, as files are indexed, runs quietly)."""
        if self._new_query:
            self.results_stack.setCurrentIndex(1)  # the results line and the grid
            self.preview.show_hit(None)  # what was selected answers no new query
            self.busy.start()

    def _search_failed(self, text: str) -> None:
        self.busy.stop()
        self.results_stack.summary.clear()
        self.banner.show_message(text, error=True)

    def _results(self, hits: list[Hit]) -> None:
        self.busy.stop()
        new_query, self._new_query = self._new_query, False
        selected = None if new_query else self.preview.hit()
        self.results_stack.show_hits(hits)
        if not hits:
            self._show_empty_state()
        if new_query:
            self.results_view.scrollToTop()
        if selected is not None:
            for row, hit in enumerate(self.results_model.hits()):  # the ones shown
                if hit.file_id == selected.file_id:
                    self.results_view.setCurrentIndex(self.results_model.index(row))
                    return
        self.preview.show_hit(None)

    def focus_results(self) -> None:
        """Down from the search field: into the grid, on the selected result or else the first
        (nothing happens while the results page shows a hint instead of hits)."""
        view: QAbstractItemView = self.results_view
        if self.browse_view.isVisible():
            view = self.browse_view
        if not view.model().rowCount() or not view.isVisible():
            return
        view.setFocus(Qt.FocusReason.OtherFocusReason)
        index = view.currentIndex() if view.currentIndex().isValid() else view.model().index(0, 0)
        select = QItemSelectionModel.SelectionFlag.ClearAndSelect
        view.selectionModel().setCurrentIndex(index, select)
        view.scrollTo(index)

    def _show_empty_state(self) -> None:
        """The hint for an empty library or an empty query; otherwise the results page shows
        the answer (or says there is none)."""
        if not self.library_panel.roots.rowCount():
            self.results_stack.show_hint("Library is empty. Add a folder to start.")
        elif not self.search_bar.has_query():
            self.results_stack.setCurrentWidget(self.browse_page)

    def _selected(self) -> None:
        index = self.results_view.currentIndex()
        folded = self.preview.isHidden()
        self.preview.show_hit(index.data(HitRole) if index.isValid() else None)
        if folded and index.isValid():  # the preview unfolds: keep the chosen tile in view
            view = self.results_view
            QTimer.singleShot(0, lambda: view.scrollTo(view.currentIndex()))

    def _browse_selected(self) -> None:
        index = self.browse_view.currentIndex()
        self.preview.show_hit(index.data(HitRole) if index.isValid() else None)

    # -- drag, drop and paste ------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.handle_mime(event.mimeData()):
            event.acceptProposedAction()

    def handle_mime(self, mime: QMimeData) -> bool:
        """Folders are added to the library; a picture becomes the query."""
        dropped = read_mime(mime)
        for folder in dropped.folders:
            self.add_folder(folder)
        if dropped.picture_file:
            self.search_by_image(dropped.picture_file)
        elif dropped.picture_bytes:
            self.search_by_image(dropped.picture_bytes, dropped.picture)
        return bool(dropped.folders or dropped.picture_file or dropped.picture_bytes)

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
        if event.key() == Qt.Key.Key_Escape and self.search_bar.has_query():
            self.search_bar.escape()  # back to the library, where it was left
            return
        super().keyPressEvent(event)

    # -- dialogs -------------------------------------------------------------------------------

    def open_settings(self) -> None:
        """Edit ▸ Settings…; applied as :func:`settings_flow.apply_settings` says."""
        dialog = settings_flow.settings_dialog(self.engine, self)
        if dialog.exec() == SettingsDialog.DialogCode.Accepted:
            self.apply_settings(dialog)

    def apply_settings(self, dialog: SettingsDialog) -> None:
        settings_flow.apply_settings(self, dialog)

    def _vectors_moved(self, outcome: str, message: str) -> None:
        self.refresh_library()
        self.refresh_results()
        if outcome == FAILED:
            QMessageBox.warning(self, "Vector store not changed", message)
        else:
            self.banner.show_message(message)

    def find_duplicates(self) -> DuplicatesDialog:
        """File ▸ Find duplicates…: a window of its own, on this window's library."""
        return open_duplicates(self.engine, self.thumbnails, self)

    def show_about(self) -> None:
        show_about(self, self.engine.settings.clip_model, str(self.engine.home))
