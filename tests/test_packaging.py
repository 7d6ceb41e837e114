"""Packaging without a build: the menu entry, the AppStream data, their installer, the wheel's
contents, and the one line a person sees when Qt cannot open a window."""

import configparser
import os
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from desktop_app import __version__
from desktop_app.core.kinds.image import IMAGE_EXTENSIONS
from desktop_app.gui import qt_platform

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "io.github.snapfind.Snapfind"
DESKTOP = ROOT / "packaging" / f"{APP_ID}.desktop"
METAINFO = ROOT / "packaging" / f"{APP_ID}.metainfo.xml"
INSTALLER = ROOT / "packaging" / "install-desktop.sh"
# The picture types the app indexes, by the MIME type a file manager gives them.
MIME_OF_EXTENSION = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
}


def desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]


def test_desktop_entry_opens_every_picture_type_the_app_indexes() -> None:
    entry = desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert entry["Exec"].split()[0] == "snapfind" and entry["Exec"].endswith("%F")
    mimes = entry["MimeType"].rstrip(";").split(";")
    assert all(m.startswith("image/") for m in mimes)
    for extension, mime in MIME_OF_EXTENSION.items():
        assert extension in IMAGE_EXTENSIONS
        assert mime in mimes, f"{extension} files would not offer Open with Snapfind"


def test_desktop_entry_passes_the_freedesktop_validator() -> None:
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    result = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_metainfo_describes_this_app() -> None:
    component = ET.parse(METAINFO).getroot()
    assert component.get("type") == "desktop-application"
    assert component.findtext("id") == APP_ID
    assert component.find("launchable").text == f"{APP_ID}.desktop"  # type: ignore[union-attr]
    assert component.find("releases/release").get("version") == __version__  # type: ignore[union-attr]
    commands = set(project()["scripts"]) | set(project()["gui-scripts"])
    assert {b.text for b in component.iter("binary")} == commands
    shots = [image.text or "" for image in component.iter("image")]
    assert len(shots) >= 2
    for url in shots:
        assert url.startswith("https://")
        assert (ROOT / "resources" / "screenshots" / url.rsplit("/", 1)[1]).is_file(), url


def test_metainfo_passes_the_appstream_validator() -> None:
    validator = shutil.which("appstreamcli")
    if validator is None:
        pytest.skip("appstreamcli is not installed (Debian: appstream)")
    result = subprocess.run(
        [validator, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_install_desktop_installs_for_the_user_and_uninstalls(tmp_path: Path) -> None:
    app = tmp_path / "My Apps" / "snapfind"
    app.mkdir(parents=True)
    (app / "snapfind").write_text("#!/bin/sh\n", "utf-8")
    (app / "snapfind").chmod(0o755)
    data = tmp_path / "data"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    done = subprocess.run(
        ["sh", str(INSTALLER), str(app / "snapfind")], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    installed = data / "applications" / f"{APP_ID}.desktop"
    entry = desktop_entry(installed)
    assert entry["Exec"] == f'"{app / "snapfind"}" %F'  # the path has a space: quoted
    assert entry["TryExec"] == str(app / "snapfind")
    assert (data / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg").read_bytes() == (
        ROOT / "desktop_app/resources/snapfind.svg"
    ).read_bytes()
    assert (data / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    if validator := shutil.which("desktop-file-validate"):
        assert subprocess.run([validator, str(installed)]).returncode == 0

    removed = subprocess.run(
        ["sh", str(INSTALLER), "--uninstall"], capture_output=True, text=True, env=env
    )
    assert removed.returncode == 0
    assert not installed.exists()
    assert not (data / "metainfo" / f"{APP_ID}.metainfo.xml").exists()


def test_install_desktop_refuses_what_it_cannot_start(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    missing = tmp_path / "nowhere" / "snapfind"
    done = subprocess.run(
        ["sh", str(INSTALLER), str(missing)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 1
    assert "is not an executable" in done.stderr
    assert not (tmp_path / "data" / "applications").exists()


def test_wheel_carries_the_icon_and_both_commands(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "desktop_app", source / "desktop_app", ignore=_caches)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    built = subprocess.run(
        [*pip, "-w", str(tmp_path / "wheel"), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheel").glob("snapfind-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"snapfind-{__version__}.dist-info/entry_points.txt")
    assert "desktop_app/resources/snapfind.svg" in names
    assert not any(name.startswith(("tests/", "resources/")) for name in names)
    text = entry_points.decode()
    assert "snapfind-cli = desktop_app.cli:run" in text
    assert "[gui_scripts]\nsnapfind = desktop_app.gui.app:main" in text


def _caches(_folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__"]


def test_the_window_icon_ships_inside_the_package() -> None:
    from desktop_app.gui.app import RESOURCES

    assert (RESOURCES / "snapfind.svg").is_file()
    assert RESOURCES.is_relative_to(ROOT / "desktop_app")


# -- when Qt cannot open a window ------------------------------------------------------------


def fake_loader(*missing: str) -> qt_platform.Loader:
    """A dynamic loader without ``missing``; the plugin, if listed, fails on the next one."""

    def load(name: str) -> object:
        if name in missing or Path(name).name in missing:
            cause = missing[1] if Path(name).name == "libqxcb.so" else name
            raise OSError(f"{cause}: cannot open shared object file: No such file or directory")
        return object()

    return load


@pytest.fixture
def plugin_dir(tmp_path: Path) -> list[Path]:
    (tmp_path / "platforms").mkdir()
    (tmp_path / "platforms" / "libqxcb.so").write_bytes(b"")
    return [tmp_path]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux's")
def test_missing_xcb_libraries_name_the_packages_for_debian_and_fedora(
    plugin_dir: list[Path],
) -> None:
    load = fake_loader("libqxcb.so", "libxcb-cursor.so.0", "libxcb-icccm.so.4")
    line = qt_platform.platform_problem({"QT_QPA_PLATFORM": "xcb"}, load, plugin_dir)
    assert line is not None and "\n" not in line
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4 missing" in line
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4" in line
    assert "sudo dnf install xcb-util-cursor xcb-util-wm" in line


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux's")
def test_an_unlisted_missing_library_is_named_from_the_loader(plugin_dir: list[Path]) -> None:
    load = fake_loader("libqxcb.so", "libSM.so.6")
    line = qt_platform.platform_problem({}, load, plugin_dir)
    assert line is not None and "libSM.so.6" in line and "\n" not in line


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux's")
def test_no_display_is_said_plainly(plugin_dir: list[Path]) -> None:
    line = qt_platform.platform_problem({"XDG_SESSION_TYPE": "x11"}, fake_loader(), plugin_dir)
    assert line is not None and "DISPLAY is not set" in line


def test_other_platforms_are_left_to_qt(plugin_dir: list[Path]) -> None:
    everything_missing = fake_loader("libqxcb.so", *qt_platform.XCB_PACKAGES)
    for environ in (
        {"QT_QPA_PLATFORM": "offscreen"},
        {"QT_QPA_PLATFORM": "wayland;xcb"},
        {"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"},
    ):
        assert qt_platform.platform_problem(environ, everything_missing, plugin_dir) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux's")
def test_the_app_prints_one_line_instead_of_qt_aborting(tmp_path: Path) -> None:
    """The real app, asked for a window it cannot have (libraries missing on this machine, or
    a display that does not exist): exit 1 with one line, not Qt's abort."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "xcb",
        "DISPLAY": ":987",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    start = "from desktop_app.gui.app import main; raise SystemExit(main())"
    done = subprocess.run(
        [sys.executable, "-c", start, "--home", str(tmp_path / "home")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("snapfind: "), done.stderr
    assert "sudo apt install" in lines[0] or "cannot connect to the display ':987'" in lines[0]
    assert not (tmp_path / "home").exists()  # nothing was started
