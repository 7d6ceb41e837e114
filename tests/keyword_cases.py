"""A small labelled library for ranking quality: drawn receipts and screenshots with telling
names, photos tagged the way digiKam or Lightroom tag them, notes with part numbers, names and
topics; and queries, each with the one file a person means by it. Used by the fusion test and
by bench/bench_keywords.py (mean reciprocal rank of fused, meaning-only and keyword-only)."""

from pathlib import Path

from imagegen import scene
from PIL import Image, ImageDraw

XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/">'
    '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
    "<dc:subject><rdf:Bag>{keywords}</rdf:Bag></dc:subject>"
    "<lr:hierarchicalSubject><rdf:Bag><rdf:li>People|{person}</rdf:li></rdf:Bag>"
    "</lr:hierarchicalSubject></rdf:Description></rdf:RDF></x:xmpmeta>"
)
TAGGED = {  # file: (title, keywords, person)
    "DSC_0101.jpg": ("Grandma's 90th birthday", ["cake", "family", "Lisbon"], "Margarethe"),
    "DSC_0102.jpg": ("Graduation day", ["university", "Accra"], "Kofi"),
    "DSC_0103.jpg": ("Summit at dawn", ["hike", "mountains", "Kyoto"], "Yuki"),
    "DSC_0104.jpg": ("The wedding", ["wedding", "Porto", "church"], "Ines"),
    "DSC_0105.jpg": ("Sailing race", ["regatta", "boats", "Bergen"], "Anneliese"),
}
DRAWN = {  # file: lines of text drawn on it (the words are in the name only: no OCR here)
    "receipt-ace-hardware-2024-03.png": ["ACE HARDWARE", "Screws 4.99", "TOTAL 12.48"],
    "receipt-corner-bakery.png": ["CORNER BAKERY", "Croissant 2.10", "TOTAL 4.20"],
    "receipt-city-pharmacy.png": ["CITY PHARMACY", "Aspirin 5.40", "TOTAL 5.40"],
    "Screenshot 2024-05-01 at 10.22.13.png": ["Inbox (3)", "Meeting moved to Friday"],
    "Screenshot 2024-06-11 at 18.40.02.png": ["Settings", "Wi-Fi: on"],
    "boarding-pass-LH1234.png": ["LUFTHANSA", "LH1234 FRA-LIS", "Gate B22"],
}
PLAIN = ["IMG_20230514_1422.jpg", "IMG_20220101_0900.jpg", "IMG_20191224_2010.jpg"]
NOTES = {
    "pump-repair.md": "# Garden pump\nReplaced the impeller, part XK-4471, after the pump "
    "stopped drawing water.\nIt runs quietly again.\n",
    "pump-maintenance.md": "# Pump maintenance\nClean the filter every spring. The spare "
    "impeller is part XK-4470.\n",
    "lease-call.md": "# Call with Oksana\nWe talked about renewing the flat's lease for two "
    "more years; she wants the rent indexed.\n",
    "landlord.md": "# Landlord\nThe heating was fixed on Tuesday. Rent is due on the first.\n",
    "invoice-20931.txt": "Invoice 20931\nWebsite redesign for Tbilisi Tea House.\n"
    "Due in 30 days.\n",
    "invoice-20932.txt": "Invoice 20932\nLogo work for Hanoi Noodle Bar.\nDue in 30 days.\n",
    "bread.md": "# Bread\nThe dough should rest for at least an hour in a warm place before "
    "baking.\n",
    "banana-cake.md": "# Banana cake\nTwo ripe bananas must be mashed until smooth before adding "
    "the flour.\n",
    "night-train.md": "# Trip to Geneva\nThe night train leaves Lyon at 21:40 and reaches "
    "Geneva before dawn.\n",
    "ferry.md": "# Islands\nThe ferry only runs twice a day outside the summer season.\n",
    "budget-meeting.md": "# Finance sync\nFinance asked for a revised budget before Friday; "
    "the vendor will send numbers by email.\n",
    "database.md": "# Migration\nThe team raised concerns about the database migration and "
    "wants clearer owners.\n",
    "Ravi-contacts.txt": "Ravi Shankar\nphone +91 98765 43210\nprefers calls after six\n",
}
PICTURE_CASES = [
    ("Margarethe", "DSC_0101.jpg"),
    ("grandma's birthday", "DSC_0101.jpg"),
    ("Kofi graduation", "DSC_0102.jpg"),
    ("hike in Kyoto", "DSC_0103.jpg"),
    ("Ines wedding Porto", "DSC_0104.jpg"),
    ("regatta", "DSC_0105.jpg"),
    ("IMG_2023", "IMG_20230514_1422.jpg"),
    ("ace hardware receipt", "receipt-ace-hardware-2024-03.png"),
    ("pharmacy receipt", "receipt-city-pharmacy.png"),
    ("screenshot 2024-06", "Screenshot 2024-06-11 at 18.40.02.png"),
    ("LH1234", "boarding-pass-LH1234.png"),
    ("boarding pass", "boarding-pass-LH1234.png"),
]
DOCUMENT_CASES = [
    ("XK-4471", "pump-repair.md"),
    ("the garden pump stopped pumping water", "pump-repair.md"),
    ("Oksana lease", "lease-call.md"),
    ("renewing the rental contract of the apartment", "lease-call.md"),
    ("invoice 20931", "invoice-20931.txt"),
    ("Tbilisi tea house website", "invoice-20931.txt"),
    ("how long should the dough rise", "bread.md"),
    ("mashed bananas", "banana-cake.md"),
    ("when does the overnight train to Switzerland depart", "night-train.md"),
    ("boat timetable outside summer", "ferry.md"),
    ('"revised budget"', "budget-meeting.md"),
    ("worries about moving the database", "database.md"),
    ("Ravi's phone number", "Ravi-contacts.txt"),
]


def _drawn(lines: list[str], seed: int) -> Image.Image:
    image = Image.new("RGB", (240, 320), (250, 250, 245) if seed % 2 else (30, 32, 40))
    draw = ImageDraw.Draw(image)
    ink = (20, 20, 20) if seed % 2 else (230, 230, 230)
    for row, line in enumerate(lines):
        draw.text((16, 20 + 28 * row), line, fill=ink)
    return image


def build_labelled_library(root: Path) -> None:
    (root / "photos").mkdir(parents=True, exist_ok=True)
    (root / "notes").mkdir(parents=True, exist_ok=True)
    for seed, (name, (title, words, person)) in enumerate(TAGGED.items()):
        items = "".join(f"<rdf:li>{w}</rdf:li>" for w in words)
        packet = XMP.format(title=title, keywords=items, person=person).encode("utf-8")
        scene(seed, (320, 240)).save(root / "photos" / name, xmp=packet)
    for seed, (name, lines) in enumerate(DRAWN.items()):
        _drawn(lines, seed).save(root / "photos" / name)
    for seed, name in enumerate(PLAIN, start=20):
        scene(seed, (320, 240)).save(root / "photos" / name)
    for name, words in NOTES.items():
        (root / "notes" / name).write_text(words, "utf-8")
