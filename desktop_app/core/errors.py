"""Typed errors raised by the core.

A :class:`KnownError` is the user's or the environment's problem (a missing model, a locked
library, a folder that does not exist); its message says what to do and a face shows it as is.
Any other exception escaping the core is a bug.
"""


class KnownError(Exception):
    """A problem the person can act on; ``str(err)`` is a complete, actionable sentence."""


class ModelNotAvailableError(KnownError):
    """Model weights are neither cached nor downloadable right now."""


class LibraryBusyError(KnownError):
    """Another process is writing to the same library."""


class NotIndexedError(KnownError):
    """A path or file id that the library does not hold."""


class CancelledError(Exception):
    """Raised inside long work when the caller cancelled it; never reaches the user as an error."""
