"""The synthetic library the benchmark indexes: photo-like JPEGs and Markdown/text notes.

Kept apart from the measuring code because generating data is never part of a measure: it runs
in child processes, is seeded so every run indexes the same files, and keeps files that already
exist so a ``--workdir`` can reuse them between runs.
"""

import multiprocessing
import os
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import bench_env  # noqa: F401  (puts tests/ on sys.path for imagegen)
import numpy as np
from imagegen import scene  # type: ignore[import-not-found, unused-ignore]  # tests/
from PIL import Image

MIXED_SIZES = (  # (width, height) of generated photos; portrait ones are added by rotation
    (640, 480),
    (800, 600),
    (1024, 768),
    (1280, 960),
    (1280, 720),
    (1440, 960),
    (1600, 900),
    (1600, 1200),
)
CAMERAS = (("Canon", "Canon EOS 80D"), ("Apple", "iPhone 13"), ("FUJIFILM", "X-T3"), ("", ""))
PLACES = ("beach", "city", "garden", "mountains", "family", "party", "trip", "home")
TOPICS: dict[str, tuple[list[str], list[str]]] = {
    # topic: (subjects, predicates) combined into varied sentences
    "meeting": (
        ["The team", "Marta", "Finance", "The vendor", "Our manager", "The design group"],
        [
            "agreed to move the launch to the second week of May",
            "asked for a revised budget before Friday",
            "raised concerns about the database migration",
            "will send the quarterly numbers by email",
            "wants fewer meetings and clearer owners for each task",
            "proposed a pilot with three customers",
        ],
    ),
    "recipe": (
        ["The dough", "Two ripe bananas", "The oven", "A pinch of salt", "The sauce", "Butter"],
        [
            "should rest for at least an hour in a warm place",
            "must be mashed until smooth before adding the flour",
            "needs to be preheated to 180 degrees",
            "brings out the sweetness of the tomatoes",
            "simmers gently for twenty minutes with the lid off",
            "can be replaced by olive oil for a lighter version",
        ],
    ),
    "travel": (
        ["The night train", "Our hostel", "The ferry", "The museum", "The old town", "The guide"],
        [
            "leaves Lyon at 21:40 and reaches Geneva before dawn",
            "is a short walk from the harbour and the fish market",
            "only runs twice a day outside the summer season",
            "is closed on Mondays but free on the first Sunday",
            "is best explored early in the morning before the crowds",
            "recommended a quiet beach north of the lighthouse",
        ],
    ),
    "garden": (
        ["The tomatoes", "The apple tree", "Compost", "The lawn", "Lavender", "The rain barrel"],
        [
            "need more sun than the corner by the fence gets",
            "should be pruned in late winter while it is dormant",
            "improves heavy clay soil within a couple of seasons",
            "turns yellow when it is watered in the midday heat",
            "attracts bees and survives the dry weeks of August",
            "collects enough water for the vegetable beds",
        ],
    ),
    "tech": (
        ["The router", "The backup script", "The laptop", "The printer", "The VPN", "The NAS"],
        [
            "can be reset by holding the button for ten seconds",
            "runs every night at two and keeps thirty snapshots",
            "needs a new battery after four years of daily use",
            "only works after reinstalling the vendor driver",
            "drops the connection when the hotel wifi sleeps",
            "stores the family photos on two mirrored disks",
        ],
    ),
}


def _photo(task: tuple[str, int, tuple[int, int], bool]) -> int:
    """Write one photo-like JPEG (a seeded scene plus sensor-like grain); returns its bytes."""
    path, seed, size, with_exif = task
    rng = random.Random(seed)
    picture = scene(seed, size)
    grain = np.random.default_rng(seed).integers(-9, 10, size=(size[1], size[0], 1), dtype=np.int16)
    pixels = np.clip(np.asarray(picture, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    picture = Image.fromarray(pixels)
    exif = Image.Exif()
    if with_exif:
        make, model = rng.choice(CAMERAS)
        if make:
            exif[271], exif[272] = make, model  # Make, Model
        day = f"{rng.randint(2012, 2024)}:{rng.randint(1, 12):02d}:{rng.randint(1, 28):02d}"
        hour = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
        exif.get_ifd(0x8769)[36867] = f"{day} {hour}"  # DateTimeOriginal
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = path + ".part"
    picture.save(tmp, "JPEG", quality=rng.choice((85, 90, 92)), exif=exif)
    os.replace(tmp, path)
    return os.path.getsize(path)


def photo_size(rng: random.Random, fixed: tuple[int, int] | None) -> tuple[int, int]:
    if fixed:
        return fixed
    w, h = rng.choice(MIXED_SIZES)
    return (h, w) if rng.random() < 0.25 else (w, h)  # a quarter are portrait


def generate_images(folder: Path, count: int, fixed: tuple[int, int] | None, seed: int) -> int:
    """``count`` photos in dated album folders; existing files are kept. Returns how many were
    written."""
    rng = random.Random(seed)
    tasks = []
    for i in range(count):
        album = f"{2012 + i // 250}/{(i // 50) % 12 + 1:02d}-{PLACES[(i // 50) % len(PLACES)]}"
        size = photo_size(rng, fixed)
        tasks.append(
            (
                str(folder / album / f"IMG_{i:05d}.jpg"),
                seed * 1_000_003 + i,
                size,
                rng.random() < 0.7,
            )
        )
    return make_photos(tasks)


def make_photos(tasks: list[tuple[str, int, tuple[int, int], bool]]) -> int:
    """Write the photos that do not exist yet, in fresh child processes (one per core)."""
    missing = [t for t in tasks if not os.path.exists(t[0])]
    if missing:
        spawn = multiprocessing.get_context("spawn")  # no fork of a process that holds torch
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=spawn) as pool:
            list(pool.map(_photo, missing, chunksize=4))
    return len(missing)


def _document(rng: random.Random, topic: str, paragraphs: int) -> str:
    subjects, predicates = TOPICS[topic]
    lines = [f"# {topic.capitalize()} notes {rng.randint(1, 99)}", ""]
    for _ in range(paragraphs):
        sentences = [
            f"{rng.choice(subjects)} {rng.choice(predicates)}." for _ in range(rng.randint(1, 5))
        ]
        if rng.random() < 0.3:
            lines.append(f"- {' '.join(sentences)}")
        else:
            lines.extend([" ".join(sentences), ""])
    return "\n".join(lines) + "\n"


def generate_documents(folder: Path, count: int, seed: int) -> int:
    """``count`` Markdown and text notes, from a few lines to several model windows long.

    Existing files are kept; returns how many were written."""
    rng = random.Random(seed + 7)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for i in range(count):
        topic = rng.choice(sorted(TOPICS))
        paragraphs = rng.choice((1, 3, 6, 12, 30))  # 30 paragraphs: several chunks
        path = folder / f"{topic}-{i:03d}.{'md' if i % 3 else 'txt'}"
        text = _document(rng, topic, paragraphs)  # always drawn, so the sequence is stable
        if not path.exists():
            path.write_text(text, "utf-8")
            written += 1
    return written
