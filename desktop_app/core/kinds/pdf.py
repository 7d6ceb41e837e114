"""PDFs: the text layer of each page, and the pages without one (scans) read by OCR.

PDFium (``pypdfium2``) does the reading in a child process with a memory cap and a time
budget (see :mod:`pdf_worker`): a PDF bomb, a 2,000-page file or a page that never finishes
costs at most that, and a clear per-file message, never the app's memory. Each page's words
become text units spanning that page, so a hit says "page 4" and the card shows that page.
"""

import json
import os
import subprocess
import sys
import tempfile

from PIL import Image

from desktop_app.core.kinds.base import TEXT, DecodeError, Span, Unit, UnitModels
from desktop_app.core.kinds.chunking import chunk_text
from desktop_app.core.kinds.picture_text import ReaderFactory, read_picture, text_units

# Pages of one PDF that are indexed (the rest of a longer one is left out), the seconds the
# reading may take, and how many pages without a text layer are read by OCR (0.3-1 s each).
MAX_PAGES = 1000
TIME_BUDGET_S = 60.0
MAX_OCR_PAGES = 50
# The child is killed past its budget plus this much (a page that never finishes).
_GRACE_S = 30.0


def pdf_units(path: str, models: UnitModels, reader: ReaderFactory) -> list[Unit]:
    """The text units of a PDF: chunks of each page's text layer, and of what OCR read on
    the pages without one; raises :class:`DecodeError` for an unusable PDF."""
    with tempfile.TemporaryDirectory(prefix="snapfind-pdf-") as scratch:
        result = _read_in_child(path, scratch)
        window, count_tokens = models.text_window(TEXT)
        units = [
            Unit(TEXT, text=chunk.text, span=Span(page, page, "page"))
            for page, words in result["text"]
            for chunk in chunk_text(words, window, count_tokens)
        ]
        for page, image_path in result["scanned"]:
            with Image.open(image_path) as picture:
                lines = read_picture(picture.convert("RGB"), reader)
            units.extend(text_units(lines, models, page=page))
    units.sort(key=lambda unit: unit.span.start if unit.span else 0)
    return units


def _read_in_child(path: str, scratch: str) -> dict:
    command = [
        sys.executable,
        "-m",
        "desktop_app.core.kinds.pdf_worker",
        path,
        str(MAX_PAGES),
        str(TIME_BUDGET_S),
        scratch,
        str(MAX_OCR_PAGES),
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=TIME_BUDGET_S + _GRACE_S,
            env=_child_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DecodeError(
            f"the PDF took longer than {TIME_BUDGET_S + _GRACE_S:.0f} s to read (a PDF bomb?)"
        ) from None
    except OSError as err:
        raise DecodeError(f"cannot start the PDF reader ({err})") from None
    try:
        result = json.loads(done.stdout)
    except ValueError:
        if not os.path.exists(path):
            raise DecodeError("file vanished before it could be read") from None
        raise DecodeError(
            "the PDF could not be read within the memory allowed (damaged, or a PDF bomb)"
        ) from None
    if "error" in result:
        raise DecodeError(result["error"])
    return result


def _child_env() -> dict[str, str]:
    """The child finds this package where the parent did (a source checkout, a venv)."""
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    return env


def render_page(path: str, page: int, size: int) -> Image.Image:
    """Page ``page`` (1-based; the last one if there are fewer) of a PDF as an RGB picture
    whose longest side is ``size`` pixels: the card and preview of a PDF hit."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path)
    except (pdfium.PdfiumError, OSError) as err:
        raise DecodeError(f"not a readable PDF ({err})") from None
    try:
        if len(document) == 0:
            raise DecodeError("the PDF has no pages")
        sheet = document[min(max(page, 1), len(document)) - 1]
        width, height = sheet.get_size()
        scale = size / max(width, height, 1.0)
        return sheet.render(scale=scale).to_pil().convert("RGB")
    finally:
        document.close()
