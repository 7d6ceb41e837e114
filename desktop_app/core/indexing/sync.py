"""Bringing the database in line with the folders on disk, without embedding anything.

A re-scan costs one ``stat`` per file. Only files whose size or mtime changed are read, to
confirm by content hash that they really changed; a new file of the same size as a vanished one
is hashed to recognise a move or rename, which keeps its vectors. Roots that are missing (an
unplugged drive, or its empty mount point) are left untouched rather than emptied.
"""

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from desktop_app.core.db.records import KnownFile, Root
from desktop_app.core.db.store import Store
from desktop_app.core.indexing.scanner import Candidate, ScanIssue, content_hash, walk

_REPORT_EVERY = 500


@dataclass
class SyncReport:
    """What a scan found; ``freed`` are vector labels per set that the index must drop."""

    seen: int = 0
    added: int = 0
    changed: int = 0
    moved: int = 0
    removed: int = 0
    offline_roots: list[str] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)
    freed: dict[int, list[int]] = field(default_factory=dict)

    def free(self, more: dict[int, list[int]]) -> None:
        for set_id, labels in more.items():
            self.freed.setdefault(set_id, []).extend(labels)


def _hash_or_none(path: str) -> str | None:
    try:
        return content_hash(path)
    except OSError:
        return None  # vanished or unreadable: the indexer records the error when it reads it


def root_offline(path: str, has_entries: bool) -> bool:
    """Missing or unreadable; or empty while the library holds files under it, since an
    unmounted drive often leaves its empty mount point behind (emptying the library's
    entries then would lose them all, and re-embed them all when the drive returns)."""
    try:
        with os.scandir(path) as entries:
            return has_entries and next(entries, None) is None
    except OSError:
        return True


def sync(
    store: Store,
    roots: Sequence[Root],
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
) -> Iterator[SyncReport]:
    """Scan ``roots`` and update ``store``; yields the report as it grows, last one complete."""
    report = SyncReport()
    new: list[tuple[Root, Candidate]] = []
    vanished: dict[int, KnownFile] = {}
    changed: list[tuple[int, int, int, str | None]] = []
    same_content: list[tuple[int, int, int]] = []
    for root in roots:
        known = store.known_files(root.id)
        if root_offline(root.path, bool(known)):
            report.offline_roots.append(root.path)
            continue
        seen_paths: set[str] = set()
        for item in walk(root.path, exclude=exclude, include_hidden=include_hidden):
            if isinstance(item, ScanIssue):
                report.issues.append(item)
                # Files below an unreadable folder are not "vanished": keep them.
                prefix = item.path.rstrip(os.sep) + os.sep
                seen_paths.update(p for p in known if p.startswith(prefix))
                continue
            report.seen += 1
            seen_paths.add(item.path)
            record = known.get(item.path)
            if record is None:
                new.append((root, item))
            elif (record.size, record.mtime_ns) != (item.size, item.mtime_ns):
                digest = _hash_or_none(item.path) if record.hash else None
                if digest is not None and digest == record.hash:
                    same_content.append((record.id, item.size, item.mtime_ns))
                else:
                    changed.append((record.id, item.size, item.mtime_ns, digest))
            if report.seen % _REPORT_EVERY == 0:
                yield report
        vanished.update((rec.id, rec) for path, rec in known.items() if path not in seen_paths)

    moves, inserts = _match_moves(new, vanished)
    report.added, report.changed, report.moved = len(inserts), len(changed), len(moves)
    report.removed = len(vanished)
    if same_content:
        store.update_stat(same_content)
    if changed:
        report.free(store.mark_changed(changed))
    if moves:
        store.move_files(moves)
    if vanished:
        report.free(store.delete_files(list(vanished)))
    if inserts:
        store.insert_files(inserts)
    yield report


def _match_moves(
    new: list[tuple[Root, Candidate]], vanished: dict[int, KnownFile]
) -> tuple[list[tuple[int, int, str, int, int]], list[dict[str, object]]]:
    """Pair new files with vanished records of the same size and content hash.

    Matched records are removed from ``vanished``; the rest of ``new`` become inserts.
    """
    by_size: dict[int, list[KnownFile]] = {}
    for rec in vanished.values():
        if rec.hash:
            by_size.setdefault(rec.size, []).append(rec)
    moves: list[tuple[int, int, str, int, int]] = []
    inserts: list[dict[str, object]] = []
    for root, cand in new:
        digest = None
        candidates = by_size.get(cand.size)
        if candidates:
            digest = _hash_or_none(cand.path)
            match = next((r for r in candidates if r.hash == digest), None)
            if match is not None and match.kind == cand.kind:
                candidates.remove(match)
                del vanished[match.id]
                moves.append((match.id, root.id, cand.path, cand.size, cand.mtime_ns))
                continue
        inserts.append(
            {
                "root_id": root.id,
                "path": cand.path,
                "size": cand.size,
                "mtime_ns": cand.mtime_ns,
                "kind": cand.kind,
                "hash": digest,
            }
        )
    return moves, inserts
