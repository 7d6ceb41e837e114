"""When a file counts as indexed: once the newest vector set of every space its kind's passes
fill holds it, leaving out the passes a person switched off (see :attr:`Pass.switch`).

Switching a pass off or on changes which files are complete without touching what was stored:
:func:`settle` brings the files' status in line at the start and end of every index run.
"""

from collections.abc import Callable, Sequence

from desktop_app.core.db.library import Library
from desktop_app.core.db.records import VectorSet
from desktop_app.core.kinds import registry
from desktop_app.core.kinds.base import Extractor, Pass

# The passes a person switched off now, by switch name; read at every pass and every batch, so
# that switching one off while it runs stops it after the batch in hand.
SwitchedOff = Callable[[], frozenset[str]]


def _on(step: Pass, off: frozenset[str]) -> bool:
    return step.switch is None or step.switch not in off


def switched_on(step: Pass, switched_off: SwitchedOff) -> bool:
    return _on(step, switched_off())


def spaces_on(kind: Extractor, off: frozenset[str]) -> list[str]:
    """The spaces filled by a kind's passes not switched off: its files are indexed once
    these hold them."""
    return [space for step in kind.passes if _on(step, off) for space in step.spaces]


def kinds_filling(space: str, off: frozenset[str]) -> list[str]:
    """The kinds whose passes not switched off fill ``space``: a set is finished once none of
    their files waits for it."""
    return [kind.name for kind in registry.kinds() if space in spaces_on(kind, off)]


def newest_set(library: Library, space: str) -> VectorSet | None:
    return max(library.store.vector_sets(space), key=lambda s: s.id, default=None)


def has_pending(library: Library, kinds: Sequence[str], vset: VectorSet | None) -> bool:
    """Whether a file of ``kinds`` still waits for ``vset`` (any set: None)."""
    missing_in = [vset.id] if vset is not None else []
    return any(library.store.pending_files(kind, missing_in, limit=1) for kind in kinds)


def needs_work(library: Library, kind: str, space: str, model_id: str | None) -> bool:
    """Files of ``kind`` the space's newest set lacks, a half-built set, or a different model
    chosen than the one that built."""
    sets = library.store.vector_sets(space)
    newest = newest_set(library, space)
    return bool(
        has_pending(library, [kind], newest)
        or any(s.state == "building" for s in sets)
        or (sets and model_id is not None and model_id not in {s.model_id for s in sets})
    )


def settle(library: Library, off: frozenset[str]) -> None:
    """Files of the kinds with a pass a person can switch are indexed exactly when the newest
    sets of their spaces switched on hold them: switching reading text in pictures off
    completes the pictures that only waited for it; switching it on again makes those it
    never read wait, and its pass then reads them. Other kinds keep the status their passes
    gave (a model change, a changed file)."""
    for kind in registry.kinds():
        if any(step.switch is not None for step in kind.passes):
            newest = [newest_set(library, space) for space in spaces_on(kind, off)]
            ids = [vset.id for vset in newest if vset is not None]
            library.store.settle_status(kind.name, ids if len(ids) == len(newest) else None)
