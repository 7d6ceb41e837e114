"""Which engine keeps a library's vectors: embedded hnswlib files (the default) or Milvus.

The choice lives in ``backend.json`` in the data folder, beside the database it serves, so
every Snapfind that opens a shared library folder uses the same collections. It may hold a
Milvus token, so it is written readable by its owner only, and the token is never shown:
:meth:`BackendChoice.describe` says only whether one is set.

pymilvus is imported only when a library uses Milvus, so hnswlib libraries start as before.
"""

import json
import os
import secrets
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import KnownError
from desktop_app.core.vectors.backend import LabelFactSource, VectorStore
from desktop_app.core.vectors.hnsw_store import HnswStore

if TYPE_CHECKING:
    from desktop_app.core.vectors.milvus_target import MilvusTarget

HNSWLIB = "hnswlib"
MILVUS = "milvus"
KINDS = (HNSWLIB, MILVUS)
CHOICE_FILE = "backend.json"


@dataclass(frozen=True)
class BackendChoice:
    kind: str = HNSWLIB
    uri: str = ""  # Milvus: http(s)://host:port, or a Milvus Lite file (ends in .db)
    token: str = ""  # Milvus: "user:password" or an API key; never shown or logged
    database: str = ""  # Milvus: "" is the server's default database
    prefix: str = ""  # Milvus: names this library's collections ({prefix}_set{id})

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise KnownError(f"Unknown vector backend {self.kind!r}: use {' or '.join(KINDS)}.")
        if self.kind == MILVUS and not self.uri:
            raise KnownError(
                "Milvus needs an address: --uri http://host:19530 for a server, or --uri "
                "./library.milvus.db for a Milvus Lite file."
            )

    @classmethod
    def milvus(
        cls, uri: str, *, token: str = "", database: str = "", prefix: str = ""
    ) -> "BackendChoice":
        """A Milvus choice; a Lite path is made absolute, a new library gets its own prefix."""
        if "://" not in uri and uri:
            uri = str(Path(uri).expanduser().resolve())
        return cls(MILVUS, uri, token, database, prefix or f"snapfind_{secrets.token_hex(4)}")

    def target(self) -> "MilvusTarget":
        from desktop_app.core.vectors.milvus_target import MilvusTarget, check_prefix

        return MilvusTarget(self.uri, check_prefix(self.prefix), self.token, self.database)

    def describe(self) -> dict[str, Any]:
        """What a person may see: everything but the token."""
        if self.kind == HNSWLIB:
            return {"backend": HNSWLIB}
        return {
            "backend": MILVUS,
            "uri": self.target().shown,
            "database": self.database or "default",
            "collection_prefix": self.prefix,
            "token": "set" if self.token else "none",
            "lite": "://" not in self.uri,
        }

    def same_place(self, other: "BackendChoice") -> bool:
        """Whether both keep vectors in the same place (a move between them is a no-op)."""
        mine, theirs = asdict(self), asdict(other)
        mine.pop("token"), theirs.pop("token")
        return mine == theirs


def next_choice(
    current: BackendChoice,
    kind: str,
    *,
    uri: str = "",
    token: str = "",
    database: str = "",
    prefix: str = "",
) -> BackendChoice:
    """The choice a person asks for, from what they typed: going back to the server the
    library used keeps its collection prefix (the move resumes into its own collections) and,
    when no token is typed, its token."""
    if kind == HNSWLIB:
        if uri or token or database or prefix:
            raise KnownError("hnswlib takes no address, token, database or prefix.")
        return BackendChoice()
    wanted = BackendChoice.milvus(uri, database=database)  # the address made absolute
    same = current.kind == MILVUS and current.uri.rstrip("/") == wanted.uri.rstrip("/")
    return BackendChoice.milvus(
        wanted.uri,
        token=token or (current.token if same else ""),
        database=database,
        prefix=prefix or (current.prefix if same else ""),
    )


def load_choice(home: Path) -> BackendChoice:
    """The library's choice; hnswlib when none was made."""
    path = home / CHOICE_FILE
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return BackendChoice()
    except (OSError, ValueError) as err:
        raise KnownError(f"Cannot read the vector backend settings {path}: {err}.") from None
    known = {f.name for f in fields(BackendChoice)}
    try:
        return BackendChoice(**{k: str(v) for k, v in raw.items() if k in known})
    except TypeError:
        raise KnownError(f"The vector backend settings {path} are damaged.") from None


def save_choice(home: Path, choice: BackendChoice) -> None:
    """Write atomically, readable by the owner only (it may hold a token)."""
    path = home / CHOICE_FILE
    tmp = path.with_name(path.name + ".tmp")
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        if hasattr(os, "fchmod"):  # an older file's mode is no excuse
            os.fchmod(handle.fileno(), 0o600)
        json.dump(asdict(choice), handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def open_store(
    home: Path,
    choice: BackendChoice,
    facts: LabelFactSource | None,
    *,
    read_only: bool,
    timeout: float | None = None,
) -> VectorStore:
    """The store the choice names; connecting to a server happens here."""
    if choice.kind == HNSWLIB:
        return HnswStore(home / "indexes", read_only=read_only)
    from desktop_app.core.vectors.milvus_store import MilvusStore
    from desktop_app.core.vectors.milvus_target import DEFAULT_TIMEOUT_S, LITE_TIMEOUT_S

    target = choice.target()
    default = LITE_TIMEOUT_S if target.is_lite else DEFAULT_TIMEOUT_S
    return MilvusStore(target, facts, read_only=read_only, timeout=timeout or default)
