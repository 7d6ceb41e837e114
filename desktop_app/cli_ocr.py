"""``snapfind-cli ocr``: whether the text in pictures is read, like ``precision``.

snapfind-cli ocr            # show the setting
snapfind-cli ocr off        # pictures are indexed by their look alone (faster)
snapfind-cli ocr on         # the next `snapfind-cli index` reads the pictures not read yet
"""

import argparse
import json
from typing import Any

from desktop_app.cli_search import out


def add_parser(sub: Any) -> None:
    ocr = sub.add_parser(
        "ocr",
        help="read text in pictures (OCR): show, or switch on or off",
        description="Reading the text in pictures finds screenshots, receipts and signs by "
        "their words, and takes about as long again as indexing their look. Off, pictures "
        "count as indexed by their look alone and text read before stays searchable; on "
        "again, the next index run reads the pictures not read yet. PDF pages without a text "
        "layer are read either way.",
    )
    ocr.add_argument("value", nargs="?", choices=("on", "off"), help="on (default) or off")
    ocr.add_argument("--json", action="store_true", help="machine-readable output")


def run(engine: Any, args: argparse.Namespace) -> None:
    if args.value:
        engine.set_read_text_in_pictures(args.value == "on")
    on = engine.settings.read_text_in_pictures
    if args.json:
        out(json.dumps({"read_text_in_pictures": on}))
    elif not args.value:
        out(f"Text in pictures (OCR): {describe(on)}")
    elif on:
        out(
            "Text in pictures (OCR): on. Run `snapfind-cli index` to read the pictures "
            "not read yet."
        )
    else:
        out(
            "Text in pictures (OCR): off. Pictures are indexed by their look alone; the text "
            "read before stays searchable."
        )


def describe(on: bool) -> str:
    """The setting in words, for ``ocr`` and ``status``."""
    return "on (pictures are found by their words too)" if on else "off (pictures by look alone)"
