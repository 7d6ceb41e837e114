"""Pictures for tests: seeded, varied drawings (not flat colours) in any size and mode."""

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A random but deterministic scene: a gradient sky, shapes, some texture."""
    rng = random.Random(seed)
    w, h = size
    top = tuple(rng.randrange(256) for _ in range(3))
    bottom = tuple(rng.randrange(256) for _ in range(3))
    image = Image.linear_gradient("L").resize((w, h))
    image = Image.merge(
        "RGB",
        [
            image.point(lambda v, a=a, b=b: a + (b - a) * v // 255)
            for a, b in zip(top, bottom, strict=True)
        ],
    )
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(6, 14)):
        x, y = rng.randrange(w), rng.randrange(h)
        box = [x, y, x + rng.randint(w // 10, w // 2), y + rng.randint(h // 10, h // 2)]
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice(("ellipse", "rectangle", "polygon"))
        if shape == "ellipse":
            draw.ellipse(box, fill=colour)
        elif shape == "rectangle":
            draw.rectangle(box, fill=colour)
        else:
            points = [(rng.randrange(w), rng.randrange(h)) for _ in range(rng.randint(3, 6))]
            draw.polygon(points, fill=colour)
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.5)))


def save_scene(
    path: Path, seed: int, size: tuple[int, int] = (320, 240), **save_args: object
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    scene(seed, size).save(path, **save_args)
    return path


def save_exif_scene(path: Path, seed: int, size: tuple[int, int], taken: str, camera: str) -> Path:
    """A scene with EXIF date taken ("2019:07:14 18:30:05") and camera make/model."""
    exif = Image.Exif()
    exif[271], exif[272] = camera.split()[0], camera
    exif.get_ifd(0x8769)[36867] = taken
    path.parent.mkdir(parents=True, exist_ok=True)
    scene(seed, size).save(path, exif=exif)
    return path
