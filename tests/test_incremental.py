"""Re-scans embed only what changed, forget what vanished and recognise moves."""

import os
import shutil
from pathlib import Path

import pytest
from conftest import run_index
from imagegen import save_scene

from desktop_app.core.engine import Engine


def _vector_count(engine: Engine, space: str = "clip") -> int:
    store = engine.library.store
    (vset,) = [s for s in store.vector_sets(space)]
    return store.vector_count(vset.id)


@pytest.fixture
def embedded(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Batch sizes the engine's CLIP actually embeds (the shared model is restored after)."""
    calls: list[int] = []
    clip = engine.encoders.clip()
    original = clip.embed_prepared

    def counted(prepared):  # type: ignore[no-untyped-def]
        calls.append(len(prepared))
        return original(prepared)

    monkeypatch.setattr(clip, "embed_prepared", counted)
    return calls


def test_rescan_embeds_only_changes_and_keeps_moves(
    engine: Engine, tmp_path: Path, embedded: list[int]
) -> None:
    calls = embedded
    photos = tmp_path / "photos"
    for i in range(6):
        save_scene(photos / f"p{i}.jpg", seed=i)
    (photos / "notes.md").write_text("Camping by the lake with friends.\n", "utf-8")
    engine.add_root(photos)
    run_index(engine)
    assert sum(calls) == 6
    first = engine.file(str(photos / "p0.jpg"))

    # Nothing changed: nothing is embedded again.
    calls.clear()
    run_index(engine)
    assert calls == []

    # Add one, modify one, delete one, rename one, touch one without changing its content.
    save_scene(photos / "new.jpg", seed=100)
    save_scene(photos / "p1.jpg", seed=101)
    (photos / "p2.jpg").unlink()
    (photos / "sub").mkdir()
    shutil.move(photos / "p0.jpg", photos / "sub" / "renamed.jpg")
    os.utime(photos / "p3.jpg", ns=(1, 1_000_000_000))
    calls.clear()
    run_index(engine)
    assert sum(calls) == 2  # new.jpg and the modified p1.jpg only

    moved = engine.file(str(photos / "sub" / "renamed.jpg"))
    assert moved.id == first.id and moved.hash == first.hash and moved.status == "indexed"
    assert engine.file(str(photos / "p3.jpg")).mtime_ns == 1_000_000_000
    paths = {Path(h.path).name for h in engine.search_image(photos / "new.jpg", k=50)}
    assert paths == {"p1.jpg", "p3.jpg", "p4.jpg", "p5.jpg", "new.jpg", "renamed.jpg"}
    assert _vector_count(engine) == 6


def test_the_first_batch_is_small_so_the_first_pictures_are_searchable_at_once(
    engine: Engine, tmp_path: Path, embedded: list[int]
) -> None:
    photos = tmp_path / "photos"
    for i in range(24):
        save_scene(photos / f"p{i}.jpg", seed=i)
    engine.add_root(photos)
    run_index(engine)
    assert embedded == [4, 16, 4]


def test_exact_copy_reuses_vectors(engine: Engine, tmp_path: Path, embedded: list[int]) -> None:
    calls = embedded
    photos = tmp_path / "photos"
    save_scene(photos / "a.jpg", seed=1)
    engine.add_root(photos)
    run_index(engine)
    assert calls == [1]
    shutil.copyfile(photos / "a.jpg", photos / "copy of a.jpg")
    run_index(engine)
    assert calls == [1]  # same content hash: the stored vector is reused
    hits = engine.search_image(photos / "a.jpg", k=2)
    assert {Path(h.path).name for h in hits} == {"a.jpg", "copy of a.jpg"}
    assert all(h.score > 0.9999 for h in hits)


def test_removing_a_root_forgets_entries_but_never_touches_files(
    engine: Engine, tmp_path: Path
) -> None:
    keep, drop = tmp_path / "keep", tmp_path / "drop"
    save_scene(keep / "k.jpg", seed=1)
    save_scene(drop / "d.jpg", seed=2)
    engine.add_root(keep)
    engine.add_root(drop)
    run_index(engine)
    engine.remove_root(drop)
    assert (drop / "d.jpg").exists()
    hits = engine.search_image(drop / "d.jpg", k=10)
    assert [Path(h.path).name for h in hits] == ["k.jpg"]
    assert [r.path for r in engine.roots()] == [str(keep)]


def test_unplugged_root_keeps_its_entries(
    engine: Engine, tmp_path: Path, embedded: list[int]
) -> None:
    calls = embedded
    photos = tmp_path / "usb"
    save_scene(photos / "a.jpg", seed=1)
    engine.add_root(photos)
    run_index(engine)
    hidden = tmp_path / "elsewhere"
    photos.rename(hidden)
    progress = run_index(engine)
    assert "offline" in progress[-1].message
    assert engine.status().counts["image"].get("indexed") == 1
    assert engine.status().roots[0].online is False
    hidden.rename(photos)
    run_index(engine)
    assert calls == [1]  # the first run only: nothing re-embedded when the drive returns


def test_model_change_reembeds_and_keeps_old_set_until_done(
    make_engine,
    tiny_clip,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    photos = tmp_path / "photos"
    for i in range(3):
        save_scene(photos / f"p{i}.jpg", seed=i)

    class OtherModel:
        """Same network, different model id: stands in for a switch of CLIP weights."""

        model_id = "open_clip:other/test"
        dim = tiny_clip.dim
        logit_scale = tiny_clip.logit_scale
        draft_size = tiny_clip.draft_size

        @property
        def precision_state(self):  # type: ignore[no-untyped-def]
            return tiny_clip.precision_state

        def resolve_precision(self, *, recheck=False):  # type: ignore[no-untyped-def]
            return tiny_clip.resolve_precision(recheck=recheck)

        def set_threads(self, threads):  # type: ignore[no-untyped-def]
            tiny_clip.set_threads(threads)

        def embed_images(self, images):  # type: ignore[no-untyped-def]
            return tiny_clip.embed_images(images)

        def prepare_image(self, image):  # type: ignore[no-untyped-def]
            return tiny_clip.prepare_image(image)

        def embed_prepared(self, prepared):  # type: ignore[no-untyped-def]
            return tiny_clip.embed_prepared(prepared)

        def embed_texts(self, texts):  # type: ignore[no-untyped-def]
            return tiny_clip.embed_texts(texts)

    first = make_engine()
    first.add_root(photos)
    run_index(first)
    first.close()
    second = make_engine(clip=OtherModel())
    work = second.index()
    for progress in work:
        if progress.phase == "images" and progress.done == 0:
            # Mid-change: the old set is still the complete one, and "similar" (stored
            # vectors) uses it; a query embedded by the new model searches only what the
            # new model has embedded so far, never the old model's space.
            sets = {s.model_id: s.state for s in second.library.store.vector_sets("clip")}
            assert sets == {tiny_clip.model_id: "ready", "open_clip:other/test": "building"}
            assert len(second.similar(photos / "p0.jpg", k=5)) == 2
            assert second.search_image(photos / "p0.jpg", k=5) == []
    sets = [(s.model_id, s.state) for s in second.library.store.vector_sets("clip")]
    assert sets == [("open_clip:other/test", "ready")]
    assert second.status().counts["image"] == {"indexed": 3}
    assert len(second.search_image(photos / "p0.jpg", k=5)) == 3
    assert not (second.home / "indexes" / "set-1.hnsw").exists()
    assert not (second.home / "indexes" / "set-1.hnsw.state").exists()
