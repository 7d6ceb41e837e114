"""Where a library's Milvus collections live, and the server's failures as KnownErrors.

Credentials never appear in a message: the token is not part of the address shown, and is
scrubbed from any text the server or the network sends back.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pymilvus.exceptions import MilvusException

from desktop_app.core.errors import KnownError

DEFAULT_TIMEOUT_S = 30.0
# Milvus Lite answers from this process, in Python: a slow answer there is work (a large scan,
# an index being built), not a lost server, so it gets far longer.
LITE_TIMEOUT_S = 600.0
_COLLECTION_NOT_FOUND = 100
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")


class MilvusUnavailableError(KnownError):
    """The Milvus server could not do what was asked; SQLite still holds every vector."""


@dataclass(frozen=True)
class MilvusTarget:
    """Where a library's collections live. ``uri`` is a server (``http://host:19530``) or a
    Milvus Lite file (a path ending in ``.db``); ``token`` is ``user:password`` or an API key."""

    uri: str
    prefix: str
    token: str = ""
    database: str = ""

    @property
    def is_lite(self) -> bool:
        return "://" not in self.uri

    @property
    def shown(self) -> str:
        """The address as a message may show it: without any credentials written into it."""
        return re.sub(r"//[^/@]*@", "//", self.uri)

    def scrub(self, text: str) -> str:
        """``text`` with the token, and any password in the address, blanked."""
        for secret in {self.token, *self.token.split(":"), self.uri}:
            if secret and len(secret) >= 3 and secret != self.shown:
                text = text.replace(secret, self.shown if secret == self.uri else "***")
        return text


def check_prefix(prefix: str) -> str:
    """A collection name prefix Milvus accepts (letters, digits, underscores)."""
    if not _PREFIX.fullmatch(prefix):
        raise KnownError(
            f"{prefix!r} cannot name Milvus collections: use letters, digits and underscores, "
            "starting with a letter."
        )
    return prefix


@contextmanager
def milvus_errors(target: MilvusTarget, action: str) -> Iterator[None]:
    """Turn the server's and the network's failures during ``action`` into a KnownError."""
    try:
        yield
    except MilvusException as err:
        detail = target.scrub(str(getattr(err, "message", "") or err.__class__.__name__))
        if target.is_lite and "open local milvus" in detail.lower():
            raise MilvusUnavailableError(
                f"The Milvus Lite file {target.uri} is open in another program (Milvus Lite "
                "serves one process at a time). Close the other Snapfind, or move the library "
                "to a Milvus server to search it from several places."
            ) from None
        if getattr(err, "code", None) == _COLLECTION_NOT_FOUND:
            raise MilvusUnavailableError(
                f"A collection of this library disappeared from Milvus at {target.shown} while "
                f"{action} ({detail}). Open the library again: Snapfind re-uploads it from the "
                "vectors it keeps."
            ) from None
        raise MilvusUnavailableError(
            f"Milvus at {target.shown} did not answer while {action} ({detail}). Check that the "
            "server is running and reachable, then try again: nothing indexed is lost, and "
            "indexing resumes where it stopped."
        ) from None
    except (ConnectionError, TimeoutError, OSError) as err:
        raise MilvusUnavailableError(
            f"Cannot reach Milvus at {target.shown} while {action} "
            f"({target.scrub(str(err) or err.__class__.__name__)}). Check the address and "
            "that the server is running, then try again: nothing indexed is lost."
        ) from None
