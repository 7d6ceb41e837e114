"""The folder walk: what counts as a file to index, and what must never be opened."""

import itertools
import os
from pathlib import Path

from imagegen import save_scene

from desktop_app.core.indexing.scanner import Candidate, ScanIssue, walk
from desktop_app.core.kinds.chunking import chunk_text
from desktop_app.core.kinds.image import sniff
from desktop_app.core.paths import from_db, to_db


def _names(root: Path, **kwargs: object) -> set[str]:
    return {Path(c.path).name for c in walk(str(root), **kwargs) if isinstance(c, Candidate)}


def test_walk_picks_images_and_documents_and_skips_the_rest(tmp_path: Path) -> None:
    save_scene(tmp_path / "a.JPG", seed=1)
    save_scene(tmp_path / "b.webp", seed=2, format="WEBP")
    save_scene(tmp_path / "no_extension", seed=3, format="PNG")  # found by sniffing
    (tmp_path / "notes.md").write_text("hello")
    (tmp_path / "data.csv").write_text("1,2")
    (tmp_path / "plain").write_text("not an image")
    save_scene(tmp_path / ".hidden" / "h.jpg", seed=4)
    save_scene(tmp_path / "@eaDir" / "thumb.jpg", seed=5)
    save_scene(tmp_path / ".dot.jpg", seed=6)
    save_scene(tmp_path / "skip" / "x.jpg", seed=7)
    assert _names(tmp_path, exclude=["skip"]) == {"a.JPG", "b.webp", "no_extension", "notes.md"}
    assert "h.jpg" in _names(tmp_path, include_hidden=True)


def test_symlink_loops_end_and_fifos_are_not_opened(tmp_path: Path) -> None:
    save_scene(tmp_path / "sub" / "a.jpg", seed=1)
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    os.mkfifo(tmp_path / "pipe.jpg")
    os.symlink(tmp_path / "nowhere.jpg", tmp_path / "dangling.jpg")
    found = [c for c in walk(str(tmp_path)) if isinstance(c, Candidate)]
    assert [Path(c.path).name for c in found] == ["a.jpg"]


def test_unreadable_folder_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    issues = [c for c in walk(str(missing)) if isinstance(c, ScanIssue)]
    assert issues and issues[0].path == str(missing)


def test_sniff_formats() -> None:
    assert sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff(b"\x00\x00\x00\x18ftypheic") == "heif"
    assert sniff(b"\x00\x00\x00\x18ftypavif") == "avif"
    assert sniff(b"hello world") is None


def test_undecodable_file_names_round_trip_through_the_database() -> None:
    weird = os.fsdecode(b"/photos/caf\xe9 \n.jpg")
    assert from_db(to_db(weird)) == weird
    assert to_db("/photos/ok é.jpg") == "/photos/ok é.jpg"


def test_chunks_overlap_and_cover_every_line() -> None:
    lines = [f"sentence number {i} about something" for i in range(1, 101)]
    chunks = chunk_text("\n".join(lines), 60, lambda s: len(s.split()))
    assert chunks[0].line_start == 1 and chunks[-1].line_end == 100
    for before, after in itertools.pairwise(chunks):
        assert after.line_start <= before.line_end  # overlap
        assert after.line_start > before.line_start  # progress
    assert all(len(c.text.split()) <= 60 for c in chunks)


def test_a_single_huge_line_is_split() -> None:
    chunks = chunk_text("word " * 1000, 100, lambda s: len(s.split()))
    assert len(chunks) > 5 and all(c.line_start == 1 for c in chunks)
