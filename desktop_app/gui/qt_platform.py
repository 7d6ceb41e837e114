"""Say in one line what to install when Qt could not open a window, instead of Qt's abort.

On Linux, Qt draws through its xcb platform plugin, which needs X11 client libraries that a
desktop usually has and a minimal install lacks (``libxcb-cursor0`` and friends). When one is
missing, Qt prints a paragraph about plugins and aborts the process, which a person cannot act
on. Before the application object exists, this module loads the plugin the way Qt would and
connects to the display; a failure becomes a sentence naming the packages to install.
"""

import ctypes
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# The libraries Qt's xcb plugin links that minimal systems are known to lack:
# soname -> (Debian/Ubuntu package, Fedora package).
XCB_PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
}

Loader = Callable[[str], object]


def missing_libraries(load: Loader = ctypes.CDLL) -> list[str]:
    """The sonames of ``XCB_PACKAGES`` that the dynamic loader cannot find."""
    missing = []
    for soname in XCB_PACKAGES:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return missing


def install_hint(missing: list[str]) -> str:
    """One line: which packages provide ``missing``, for Debian/Ubuntu and for Fedora."""
    debian = sorted({XCB_PACKAGES[name][0] for name in missing if name in XCB_PACKAGES})
    fedora = sorted({XCB_PACKAGES[name][1] for name in missing if name in XCB_PACKAGES})
    libraries = ", ".join(missing)
    if not debian:
        return (
            f"snapfind: Qt cannot open a window: {libraries} is missing; install the package "
            "of your distribution that provides it."
        )
    return (
        f"snapfind: Qt cannot open a window: {libraries} missing. Install them with "
        f"`sudo apt install {' '.join(debian)}` (Debian, Ubuntu) or "
        f"`sudo dnf install {' '.join(fedora)}` (Fedora)."
    )


def uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will draw through xcb: asked for, or the default outside a Wayland session."""
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen == "xcb"
    wayland = environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland"
    return not wayland


def xcb_plugin(plugin_dirs: list[Path]) -> Path | None:
    for folder in plugin_dirs:
        candidate = folder / "platforms" / "libqxcb.so"
        if candidate.is_file():
            return candidate
    return None


def plugin_dirs() -> list[Path]:
    """Where Qt looks for plugins: its configured path, then the folder beside PySide6."""
    import PySide6
    from PySide6.QtCore import QLibraryInfo

    folders = [Path(p) for p in os.environ.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    folders.append(Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)))
    folders.append(Path(PySide6.__file__).parent / "Qt" / "plugins")
    return folders


def display_error(environ: Mapping[str, str], load: Loader = ctypes.CDLL) -> str | None:
    """Connect to the X server as Qt would; the reason it fails, or None."""
    display = environ.get("DISPLAY", "")
    if not display:
        return "no display to open a window on (DISPLAY is not set)"
    xcb = load("libxcb.so.1")
    connect = xcb.xcb_connect  # type: ignore[attr-defined]
    connect.restype = ctypes.c_void_p
    connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    has_error = xcb.xcb_connection_has_error  # type: ignore[attr-defined]
    has_error.argtypes = [ctypes.c_void_p]
    disconnect = xcb.xcb_disconnect  # type: ignore[attr-defined]
    disconnect.argtypes = [ctypes.c_void_p]
    connection = connect(display.encode(), None)
    failed = has_error(connection)
    disconnect(connection)
    return f"cannot connect to the display {display!r}" if failed else None


def platform_problem(
    environ: Mapping[str, str] | None = None,
    load: Loader = ctypes.CDLL,
    dirs: list[Path] | None = None,
) -> str | None:
    """A one-line explanation of why Qt would abort at start, or None when it should not."""
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or not uses_xcb(environ):
        return None
    plugin = xcb_plugin(plugin_dirs() if dirs is None else dirs)
    if plugin is None:
        return None  # an unusual Qt layout: let Qt speak for itself
    try:
        load(str(plugin))
    except OSError as err:
        missing = missing_libraries(load)
        if not missing:  # something outside the known list: name it from the loader's error
            found = re.search(r"(\S+\.so[.\d]*): cannot open", str(err))
            missing = [found.group(1) if found else str(err)]
        return install_hint(missing)
    problem = display_error(environ, load)
    if problem:
        return (
            f"snapfind: {problem}. Start Snapfind from your desktop session "
            "(QT_QPA_PLATFORM=offscreen runs it without a screen)."
        )
    return None
