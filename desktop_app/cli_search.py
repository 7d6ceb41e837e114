"""The search side of ``snapfind-cli``: query terms and filters from the arguments, and hits
printed as text or JSON. Kept apart from :mod:`desktop_app.cli` so each stays readable."""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from desktop_app.core.errors import KnownError
from desktop_app.core.kinds.base import clock
from desktop_app.core.paths import display

CLOSEST = 3  # weak matches shown when none passes the cut-off


class UsageError(Exception):
    pass


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _hit_json(hit: Any) -> dict[str, Any]:
    data: dict[str, Any] = hit.as_dict()
    data["path"] = display(hit.path)
    return data


def print_hits(hits: Sequence[Any], args: argparse.Namespace) -> None:
    """Good matches only (relevance at or above the cut-off) unless --all; when none pass, the
    closest few are shown apart, so an empty answer still says what came nearest."""
    from desktop_app.core.searching.relevance import CUTOFF

    good = [h for h in hits if args.all or h.relevance >= CUTOFF]
    closest = [] if good else list(hits[:CLOSEST])
    if args.json:
        out(
            json.dumps(
                {
                    "results": [_hit_json(h) for h in good],
                    "closest": [_hit_json(h) for h in closest],
                },
                ensure_ascii=False,
            )
        )
        return
    if not hits:
        out("No matches.")
        return
    if not good:
        out("No good matches. The closest:")
        out("-" * 40)
    for hit in good or closest:
        also = "".join(f"  + {display(os.path.basename(p))}" for p in hit.companions)
        out(
            f"{hit.rank:3d}  {hit.relevance:4.0%}  {hit.kind:<8}  {display(hit.path)}{_place(hit)}"
            f"{also}"
        )
        if hit.span is not None and hit.span.unit == "second" and hit.snippet:
            words = " ".join(hit.snippet.split())  # what was said there
            out(f"{'':21}“{words[:117] + '…' if len(words) > 120 else words}”")


def _place(hit: Any) -> str:
    """Where in the file: "  (lines 3-7)", or a video's or recording's stretch " @ 03:41-03:52"."""
    span = hit.span
    if span is None:
        return ""
    if span.unit == "second":
        start, end = clock(span.start), clock(span.end)
        return f" @ {start}" + (f"-{end}" if end != start else "")
    return f"  ({span.describe()})"


def parse_moment(text: str) -> float:
    """A moment as people write it: "221", "03:41", "1:02:03" -> seconds."""
    try:
        seconds = 0.0
        for part in text.strip().split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError:
        raise UsageError(f"--at {text}: write seconds or MM:SS, e.g. 03:41") from None
    return seconds


def add_result_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=20, help="number of results (default: 20)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--all", action="store_true", help="also show weaker matches below the cut-off"
    )


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters (applied inside the search)")
    group.add_argument("--after", metavar="DATE", help="taken on or after DATE (2024, 2024-06…)")
    group.add_argument("--before", metavar="DATE", help="taken before DATE")
    group.add_argument(
        "--in",
        dest="folders",
        action="append",
        default=[],
        metavar="FOLDER",
        help="only under FOLDER (repeatable)",
    )
    group.add_argument(
        "--type",
        dest="types",
        default="",
        metavar="TYPES",
        help="comma-separated: image, document, jpeg, png, heic, webp, gif, tiff, text…",
    )
    group.add_argument("--orientation", choices=["landscape", "portrait", "square"])
    group.add_argument("--min-side", type=int, metavar="PX", help="shorter side at least PX")
    group.add_argument("--camera", metavar="TEXT", help="camera make or model contains TEXT")
    group.add_argument(
        "--origin",
        choices=["camera", "screenshot"],
        help="camera photos (exposure recorded) or screenshots and graphics (none)",
    )
    group.add_argument(
        "--has-text", action="store_true", help="only files with text in them (documents…)"
    )


def filters_from(args: argparse.Namespace) -> Any:
    from desktop_app.core.searching.filters import Filters, parse_date

    types = tuple(t for t in args.types.split(",") if t.strip() and t.strip() != "all")
    return Filters(
        after=parse_date(args.after) if args.after else None,
        before=parse_date(args.before) if args.before else None,
        folders=tuple(args.folders),
        types=types,
        orientation=args.orientation,
        min_side=args.min_side,
        camera=args.camera,
        origin=args.origin,
        has_text=args.has_text,
    )


def query_from(args: argparse.Namespace) -> Any:
    """The search's terms: QUERY in the compact syntax, then the flags, then --weight."""
    from desktop_app.core.searching import terms as query

    weights = {"text": 1.0, "image": 1.0, "not": 1.0}
    for item in args.weight:
        kind, _, value = item.partition("=")
        try:
            if kind not in weights:
                raise ValueError
            weights[kind] = float(value)
        except ValueError:
            raise UsageError(f"--weight {item}: write text=W, image=W or not=W") from None
    terms = list(query.parse(args.text).terms) if args.text else []
    terms = [t.with_weight(t.weight * weights[t.kind if t.weight > 0 else "not"]) for t in terms]
    terms += [query.image(_picture(f), weights["image"]) for f in args.image]
    terms += [query.text(t, -weights["not"]) for t in args.negative]
    terms += [query.image(_picture(f), -weights["not"]) for f in args.not_image]
    built = query.Query(tuple(terms))
    if built.is_empty:
        raise UsageError("give a description or --image FILE")
    return built


def _picture(path: str) -> str:
    if not os.path.isfile(path):
        raise KnownError(f"No such picture: {path}")
    return os.path.abspath(path)
