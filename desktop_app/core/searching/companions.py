"""A RAW photo and the JPEG its camera wrote beside it are one picture: one result.

Cameras set to RAW+JPEG write ``IMG_0042.CR2`` and ``IMG_0042.JPG`` side by side; both are
indexed (each is a file a person may want), but two tiles of the same picture would push other
results off the screen. The better-ranked one stays, and lists the other as its companion.
"""

import os
from dataclasses import replace

from desktop_app.core import paths
from desktop_app.core.db.store import Store
from desktop_app.core.searching.ranking import Hit

RAW_KIND = "raw"
PICTURE_KINDS = ("image", RAW_KIND)


def collapse(store: Store, hits: list[Hit], k: int) -> list[Hit]:
    """The first ``k`` hits with each RAW + JPEG pair shown once, its companions listed,
    ranked from 1."""
    has_raw = store.conn.execute(
        "SELECT 1 FROM files WHERE kind = ? LIMIT 1", (RAW_KIND,)
    ).fetchone()
    if has_raw is None:  # most libraries: nothing to pair
        return [replace(h, rank=i) for i, h in enumerate(hits[:k], start=1)]
    kept: list[Hit] = []
    shown: dict[str, int] = {}  # a pair's stem -> its position in kept
    for hit in hits:
        if len(kept) == k:
            break
        if hit.kind not in PICTURE_KINDS:
            kept.append(hit)
            continue
        stem = os.path.splitext(hit.path)[0]
        partners = _partners(store, hit, stem)
        if stem in shown and partners:
            continue  # its pair is already in the list
        shown[stem] = len(kept)
        kept.append(replace(hit, companions=tuple(partners)) if partners else hit)
    return [replace(h, rank=i) for i, h in enumerate(kept[:k], start=1)]


def _partners(store: Store, hit: Hit, stem: str) -> list[str]:
    """The files beside ``hit`` with its name and another extension, of the other picture
    kind (a RAW's JPEG, a JPEG's RAW)."""
    prefix = paths.to_db(stem + ".")
    rows = store.conn.execute(
        # Every path that starts with "stem.": '/' is the character after '.'.
        "SELECT path, kind FROM files WHERE path >= ? AND path < ? AND status != 'failed'",
        (prefix, prefix[:-1] + "/"),
    ).fetchall()
    wanted = RAW_KIND if hit.kind != RAW_KIND else "image"
    found = [paths.from_db(path) for path, kind in rows if kind == wanted]
    return sorted(p for p in found if os.path.splitext(p)[0] == stem and p != hit.path)
