"""Reads one PDF in a child process, under a memory cap and a time budget.

A PDF can be hostile: a few kilobytes of nested compressed streams that inflate to gigabytes
(measured: a 1 KB file took 7 GB and 21 s in PDFium), or thousands of pages. PDFium cannot be
interrupted or told a memory limit from Python, so it runs here, in a process of its own: the
address space is capped (an allocation past it fails and the child ends), the parent kills it
when it runs past its time, and whatever it did is lost with it, never the app.

Run as ``python -m desktop_app.core.kinds.pdf_worker PATH MAX_PAGES BUDGET_S RENDER_DIR
OCR_PAGES``; it prints one JSON object: ``pages`` (the page count), ``text`` ([page, words]
for pages with a text layer), ``scanned`` ([page, png path] for pages without one, rendered
for OCR when ``RENDER_DIR`` is not empty, at most ``OCR_PAGES``), ``cut`` (why it stopped
early, or null), or ``error``. Imports nothing of the app, so it starts in a fraction of a
second.
"""

import json
import os
import sys
import time

# Address space of the child; PDFium and Python need about 150 MB for an ordinary file.
MEMORY_CAP = 1 << 30
# A page with fewer printable characters than this has no usable text layer (scanned).
MIN_PAGE_CHARS = 16
# Text a PDF may give in all (about 2,500 pages of prose): more is not kept.
MAX_CHARS = 5_000_000
RENDER_DPI = 150


def _cap_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout still holds
        pass


def read(path: str, max_pages: int, budget_s: float, render_dir: str, ocr_pages: int) -> dict:
    import pypdfium2 as pdfium

    started = time.monotonic()
    try:
        document = pdfium.PdfDocument(path)
    except OSError as err:
        return {"error": f"cannot read ({err.strerror or err})"}
    except pdfium.PdfiumError as err:
        text = str(err).lower()
        if "password" in text:
            return {"error": "the PDF is encrypted (password protected): its text cannot be read"}
        return {"error": f"not a readable PDF ({err})"}
    pages = len(document)
    out: dict = {"pages": pages, "text": [], "scanned": [], "cut": None}
    chars = 0
    for index in range(pages):
        if index >= max_pages:
            out["cut"] = f"only the first {max_pages} of {pages} pages are indexed"
            break
        if time.monotonic() - started > budget_s:
            out["cut"] = f"reading stopped after {budget_s:.0f} s, at page {index + 1} of {pages}"
            break
        page = document[index]
        try:
            words = page.get_textpage().get_text_bounded()
        except pdfium.PdfiumError:
            words = ""
        words = words.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        if sum(ch.isalnum() for ch in words) >= MIN_PAGE_CHARS:
            chars += len(words)
            if chars > MAX_CHARS:
                out["cut"] = f"only the first {MAX_CHARS // 1_000_000} million characters are kept"
                break
            out["text"].append([index + 1, words])
        elif render_dir and len(out["scanned"]) < ocr_pages:
            target = os.path.join(render_dir, f"page-{index + 1}.png")
            page.render(scale=RENDER_DPI / 72).to_pil().convert("RGB").save(target)
            out["scanned"].append([index + 1, target])
    return out


def main() -> None:
    _cap_memory()
    path, max_pages, budget_s, render_dir, ocr_pages = sys.argv[1:6]
    try:
        result = read(path, int(max_pages), float(budget_s), render_dir, int(ocr_pages))
    except MemoryError:
        result = {"error": "the PDF needs more memory than allowed to read (a PDF bomb?)"}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
