"""The library without a query, headless: newest first, month groups, filters, pages."""

import os
from datetime import datetime
from pathlib import Path

from conftest import run_index
from imagegen import save_scene

from desktop_app.core.engine import Engine
from desktop_app.core.searching.filters import Filters


def test_timeline_is_newest_first_in_months_and_pages_make_hits(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    dates = [datetime(2024, 5, 3), datetime(2024, 5, 20), datetime(2023, 1, 9)]
    for i, when in enumerate(dates):
        path = save_scene(folder / f"p{i}.jpg", seed=i, size=(120 if i else 60, 80))
        os.utime(path, (when.timestamp(), when.timestamp()))
    (folder / "note.md").write_text("# Not a picture\n")
    engine.add_root(str(folder))
    run_index(engine)

    timeline = engine.browse(("image",))
    assert len(timeline) == 3
    assert [(m.title, m.start, m.count) for m in timeline.months] == [
        ("May 2024", 0, 2),
        ("January 2023", 2, 1),
    ]
    hits = engine.browse_page(list(timeline.ids))
    assert [Path(h.path).name for h in hits if h] == ["p1.jpg", "p0.jpg", "p2.jpg"]
    assert all(h is not None and h.rank == 0 and h.relevance == 0 for h in hits)

    portrait = engine.browse(("image",), Filters(orientation="portrait"))
    assert [Path(h.path).name for h in engine.browse_page(list(portrait.ids)) if h] == ["p0.jpg"]
    recent = engine.browse(("image",), Filters(after=datetime(2024, 1, 1).timestamp()))
    assert [m.count for m in recent.months] == [2]
    assert len(engine.browse(("document",))) == 1
    assert len(engine.browse(())) == 0
    assert engine.browse_page([10**9]) == [None]  # gone since the timeline was read
