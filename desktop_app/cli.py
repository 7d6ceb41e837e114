"""``snapfind-cli``: the command-line face on the Engine.

Exit codes: 0 success, 1 a problem the user can fix (one line on stderr), 2 bad usage.
``--json`` output is documented in the README and kept stable: new keys may be added, existing
keys never change meaning.
"""

import argparse
import json
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from desktop_app import __version__
from desktop_app.core.errors import KnownError
from desktop_app.core.humanize import human_bytes
from desktop_app.core.paths import display
from desktop_app.core.storage import storage_error

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2
_CLOSEST = 3  # weak matches shown when none passes the cut-off


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snapfind-cli",
        description="Find your photos and notes by meaning, offline.",
    )
    parser.add_argument("--version", action="version", version=f"snapfind {__version__}")
    parser.add_argument("--home", help="data folder (default: $SNAPFIND_HOME or the platform's)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add = sub.add_parser("add", help="add folders to the library")
    add.add_argument("paths", nargs="+", metavar="PATH")
    remove = sub.add_parser("remove", help="forget a folder (its files are not touched)")
    remove.add_argument("path", metavar="PATH")
    index = sub.add_parser("index", help="scan the folders and index what is new or changed")
    index.add_argument("--retry-failed", action="store_true", help="try failed files again")

    search = sub.add_parser(
        "search",
        help="search by words, pictures or both",
        description="QUERY is words, a picture file, or both combined: terms joined by "
        "' + ' or ' - ', each with an optional WEIGHT: prefix, e.g. "
        '"2:beach + ./ref.jpg - people". Only matches above the relevance cut-off are '
        "shown unless --all is given.",
    )
    search.add_argument("text", nargs="?", metavar="QUERY", help="what you are looking for")
    search.add_argument(
        "--image", action="append", default=[], metavar="FILE", help="like this picture"
    )
    search.add_argument(
        "--not",
        dest="negative",
        action="append",
        default=[],
        metavar="TEXT",
        help="away from these words",
    )
    search.add_argument(
        "--not-image", action="append", default=[], metavar="FILE", help="unlike this picture"
    )
    search.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="KIND=W",
        help="weight of the text, image or not terms (default 1 each), e.g. image=0.7",
    )
    _result_options(search)
    _filter_options(search)

    similar = sub.add_parser("similar", help="more like an indexed file")
    similar.add_argument("path", metavar="PATH")
    _result_options(similar)
    _filter_options(similar)

    dups = sub.add_parser(
        "duplicates",
        help="groups of duplicate pictures (nothing is deleted)",
        description="List groups of copies and near-copies, the suggested one to keep first. "
        "Files are never moved or deleted.",
    )
    dups.add_argument(
        "--threshold",
        type=_threshold,
        default="near",
        metavar="LEVEL",
        help="exact (same bytes), near (re-encoded, resized: default), similar (bursts), "
        "or a CLIP cosine such as 0.95",
    )
    dups.add_argument(
        "--in", dest="folders", action="append", metavar="FOLDER", help="only this library folder"
    )
    dups.add_argument("--json", action="store_true", help="machine-readable output")

    status = sub.add_parser("status", help="counts, model and sizes")
    status.add_argument("--json", action="store_true")
    errors = sub.add_parser("errors", help="files that could not be indexed, and why")
    errors.add_argument("--json", action="store_true")

    models = sub.add_parser("models", help="list, download or import CLIP models")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    mlist = msub.add_parser("list", help="presets and imported models")
    mlist.add_argument("--json", action="store_true")
    download = msub.add_parser("download", help="download a preset (default: the active one)")
    download.add_argument("name", nargs="?")
    use = msub.add_parser("use", help="make a model the active one (re-indexes pictures)")
    use.add_argument("name")
    imp = msub.add_parser("import", help="use a local weights file (works offline)")
    imp.add_argument("--arch", required=True, help="open_clip architecture, e.g. ViT-B-32")
    imp.add_argument("--config", type=Path, help="JSON config for a custom architecture")
    imp.add_argument(
        "--text-tower",
        type=Path,
        metavar="FOLDER",
        help="config.json and tokenizer files of the text tower (multilingual models)",
    )
    imp.add_argument("file", type=Path, metavar="FILE")
    return parser


def _result_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=20, help="number of results (default: 20)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--all", action="store_true", help="also show weaker matches below the cut-off"
    )


def _filter_options(parser: argparse.ArgumentParser) -> None:
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


def _filters(args: argparse.Namespace) -> Any:
    from desktop_app.core.filters import Filters, parse_date

    types = tuple(t for t in args.types.split(",") if t.strip() and t.strip() != "all")
    return Filters(
        after=parse_date(args.after) if args.after else None,
        before=parse_date(args.before) if args.before else None,
        folders=tuple(args.folders),
        types=types,
        orientation=args.orientation,
        min_side=args.min_side,
        camera=args.camera,
    )


def _query(args: argparse.Namespace) -> Any:
    """The search's terms: QUERY in the compact syntax, then the flags, then --weight."""
    from desktop_app.core import query

    weights = {"text": 1.0, "image": 1.0, "not": 1.0}
    for item in args.weight:
        kind, _, value = item.partition("=")
        try:
            if kind not in weights:
                raise ValueError
            weights[kind] = float(value)
        except ValueError:
            raise _UsageError(f"--weight {item}: write text=W, image=W or not=W") from None
    terms = list(query.parse(args.text).terms) if args.text else []
    terms = [t.with_weight(t.weight * weights[t.kind if t.weight > 0 else "not"]) for t in terms]
    terms += [query.image(_picture(f), weights["image"]) for f in args.image]
    terms += [query.text(t, -weights["not"]) for t in args.negative]
    terms += [query.image(_picture(f), -weights["not"]) for f in args.not_image]
    built = query.Query(tuple(terms))
    if built.is_empty:
        raise _UsageError("give a description or --image FILE")
    return built


def _picture(path: str) -> str:
    if not os.path.isfile(path):
        raise KnownError(f"No such picture: {path}")
    return os.path.abspath(path)


def _threshold(value: str) -> float:
    from desktop_app.core.duplicates import parse_threshold  # numpy: only when it is used

    try:
        return parse_threshold(value)
    except KnownError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _hit_json(hit: Any) -> dict[str, Any]:
    data = asdict(hit)
    data["path"] = display(hit.path)
    return data


def _print_hits(hits: Sequence[Any], args: argparse.Namespace) -> None:
    """Good matches only (relevance at or above the cut-off) unless --all; when none pass, the
    closest few are shown apart, so an empty answer still says what came nearest."""
    from desktop_app.core.relevance import CUTOFF

    good = [h for h in hits if args.all or h.relevance >= CUTOFF]
    closest = [] if good else list(hits[:_CLOSEST])
    if args.json:
        _out(
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
        _out("No matches.")
        return
    if not good:
        _out("No good matches. The closest:")
        _out("-" * 40)
    for hit in good or closest:
        where = f"  (lines {hit.line_start}-{hit.line_end})" if hit.line_start else ""
        _out(f"{hit.rank:3d}  {hit.relevance:4.0%}  {hit.kind:<8}  {display(hit.path)}{where}")


def _run_index(engine: Any, retry_failed: bool) -> int:
    from tqdm import tqdm

    from desktop_app.core.progress import Control

    if retry_failed:
        engine.retry_failed()
    control = Control()
    work = engine.index(control)
    bar: Any = None
    phase = None
    last = None
    try:
        for progress in work:
            last = progress
            if progress.phase in ("images", "documents"):
                if progress.phase != phase:
                    if bar is not None:
                        bar.close()
                    phase = progress.phase
                    bar = tqdm(
                        total=progress.total,
                        desc=f"Indexing {phase}",
                        unit="file",
                        file=sys.stderr,
                        dynamic_ncols=True,
                    )
                bar.n = progress.done
                bar.set_postfix(failed=progress.failed, refresh=False)
                bar.refresh()
            elif progress.phase == "scanning" and progress.done:
                sys.stderr.write(f"\rScanning… {progress.done} files")
    except KeyboardInterrupt:
        control.cancel()
        work.close()  # runs the generator's cleanup: saves the index
        sys.stderr.write("\nStopped. Everything indexed so far is kept.\n")
        return EXIT_OK
    finally:
        if bar is not None:
            bar.close()
    if last is not None and last.message:
        sys.stderr.write(f"\n{last.message}\n" if phase is None else f"{last.message}\n")
    failed = len(engine.errors())
    if failed:
        sys.stderr.write(f"{failed} file(s) could not be indexed: see `snapfind-cli errors`.\n")
    return EXIT_OK


def _duplicates(engine: Any, threshold: float, folders: list[str] | None, as_json: bool) -> None:
    from desktop_app.core.duplicates import LEVEL_LABELS, Report, level_of

    report = next(r for r in engine.duplicate_scan(threshold, folders) if isinstance(r, Report))
    level = level_of(threshold)
    if as_json:
        groups = [
            {
                "similarity": g.similarity,
                "exact": g.exact,
                "members": [{**asdict(m), "path": display(m.path)} for m in g.members],
            }
            for g in report.groups
        ]
        data = {"threshold": threshold, "level": level, "pictures": report.pictures}
        _out(json.dumps({**data, "groups": groups}, ensure_ascii=False))
        return
    named = f"{LEVEL_LABELS[level]}, " if level else ""
    criterion = "same bytes" if threshold >= 1.0 else f"cosine ≥ {threshold:.3f}"
    if not report.groups:
        _out(f"No duplicates among {report.pictures} pictures ({named}{criterion}).")
        return
    for number, group in enumerate(report.groups, start=1):
        _out(f"Group {number}: {len(group.members)} pictures")
        for m in group.members:
            mark = "keep" if m.keep else ("same" if m.exact_copy else f"{m.similarity:.3f}")
            pixels = f"{m.width}×{m.height}" if m.width else "?"
            taken = time.strftime("%Y-%m-%d", time.localtime(m.taken_at)) if m.taken_at else ""
            _out(
                f"  {mark:<5}  {pixels:>11}  {human_bytes(m.size):>9}  {taken:<10}  "
                f"{display(m.path)}"
            )
    count = sum(len(g.members) for g in report.groups)
    _out(
        f"{len(report.groups)} groups, {count} of {report.pictures} pictures ({named}{criterion})."
        " Nothing was moved or deleted."
    )


def _status(engine: Any, as_json: bool) -> None:
    status = engine.status()
    if as_json:
        data = asdict(status)
        for root in data["roots"]:
            root["path"] = display(root["path"])
        _out(json.dumps(data, ensure_ascii=False))
        return
    _out(f"Library:   {status.home}")
    _out(f"Model:     {status.model}")
    for root in status.roots:
        state = "" if root.online else "  [offline: entries kept]"
        _out(
            f"Folder:    {display(root.path)}  ({root.indexed} indexed, {root.pending} pending,"
            f" {root.failed} failed){state}"
        )
    for kind, counts in status.counts.items():
        _out(
            f"{kind.capitalize() + 's:':<10} "
            + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("indexed", "pending", "failed"))
        )
    for vs in status.vector_sets:
        _out(f"Vectors:   {vs['vectors']} × {vs['dim']}-d from {vs['model_id']} ({vs['state']})")
    _out(
        f"Disk:      database {human_bytes(status.database_bytes)}, indexes "
        f"{human_bytes(status.index_bytes)}, thumbnails {human_bytes(status.thumbnail_bytes)}"
    )


def _errors(engine: Any, as_json: bool) -> None:
    failed = engine.errors()
    if as_json:
        _out(
            json.dumps(
                {
                    "errors": [
                        {"path": display(f.path), "kind": f.kind, "error": f.error} for f in failed
                    ]
                },
                ensure_ascii=False,
            )
        )
        return
    if not failed:
        _out("No errors.")
    for f in failed:
        _out(f"{display(f.path)}: {f.error}")


def _models(engine: Any, args: argparse.Namespace) -> None:
    if args.models_command == "list":
        choices = engine.model_choices()
        if args.json:
            _out(json.dumps({"models": choices}, ensure_ascii=False))
            return
        for m in choices:
            mark = "*" if m["active"] else " "
            have = "downloaded" if m["available"] else f"{m.get('download_mb', '?')} MB to download"
            detail = m.get("summary") or f"imported from {m.get('file')}"
            _out(f"{mark} {m['name']:<28} {have:<20} {detail}")
    elif args.models_command == "download":
        path = engine.download_model(args.name)
        _out(f"Model ready: {path}")
    elif args.models_command == "use":
        engine.set_model(args.name)
        _out(f"Now using {args.name}; run `snapfind-cli index` to re-index your pictures.")
    elif args.models_command == "import":
        name = engine.import_model(args.arch, args.file, args.config, args.text_tower)
        _out(f"Imported as {name} and made active; run `snapfind-cli index`.")


def _dispatch(args: argparse.Namespace) -> int:
    from desktop_app.core.engine import Engine

    read_only = args.command in ("search", "similar", "duplicates", "status", "errors") or (
        args.command == "models" and args.models_command == "list"
    )
    with Engine(args.home, writer=not read_only) as engine:
        if args.command == "add":
            for path in args.paths:
                root = engine.add_root(path)
                _out(f"Added {display(root.path)}")
            _out("Run `snapfind-cli index` to index it.")
        elif args.command == "remove":
            engine.remove_root(args.path)
            _out(f"Removed {display(os.path.abspath(args.path))} (its files are untouched).")
        elif args.command == "index":
            return _run_index(engine, args.retry_failed)
        elif args.command == "search":
            _print_hits(engine.query(_query(args), args.k, filters=_filters(args)), args)
        elif args.command == "similar":
            _print_hits(engine.similar(args.path, args.k, filters=_filters(args)), args)
        elif args.command == "duplicates":
            _duplicates(engine, args.threshold, args.folders, args.json)
        elif args.command == "status":
            _status(engine, args.json)
        elif args.command == "errors":
            _errors(engine, args.json)
        elif args.command == "models":
            _models(engine, args)
    return EXIT_OK


class _UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = sys.argv[1:] if argv is None else list(argv)
    if not arguments:
        parser.print_help()
        return EXIT_OK
    args = parser.parse_args(arguments)
    try:
        return _dispatch(args)
    except _UsageError as err:
        parser.error(str(err))  # exits with 2
    except KnownError as err:
        sys.stderr.write(f"snapfind: {err}\n")
        return EXIT_USER_ERROR
    except (OSError, sqlite3.Error) as err:
        known = storage_error(err, args.home)
        if known is None:
            raise
        sys.stderr.write(f"snapfind: {known}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("\nInterrupted.\n")
        return 130
    return EXIT_OK
