"""A library's vector sets as collections on a Milvus server (or in a Milvus Lite file).

One collection per vector set, named ``{prefix}_set{id}``: the prefix is the library's own
(chosen when the library moves to Milvus and kept in its backend settings), so libraries sharing
a server never meet, and set ids are never reused within a library. The collection records the
model id, space and dimension that made its vectors; opening one that another model filled is
refused rather than mixed into this library's results.

Every failure of the server (unreachable, timed out, collection gone) surfaces as a
:class:`~.milvus_target.MilvusUnavailableError` that says what to do; SQLite holds every
vector, so nothing is lost and the collection is repaired from it on the next open.
"""

import os
import time
from pathlib import Path
from typing import Any

from pymilvus import MilvusClient

from desktop_app.core.errors import KnownError
from desktop_app.core.vectors.backend import LabelFactSource
from desktop_app.core.vectors.hnsw import DEFAULT_PARAMS, HnswParams
from desktop_app.core.vectors.milvus import MilvusBackend
from desktop_app.core.vectors.milvus_scope import index_params, schema
from desktop_app.core.vectors.milvus_target import (
    DEFAULT_TIMEOUT_S,
    MilvusTarget,
    check_prefix,
    milvus_errors,
)


class MilvusStore:
    """A :class:`~.backend.VectorStore` of collections on one Milvus server or Lite file.

    ``facts`` reads the file attributes filters need from SQLite (none: collections hold no
    attributes, and scoped search is not offered). A ``read_only`` store (a reader of a library
    another process writes) never uploads, deletes or creates anything.
    """

    def __init__(
        self,
        target: MilvusTarget,
        facts: LabelFactSource | None = None,
        *,
        params: HnswParams = DEFAULT_PARAMS,
        read_only: bool = False,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.target = target
        self.facts = facts
        self.params = params
        self.read_only = read_only
        self.timeout = timeout
        check_prefix(target.prefix)
        if target.is_lite:
            Path(target.uri).parent.mkdir(parents=True, exist_ok=True)
        with milvus_errors(target, "connecting"):
            options: dict[str, Any] = {"uri": target.uri, "timeout": timeout}
            if target.token:
                options["token"] = target.token
            if target.database:
                options["db_name"] = target.database
            self.client = MilvusClient(**options)
            self.client.list_collections(timeout=timeout)  # fails now, not at the first search

    @property
    def shared(self) -> bool:
        """Whether other machines may reach the same collections (a server, not a file)."""
        return not self.target.is_lite

    def collection(self, set_id: int) -> str:
        return f"{self.target.prefix}_set{int(set_id)}"

    def open(self, set_id: int, space: str, dim: int, model_id: str = "") -> MilvusBackend:
        """The set's collection, created (empty) if missing; refused if another model made it."""
        name = self.collection(set_id)
        with milvus_errors(self.target, f"opening {name}"):
            if self.client.has_collection(name, timeout=self.timeout):
                self._check_owner(name, space, dim, model_id)
                self._load(name)
            elif not self.read_only:
                self.client.create_collection(
                    name,
                    schema=schema(dim, model_id),
                    index_params=index_params(self.params.m, self.params.ef_construction),
                    consistency_level="Strong",
                    properties={
                        "snapfind.model": model_id,
                        "snapfind.space": space,
                        "snapfind.dim": str(dim),
                        "snapfind.facts_at": repr(time.time()),
                    },
                    timeout=self.timeout,
                )
        return MilvusBackend(self, name, set_id, dim, space, model_id)

    def _load(self, name: str) -> None:
        """Have the server hold the collection in memory, which searching needs (a server
        restart, or an administrator, may have released it); reading changes no data."""
        state = self.client.get_load_state(name, timeout=self.timeout).get("state")
        if str(getattr(state, "name", state)).lower() != "loaded":
            self.client.load_collection(name, timeout=self.timeout)

    def _check_owner(self, name: str, space: str, dim: int, model_id: str) -> None:
        info = self.client.describe_collection(name, timeout=self.timeout)
        props = info.get("properties") or {}
        vector: dict[str, Any] = next(
            (f for f in info.get("fields", []) if f.get("name") == "vector"), {}
        )
        held_dim = int((vector.get("params") or {}).get("dim", -1))
        held_model = props.get("snapfind.model")
        if held_dim != dim or held_model is None or (model_id and held_model != model_id):
            made_by = f"model {held_model!r}" if held_model else "something other than Snapfind"
            raise KnownError(
                f"The Milvus collection {name} at {self.target.shown} was made by {made_by} "
                f"({held_dim}-d), not this library's {model_id or space} ({dim}-d). Another "
                "library may use the same collection prefix: choose another with "
                "'snapfind-cli backend use milvus --prefix NAME', or drop that collection."
            )

    def drop(self, set_id: int) -> None:
        if self.read_only:
            return
        name = self.collection(set_id)
        with milvus_errors(self.target, f"dropping {name}"):
            self.client.drop_collection(name, timeout=self.timeout)

    def disk_bytes(self) -> int:
        """A Lite file's size on this disk; a server's collections take none here."""
        if not self.target.is_lite:
            return 0
        if os.path.isfile(self.target.uri):
            return os.path.getsize(self.target.uri)
        total = 0
        for base, _, names in os.walk(self.target.uri):
            for name in names:
                try:
                    total += os.path.getsize(os.path.join(base, name))
                except OSError:
                    continue
        return total

    def close(self) -> None:
        self.client.close()
