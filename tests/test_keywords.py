"""Keyword search fused with meaning: names, folders, tags and unit texts found by their exact
words, in one ranking with the meaning search."""

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagegen import save_exif_scene, save_scene
from PIL import Image

from desktop_app.core.db.migrations import MIGRATIONS, migrate
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.searching import keywords
from desktop_app.core.searching.terms import Query, text

XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" aux:Lens="{lens}">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
   <dc:subject><rdf:Bag><rdf:li>{keyword}</rdf:li><rdf:li>holiday</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>People|Family|{person}</rdf:li></rdf:Bag>
   </lr:hierarchicalSubject>
   <digiKam:TagsList><rdf:Seq><rdf:li>Places/{place}</rdf:li></rdf:Seq></digiKam:TagsList>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""

NOTES = {
    "invoices/invoice-4471.txt": "Invoice 4471 from Acme Tools.\nTotal due: 312 euros.\n",
    "invoices/invoice-4470.txt": "Invoice 4470 from Acme Tools.\nTotal due: 95 euros.\n",
    "notes/garden.md": "# Garden\nPlant the tomatoes in May.\nThe part number is XJ-9000.\n",
    "notes/trip.md": "# Trip\nWe drove along the coast to the lighthouse at dusk.\n",
}


def xmp(title: str, keyword: str, person: str, place: str, lens: str = "Summicron 35mm") -> bytes:
    packet = XMP.format(title=title, keyword=keyword, person=person, place=place, lens=lens)
    return packet.encode("utf-8")


def iptc_block(keywords_: list[str], caption: str) -> bytes:
    """A Photoshop APP13 block holding IPTC-IIM keywords (2:25) and caption (2:120)."""
    records = b"".join(
        b"\x1c\x02" + bytes([dataset]) + len(value).to_bytes(2, "big") + value
        for dataset, value in [(25, k.encode()) for k in keywords_] + [(120, caption.encode())]
    )
    if len(records) % 2:
        records += b"\x00"
    resource = b"8BIM\x04\x04\x00\x00" + len(records).to_bytes(4, "big") + records
    return b"Photoshop 3.0\x00" + resource


def save_with_iptc(path: Path, seed: int, block: bytes) -> None:
    save_scene(path, seed)
    data = path.read_bytes()
    segment = b"\xff\xed" + (len(block) + 2).to_bytes(2, "big") + block
    path.write_bytes(data[:2] + segment + data[2:])


def build_library(root: Path) -> None:
    for name, words in NOTES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(words, "utf-8")
    photos = root / "photos"
    save_scene(photos / "IMG_20230514.jpg", 1)
    save_scene(photos / "IMG_20220101.jpg", 2)
    save_scene(photos / "beach" / "DSC0001.jpg", 3)
    save_scene(
        photos / "tagged.jpg", 4, xmp=xmp("Grandma's birthday", "cake", "Margarethe", "Lisbon")
    )
    save_scene(photos / "sidecar.jpg", 5)
    sidecar = xmp("Harbour", "boats", "Theodor", "Porto", "Nokton 50")
    (photos / "sidecar.jpg.xmp").write_bytes(sidecar)
    save_with_iptc(photos / "iptc.jpg", 6, iptc_block(["Zanzibar", "spice"], "Stone Town market"))
    save_exif_scene(photos / "camera.jpg", 7, (320, 240), "2021:06:01 10:00:00", "Canon EOS R5")


@pytest.fixture(scope="module")
def library(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_clip: OpenClipEncoder,
    minilm: SentenceTransformerEncoder,
) -> Iterator[tuple[Engine, Path]]:
    base = tmp_path_factory.mktemp("keywords")
    root = base / "library"
    build_library(root)
    engine = Engine(base / "home", clip_loader=lambda: tiny_clip, text_loader=lambda: minilm)
    engine.add_root(root)
    list(engine.index())
    yield engine, root
    engine.close()


def names(hits: list) -> list[str]:
    return [Path(h.path).name for h in hits]


def test_the_query_syntax_reads_phrases_fields_and_plain_words() -> None:
    parsed = keywords.parse('name:IMG_2023 "red car" tag:"Anna Lee" text:4471 12:30 beach')
    assert [(t.text, t.field, t.phrase) for t in parsed.tokens] == [
        ("IMG_2023", "name", False),
        ("red car", None, True),
        ("Anna Lee", "tags", True),
        ("4471", "text", False),
        ("12:30", None, False),
        ("beach", None, False),
    ]
    assert parsed.required
    assert parsed.meaning_text == "IMG_2023 red car Anna Lee 4471 12:30 beach"
    assert not keywords.parse("a dog on the beach").required


def test_a_part_number_lands_first_over_a_similar_note(library: tuple[Engine, Path]) -> None:
    engine, _ = library
    hits = engine.search("invoice 4471", k=5)
    assert names(hits)[0] == "invoice-4471.txt"
    assert hits[0].relevance >= 0.5
    assert "4471" in (hits[0].snippet or "")
    assert hits[0].span is not None and hits[0].span.describe() == "lines 1-2"
    assert len({h.file_id for h in hits}) == len(hits)  # one hit per file


def test_a_file_name_is_found_while_typed(library: tuple[Engine, Path]) -> None:
    engine, _ = library
    assert names(engine.search("IMG_2023", k=3))[0] == "IMG_20230514.jpg"
    assert names(engine.search("XJ-90", k=3))[0] == "garden.md"  # a part number, half typed


def test_a_folder_name_finds_its_files(library: tuple[Engine, Path]) -> None:
    engine, _ = library
    assert names(engine.search("folder:beach", k=5)) == ["DSC0001.jpg"]


def test_tags_from_xmp_embedded_sidecar_and_iptc_are_searchable(
    library: tuple[Engine, Path],
) -> None:
    engine, _ = library
    assert names(engine.search("Margarethe", k=3))[0] == "tagged.jpg"  # Lightroom keyword
    assert names(engine.search("Lisbon", k=3))[0] == "tagged.jpg"  # digiKam tag path
    assert names(engine.search("Summicron", k=3))[0] == "tagged.jpg"  # lens
    assert names(engine.search("Theodor Porto", k=3))[0] == "sidecar.jpg"  # XMP sidecar
    assert names(engine.search("Zanzibar", k=3))[0] == "iptc.jpg"  # IPTC keywords
    hit = engine.search("Stone Town market", k=1)[0]
    assert Path(hit.path).name == "iptc.jpg" and "Stone Town market" in (hit.snippet or "")
    assert names(engine.search("tag:Canon", k=3)) == ["camera.jpg"]  # the camera counts too
    record = engine.file(str(library[1] / "photos" / "tagged.jpg"))
    assert record.tags is not None and "Grandma's birthday" in record.tags


def test_a_quoted_phrase_is_required(library: tuple[Engine, Path]) -> None:
    engine, _ = library
    assert names(engine.search('"total due: 312"', k=10)) == ["invoice-4471.txt"]
    assert names(engine.search('"coast to the lighthouse"', k=10)) == ["trip.md"]
    assert engine.search('"lighthouse to the coast"', k=10) == []


def test_field_prefixes_restrict_where_words_may_match(library: tuple[Engine, Path]) -> None:
    engine, _ = library
    assert set(names(engine.search("name:invoice", k=10))) == {
        "invoice-4471.txt",
        "invoice-4470.txt",
    }
    assert names(engine.search("text:tomatoes", k=10)) == ["garden.md"]
    assert engine.search("name:tomatoes", k=10) == []  # in the text, not the name
    assert names(engine.search("tag:cake", k=10)) == ["tagged.jpg"]
    assert engine.search("tag:invoice", k=10) == []


def test_each_side_alone_and_fused(library: tuple[Engine, Path]) -> None:
    engine, _ = library
    query = Query((text("IMG_2023"),))
    assert "IMG_20230514.jpg" not in names(engine.query(query, 3, mode="meaning"))[:1]
    assert names(engine.query(query, 3, mode="keywords")) == ["IMG_20230514.jpg"]
    # A description with no exact words still gets its meaning results.
    assert engine.query(Query((text("the sea at dusk"),)), 5)
    with pytest.raises(Exception, match="Unknown search mode"):
        engine.query(query, 3, mode="sideways")


def test_filters_apply_to_keyword_matches(library: tuple[Engine, Path]) -> None:
    from desktop_app.core.searching.filters import Filters

    engine, root = library
    only_notes = engine.search("invoice 4471", k=5, kinds=("image",))
    assert "invoice-4471.txt" not in names(only_notes)
    elsewhere = Filters(folders=(str(root / "photos"),))
    assert "invoice-4471.txt" not in names(engine.search("invoice 4471", k=5, filters=elsewhere))


def test_the_index_follows_renames_changes_and_deletions(
    tmp_path: Path, tiny_clip: OpenClipEncoder, minilm: SentenceTransformerEncoder
) -> None:
    root = tmp_path / "library"
    root.mkdir()
    note = root / "shopping.txt"
    note.write_text("Buy quinoa and saffron.\n", "utf-8")
    home = tmp_path / "home"
    with Engine(home, clip_loader=lambda: tiny_clip, text_loader=lambda: minilm) as engine:
        engine.add_root(root)
        list(engine.index())
        assert names(engine.search("saffron", k=3, kinds=("document",))) == ["shopping.txt"]
        shutil.move(note, root / "groceries.txt")
        list(engine.index())
        assert names(engine.search("name:groceries", k=3)) == ["groceries.txt"]
        assert engine.search("name:shopping", k=3) == []
        (root / "groceries.txt").write_text("Buy lentils and cumin.\n", "utf-8")
        list(engine.index())
        assert engine.search("text:saffron", k=3) == []
        assert names(engine.search("text:cumin", k=3)) == ["groceries.txt"]
        (root / "groceries.txt").unlink()
        list(engine.index())
        assert engine.search("text:cumin", k=3) == []
        assert engine.search("name:groceries", k=3) == []


def test_the_migration_fills_the_index_of_an_existing_library(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "library.db", isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:3], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.execute("INSERT INTO roots (id, path, added_at) VALUES (1, '/home/ann/Pictures', 0)")
    conn.execute(
        "INSERT INTO files (id, root_id, path, size, mtime_ns, kind, camera, status)"
        " VALUES (7, 1, '/home/ann/Pictures/Rome 2019/IMG_0042.jpg', 1, 1, 'image',"
        " 'Fujifilm X100V', 'indexed')"
    )
    conn.execute(
        "INSERT INTO vector_sets (id, space, model_id, dim, state, next_label, created_at)"
        " VALUES (1, 'text', 'm', 2, 'ready', 1, 0)"
    )
    conn.execute(
        "INSERT INTO units (set_id, label, file_id, text, vector)"
        " VALUES (1, 0, 7, 'The Colosseum at night', x'00')"
    )
    conn.close()
    db = sqlite3.connect(tmp_path / "library.db", isolation_level=None)
    assert migrate(db) == len(MIGRATIONS)
    rows = db.execute("SELECT rowid, name, folder, tags FROM file_words").fetchall()
    assert rows == [(7, "IMG_0042.jpg", "Rome 2019/", " Fujifilm X100V")]
    matched = db.execute(
        "SELECT rowid FROM unit_words WHERE unit_words MATCH 'colosseum'"
    ).fetchall()
    assert matched == [(1,)]
    db.close()


def test_hostile_xmp_does_not_expand_entities() -> None:
    from desktop_app.core.kinds.photo_tags import xmp_words

    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:title>&c;</dc:title><dc:subject>fine</dc:subject></x:xmpmeta>"
    )
    words = xmp_words(bomb)
    assert "fine" in words and not any("aaaa" in w for w in words)
    assert xmp_words(b"\x00not xml at all<<<") == []
    assert xmp_words(b"") == []


def test_exposure_data_tells_a_camera_photo_from_a_screenshot(tmp_path: Path) -> None:
    from desktop_app.core.kinds.image import decode_image

    shot = tmp_path / "shot.png"
    Image.new("RGB", (64, 48), "white").save(shot)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x829A] = 1 / 250  # exposure time
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 48), "blue").save(photo, exif=exif)
    assert decode_image(shot.read_bytes())[1].exposure is False
    assert decode_image(photo.read_bytes())[1].exposure is True
