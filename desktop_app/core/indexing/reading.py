"""How the indexer hands a file to its kind's extractor, and fingerprints its content.

A picture or a note is read whole, once, and that same content is hashed. A kind that streams
its files (a long video) never calls ``read``: the content is then hashed in blocks, so memory
stays flat whatever the file's size.
"""

import hashlib

from desktop_app.core.kinds.base import DecodeError

HASH_BLOCK = 1 << 20


def bytes_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _read_error(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "file vanished before it could be read"
    if isinstance(err, PermissionError):
        return "permission denied"
    return f"cannot read ({err.strerror or err})"


class FileSource:
    """One file, read at most once (see :class:`desktop_app.core.kinds.base.Source`)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._data: bytes | None = None

    @property
    def path(self) -> str:
        return self._path

    def read(self) -> bytes:
        if self._data is None:
            try:
                with open(self._path, "rb") as handle:
                    self._data = handle.read()
            except OSError as err:
                raise DecodeError(_read_error(err)) from None
        return self._data

    def content_hash(self) -> str | None:
        """The content's hash: of what ``read`` returned, else of the file read in blocks
        (None when it cannot be read)."""
        if self._data is not None:
            return bytes_hash(self._data)
        digest = hashlib.blake2b(digest_size=16)
        try:
            with open(self._path, "rb") as handle:
                while block := handle.read(HASH_BLOCK):
                    digest.update(block)
        except OSError:
            return None
        return digest.hexdigest()
