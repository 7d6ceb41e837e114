"""The library's storage. sqlite-utils is first imported here with pandas hidden from it.

sqlite-utils imports pandas when it is installed (only to map ``pandas.Timestamp`` columns,
which the library never stores), and that import alone costs 0.2-0.4 s of every one-shot
command. Hiding it changes nothing else; a process that imported pandas already keeps it.
"""

import sys

if "sqlite_utils" not in sys.modules:
    _hidden = "pandas" not in sys.modules
    if _hidden:
        sys.modules["pandas"] = None  # type: ignore[assignment]  # import then raises
    try:
        import sqlite_utils  # noqa: F401
    finally:
        if _hidden:
            del sys.modules["pandas"]
