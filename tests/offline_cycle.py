"""The whole index/search cycle with the network cut off, run as its own process.

``python tests/offline_cycle.py HOME FOLDER`` replaces socket creation (and name lookup) with
a function that records the attempt and raises, before anything of the app is imported, then
loads both models by the app's normal code path (the imported CLIP file, the bundled MiniLM),
indexes FOLDER, searches by text, by image and by example, and makes a thumbnail. It prints
one JSON line: the attempts seen (must be none) and what the searches found.
"""

import json
import socket
import sys
from typing import Any

attempts: list[str] = []
_RealSocket = socket.socket


class _NoNetwork(_RealSocket):
    def __init__(self, family: Any = -1, *args: Any, **kwargs: Any) -> None:
        if family != socket.AF_UNIX:  # local IPC is not the network
            if not _ipv6_probe():
                attempts.append(f"socket(family={family})")
            raise OSError("network access is blocked in this test")
        super().__init__(family, *args, **kwargs)


def _ipv6_probe() -> bool:
    """Whether urllib3 (which RapidOCR imports through requests) is asking, as it does once at
    import, whether this machine has IPv6: it binds a socket to ::1 and sends nothing."""
    caller = sys._getframe(2)
    return (
        caller.f_code.co_name == "_has_ipv6"
        and caller.f_globals.get("__name__") == "urllib3.util.connection"
    )


def _blocked(name: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(f"{name}{args[:2]}")
        raise OSError("network access is blocked in this test")

    return refuse


socket.socket = _NoNetwork  # type: ignore[misc]
socket.create_connection = _blocked("create_connection")
socket.getaddrinfo = _blocked("getaddrinfo")


def main(home: str, folder: str) -> None:
    from pathlib import Path

    from desktop_app.core.engine import Engine

    try:  # the guard itself works
        socket.create_connection(("huggingface.co", 443))
    except OSError:
        assert attempts.pop().startswith("create_connection")
    with Engine(home) as engine:
        engine.add_root(folder)
        for _ in engine.index():
            pass
        photo = Path(folder) / "p0.jpg"
        found = {
            "text": [h.path for h in engine.search("a lake at dawn", k=3)],
            "image": [h.path for h in engine.search_image(photo, k=3)],
            "similar": [h.path for h in engine.similar(photo, k=3)],
            "thumbnail": str(engine.thumbnail(str(photo), 64)),
            "counts": engine.status().counts,
        }
    print(json.dumps({"attempts": attempts, **found}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
