"""Documents people have: PDFs (text layer and scans), Word, PowerPoint, OpenDocument, EPUB,
HTML, RTF, code and configuration, found by their content at the right page or lines; and
hostile ones (a PDF bomb, an encrypted PDF, a zip bomb, a 2,000-page PDF) bounded, each with a
clear error, nothing else lost. The test files are written by tests/docgen.py."""

import resource
import time
from pathlib import Path

import pytest
from docgen import (
    docx_file,
    encrypted_pdf,
    epub_file,
    odt_file,
    pdf_bomb,
    pdf_bytes,
    pptx_file,
    scanned_pdf,
    zip_bomb_docx,
)

from desktop_app.core.engine import Engine
from desktop_app.core.kinds import pdf, registry
from desktop_app.core.searching.filters import Filters


@pytest.fixture
def shelf(tmp_path: Path) -> Path:
    """One document of every kind, each about its own subject."""
    folder = tmp_path / "shelf"
    folder.mkdir()
    (folder / "handbook.pdf").write_bytes(
        pdf_bytes(
            [
                ["Welcome to the staff handbook"],
                ["Holiday allowance is twenty five days a year"],
                ["The bicycle shed is behind the kitchen"],
            ]
        )
    )
    scanned_pdf(folder / "scan.pdf", [["Dear tenant"], ["Your rent rises in April"]])
    docx_file(
        folder / "minutes.docx",
        ["Minutes of the rowing club", "The new boat costs 4200"],
        table=[["Item", "Cost"], ["Oars", "300"]],
    )
    pptx_file(folder / "deck.pptx", ["Company overview", "Revenue grew in the third quarter"])
    odt_file(folder / "recipe.odt", ["Grandmother's apple pie", "Bake for forty minutes"])
    epub_file(folder / "novel.epub", ["The ship left the harbour", "A storm over the lighthouse"])
    (folder / "page.html").write_text(
        "<html><head><style>p{color:red}</style><script>var secret=1</script></head>"
        "<body><h1>Volcano facts</h1><p>Lava flows slowly downhill</p></body></html>",
        "utf-8",
    )
    (folder / "letter.rtf").write_text(
        r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Insurance claim for the "
        r"broken window\par}",
        "ascii",
    )
    (folder / "tool.py").write_text("def parse_invoice(path):\n    return 'pdf'\n", "utf-8")
    (folder / "settings.yaml").write_text("mail_server: smtp.example.org\nport: 587\n", "utf-8")
    return folder


EXPECTED = [
    ("how many holiday days do staff get", "handbook.pdf", "page 2"),
    ("where is the bicycle shed", "handbook.pdf", "page 3"),
    ("rent increase in April", "scan.pdf", "page 2"),
    ("price of the new rowing boat", "minutes.docx", "lines 1-4"),
    ("revenue growth third quarter", "deck.pptx", "page 2"),
    ("apple pie recipe", "recipe.odt", "lines 1-2"),
    ("storm at the lighthouse", "novel.epub", "page 2"),
    ("lava from a volcano", "page.html", None),
    ("insurance claim broken window", "letter.rtf", None),
    ("function that parses an invoice", "tool.py", None),
    ("smtp mail server port", "settings.yaml", None),
]


def test_documents_are_found_by_their_content_at_their_page(engine: Engine, shelf: Path) -> None:
    engine.add_root(shelf)
    assert list(engine.index())[-1].phase == "done"
    assert engine.errors() == []
    assert engine.status().counts["document"] == {"indexed": 10}
    for query, name, place in EXPECTED:
        best = engine.search(query, k=3, kinds=("document",))[0]
        assert Path(best.path).name == name, query
        if place is not None:
            assert best.span is not None and best.span.describe() == place, query
    page = engine.search("bicycle shed", k=1)[0]
    assert page.snippet == "The bicycle shed is behind the kitchen"
    html = engine.search("volcano", k=1)[0]
    assert "secret" not in (html.snippet or "") and "color" not in (html.snippet or "")


def test_document_types_filter_the_results(engine: Engine, shelf: Path) -> None:
    engine.add_root(shelf)
    list(engine.index())
    for kind, names in [
        ("pdf", {"handbook.pdf", "scan.pdf"}),
        ("word", {"minutes.docx"}),
        ("powerpoint", {"deck.pptx"}),
        ("code", {"tool.py"}),
    ]:
        hits = engine.search("money", k=20, filters=Filters(types=(kind,)))
        assert {Path(h.path).name for h in hits} == names, kind
    assert registry.kind_of_type("epub") == "document"
    docx = engine.search("money", k=20, filters=Filters(types=("DOCX",)))  # a person's word
    assert [Path(h.path).name for h in docx] == ["minutes.docx"]


def test_a_pdf_card_shows_its_first_page_and_the_page_that_matched(
    engine: Engine, shelf: Path
) -> None:
    from PIL import Image

    engine.add_root(shelf)
    list(engine.index())
    first = engine.thumbnail(str(shelf / "handbook.pdf"), 128)
    third = engine.thumbnail(str(shelf / "handbook.pdf"), 128, page=3)
    assert first and third and first != third
    with Image.open(first) as picture:
        assert max(picture.size) == 128
    assert engine.thumbnail(str(shelf / "minutes.docx"), 128) is None


def test_hostile_documents_are_bounded_and_nothing_else_is_lost(
    engine: Engine, tmp_path: Path
) -> None:
    # This process's peak before: the suite's earlier tests set it, so only growth counts.
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "bomb.pdf").write_bytes(pdf_bomb())
    (folder / "locked.pdf").write_bytes(encrypted_pdf())
    zip_bomb_docx(folder / "bomb.docx")
    (folder / "truncated.docx").write_bytes(
        docx_file(tmp_path / "whole.docx", ["A whole document"]).read_bytes()[:300]
    )
    (folder / "garbage.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8)
    (folder / "empty.pptx").write_bytes(b"")
    (folder / "fine.pdf").write_bytes(pdf_bytes([["Gardening calendar for May"]]))
    engine.add_root(folder)
    started = time.monotonic()
    assert list(engine.index())[-1].phase == "done"
    elapsed = time.monotonic() - started
    errors = {Path(r.path).name: r.error or "" for r in engine.errors()}
    assert set(errors) == {
        "bomb.pdf", "locked.pdf", "bomb.docx", "truncated.docx", "garbage.pdf", "empty.pptx"
    }  # fmt: skip
    assert "encrypted" in errors["locked.pdf"]
    assert "bomb" in errors["bomb.pdf"]
    assert "zip bomb" in errors["bomb.docx"]
    assert elapsed < pdf.TIME_BUDGET_S, "a hostile document held up the run"
    # The parent never inflated the bombs: PDFium ran in a capped child, the zip was refused.
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown < 1024 * 1024, f"peak grew by {grown // 1024} MB"  # KB; the bomb read: 7 GB
    assert Path(engine.search("gardening in May", k=1)[0].path).name == "fine.pdf"


@pytest.mark.slow
def test_a_2000_page_pdf_is_read_up_to_its_cap_in_bounded_time(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    pages = [
        [f"Chapter {n} of the very long manual", f"Part number {n * 7}"] for n in range(1, 2001)
    ]
    (folder / "manual.pdf").write_bytes(pdf_bytes(pages))
    engine.add_root(folder)
    started = time.monotonic()
    assert list(engine.index())[-1].phase == "done"
    elapsed = time.monotonic() - started
    record = engine.file(str(folder / "manual.pdf"))
    assert record.status == "indexed"
    store = engine.library.reader()
    spans = store.conn.execute(
        "SELECT MIN(span_start), MAX(span_end) FROM units WHERE file_id = ?", (record.id,)
    ).fetchone()
    assert tuple(spans) == (1, pdf.MAX_PAGES)
    assert elapsed < pdf.TIME_BUDGET_S + 60  # reading, then embedding 1,000 chunks
    (words,) = store.conn.execute(
        "SELECT text FROM units WHERE file_id = ? AND span_start = 600", (record.id,)
    ).fetchone()
    assert words == "Chapter 600 of the very long manual\nPart number 4200"
    hit = engine.search("chapter of the very long manual", k=1)[0]
    assert hit.span is not None and hit.span.unit == "page"
