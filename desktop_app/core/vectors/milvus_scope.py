"""A set's collection layout in Milvus, and a search's filters as a Milvus boolean expression.

Each row is one label: its unit vector, and the attributes of its file that filters look at
(:class:`~.backend.FileFacts`), copied from SQLite when the label is uploaded. What SQL computes
from two columns (the aspect ratio for orientation, the shorter side) is stored computed, since
a Milvus expression compares a field with constants.
"""

import json
from typing import Any

import numpy as np
from pymilvus import DataType, MilvusClient
from pymilvus.milvus_client.index import IndexParams

from desktop_app.core.vectors.backend import FileFacts, Scope

PATH_CHARS = 8192
# What a row holds for an attribute its file lacks. Milvus before 2.5 has no null (it refuses
# None even in a field declared nullable), so each filter below also excludes its stand-in, as
# SQL's comparisons exclude NULL: no date is earlier than every real one (photos of 1850
# included), no size is below every real one, no camera is the empty name.
NO_DATE = -1.0e18
NO_ASPECT = 0.0
NO_SIDE = -1
NO_CAMERA = ""


def schema(dim: int, model_id: str) -> Any:
    """The collection's fields: the label as primary key, the vector, the file's attributes."""
    fields = MilvusClient.create_schema(
        auto_id=False, enable_dynamic_field=False, description=f"Snapfind {model_id} {dim}-d"
    )
    fields.add_field("label", DataType.INT64, is_primary=True)
    fields.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    fields.add_field("file_id", DataType.INT64)
    fields.add_field("root_id", DataType.INT64)
    fields.add_field("path", DataType.VARCHAR, max_length=PATH_CHARS)
    fields.add_field("extension", DataType.VARCHAR, max_length=64)
    fields.add_field("kind", DataType.VARCHAR, max_length=64)
    fields.add_field("taken_at", DataType.DOUBLE, nullable=True)
    fields.add_field("aspect", DataType.DOUBLE, nullable=True)  # width / height
    fields.add_field("min_side", DataType.INT64, nullable=True)
    fields.add_field("camera", DataType.VARCHAR, max_length=512, nullable=True)
    return fields


def index_params(m: int, ef_construction: int) -> IndexParams:
    """HNSW on inner product (vectors are unit length, so it is the cosine), with the same
    graph parameters as the embedded hnswlib index; scalar indexes for the common filters."""
    params = MilvusClient.prepare_index_params()
    params.add_index(
        "vector",
        index_type="HNSW",
        metric_type="IP",
        params={"M": m, "efConstruction": ef_construction},
    )
    return params


def row(label: int, vector: np.ndarray, facts: FileFacts) -> dict[str, Any]:
    """One label's row, its text fields cut to the collection's limits."""
    sides = [s for s in (facts.width, facts.height) if s is not None]
    return {
        "label": label,
        "vector": vector.tolist(),
        "file_id": facts.file_id,
        "root_id": facts.root_id,
        "path": facts.path[:PATH_CHARS],
        "extension": facts.extension[:64],
        "kind": facts.kind,
        "taken_at": facts.taken_at if facts.taken_at is not None else NO_DATE,
        "aspect": facts.width / facts.height if facts.width and facts.height else NO_ASPECT,
        "min_side": min(sides) if len(sides) == 2 else NO_SIDE,
        "camera": facts.camera.lower()[:512] if facts.camera else NO_CAMERA,
    }


def expression(scope: Scope) -> str:
    """``scope`` as a Milvus boolean expression ("" when it allows everything)."""
    parts: list[str] = []
    if scope.folders:
        sep = scope.folder_separator
        either = [
            f"(path == {_text(folder)} or path like {_text(_like(folder.rstrip(sep) + sep) + '%')})"
            for folder in scope.folders
        ]
        parts.append("(" + " or ".join(either) + ")")
    if scope.after is not None:
        parts.append(f"taken_at >= {float(scope.after)!r}")
    if scope.before is not None:
        parts.append(f"taken_at < {float(scope.before)!r} and taken_at > {NO_DATE!r}")
    if scope.type_kinds or scope.type_extensions:
        either = []
        if scope.type_kinds:
            either.append(f"kind in {_texts(scope.type_kinds)}")
        if scope.type_extensions:
            either.append(f"extension in {_texts(e.lower() for e in scope.type_extensions)}")
        parts.append("(" + " or ".join(either) + ")")
    if scope.kinds:
        parts.append(f"kind in {_texts(scope.kinds)}")
    if scope.orientation is not None:
        parts.append(_orientation(scope.orientation, scope.square_tolerance))
    if scope.min_side is not None:
        parts.append(f"min_side >= {int(scope.min_side)}")
    if scope.camera is not None:
        camera = _text("%" + _like(scope.camera.strip().lower()) + "%")
        parts.append(f"(camera != {_text(NO_CAMERA)} and camera like {camera})")
    if scope.roots is not None:
        parts.append(f"root_id in {[int(r) for r in scope.roots]}")
    return " and ".join(parts)


def _orientation(name: str, tolerance: float) -> str:
    """SQL's rules on width and height (searching.filters), as bounds on width / height:
    landscape w > h(1+t); portrait h > w(1+t); square |w - h| <= t max(w, h)."""
    if name == "landscape":
        return f"aspect > {1 + tolerance!r}"
    if name == "portrait":
        return f"(aspect < {1 / (1 + tolerance)!r} and aspect > {NO_ASPECT!r})"
    return f"(aspect >= {1 - tolerance!r} and aspect <= {1 / (1 - tolerance)!r})"


def labels_expression(labels: list[int]) -> str:
    return f"label in {[int(label) for label in labels]}"


def _text(value: str) -> str:
    """A string literal: JSON's escaping of quotes and backslashes is Milvus's."""
    return json.dumps(value, ensure_ascii=False)


def _texts(values: Any) -> str:
    return "[" + ", ".join(_text(v) for v in values) + "]"


def _like(value: str) -> str:
    """``value`` matched literally inside a LIKE pattern. Milvus has no escape for a
    backslash there, so one matches any character: a wider pattern, which a scope that looks
    at paths has checked against SQLite afterwards (see Scope.approximate)."""
    parts = value.split("\\")
    return "_".join(p.replace("%", "\\%").replace("_", "\\_") for p in parts)
