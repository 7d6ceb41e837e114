"""Edit ▸ Settings…: the dialog filled from the engine, and what applying it sets in motion.
Kept out of the main window, which only opens it."""

from typing import Protocol

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.gui.indexing import IndexingController
from desktop_app.gui.model_setup import ModelSetup
from desktop_app.gui.settings_dialog import SettingsDialog
from desktop_app.gui.vector_move import VectorMove
from desktop_app.gui.widgets import Banner


class SettingsHost(Protocol):
    """What applying the settings acts on: the main window's engine and helpers."""

    engine: Engine
    settings: QSettings
    banner: Banner
    vector_move: VectorMove
    model_setup: ModelSetup
    indexing: IndexingController


def settings_dialog(engine: Engine, parent: QWidget) -> SettingsDialog:
    """The dialog filled with the library's settings as they are now."""
    s = engine.settings
    return SettingsDialog(
        engine.model_choices(),
        s.clip_model,
        str(engine.home),
        list(s.exclude),
        s.include_hidden,
        s.threads,
        parent,
        precision=s.precision,
        precision_checks=list(engine.precision_status()["checks"]),  # type: ignore[call-overload]
        backend=engine.library.backend.describe(),  # never the token itself
        read_text_in_pictures=s.read_text_in_pictures,
    )


def apply_settings(window: SettingsHost, dialog: SettingsDialog) -> None:
    """Save what the dialog changed, say what follows from it, and start what it needs: a
    vector store move, a model import or re-index, an index run."""
    choice = dialog.choice()
    s = window.engine.settings
    s.exclude, s.include_hidden, s.threads = (
        choice.exclude,
        choice.include_hidden,
        choice.threads,
    )
    window.engine.save_settings()
    window.engine.set_precision(choice.precision)
    if choice.read_text_in_pictures != s.read_text_in_pictures:
        window.engine.set_read_text_in_pictures(choice.read_text_in_pictures)
        window.banner.show_message(
            "Reading the text in pictures: those not read yet are read in the background."
            if choice.read_text_in_pictures
            else "Pictures are now indexed by their look alone; text already read stays searchable."
        )
    if choice.data_folder != str(window.engine.home):
        window.settings.setValue("library/home", choice.data_folder)
        window.banner.show_message(f"Snapfind will use {choice.data_folder} from the next start.")
    if choice.backend is not None:  # indexing waits for the move, then catches up
        window.vector_move.start(choice.backend)
    if choice.import_file and choice.import_arch:
        window.model_setup.import_file(choice.import_file, choice.import_arch)
        return
    if choice.model != s.clip_model:
        try:
            window.engine.set_model(choice.model)
        except KnownError as err:
            window.banner.show_message(str(err), error=True)
            return
        window.banner.show_message(
            f"Now using {choice.model}. Pictures are being re-indexed in the background; "
            "until that is done, searches cover the pictures re-indexed so far."
        )
        window.model_setup.check()
    window.indexing.start()
