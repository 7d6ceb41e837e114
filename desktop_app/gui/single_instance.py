"""One window per library: a second launch on the same data folder brings the running
window forward and exits, instead of failing on the library's lock with "Another Snapfind is
updating the library" while the first one sat idle behind other windows.

The running app listens on a local socket named after its data folder; a new launch that can
connect to it asks it to show itself.
"""

import hashlib
import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QWidget

CONNECT_MS = 500
SHOW = b"show\n"


def server_name(home: Path) -> str:
    """Per user and data folder, short enough for every platform's socket names."""
    digest = hashlib.sha1(str(home).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    return f"snapfind-{hashlib.sha1(user.encode()).hexdigest()[:6]}-{digest}"


def ask_running_instance(home: Path) -> bool:
    """True when a Snapfind already runs on ``home`` and was asked to come forward."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(home))
    if not socket.waitForConnected(CONNECT_MS):
        return False
    socket.write(SHOW)
    socket.waitForBytesWritten(CONNECT_MS)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens for later launches and brings ``window`` forward for each."""

    def __init__(self, home: Path, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self.server = QLocalServer(self)
        name = server_name(home)
        if not self.server.listen(name):
            QLocalServer.removeServer(name)  # left behind by a crash
            self.server.listen(name)
        self.server.newConnection.connect(self._connected)

    def _connected(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.disconnected.connect(socket.deleteLater)
            self.bring_forward()

    def bring_forward(self) -> None:
        window = self._window
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.show()
        window.raise_()
        window.activateWindow()
