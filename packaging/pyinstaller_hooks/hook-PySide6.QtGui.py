"""PySide6.QtGui as PyInstaller collects it, less the GTK 3 platform theme.

That plugin would bring the build machine's GTK, GDK, cairo, pango and ATK along (about 30 MB),
which then meet the user's own GTK modules and themes at run time, a known source of crashes in
frozen Qt apps. Without it Qt draws its Fusion style, and file dialogs still go through the
desktop's portal (the xdgdesktopportal theme stays).
"""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [entry for entry in binaries if "libqgtk3" not in entry[0]]
