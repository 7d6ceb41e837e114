"""``snapfind-cli``: the command-line face on the Engine.

Exit codes: 0 success, 1 a problem the user can fix (one line on stderr), 2 bad usage.
``--json`` output is documented in the README and kept stable: new keys may be added, existing
keys never change meaning.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from desktop_app import __version__
from desktop_app.core.errors import KnownError
from desktop_app.core.humanize import human_bytes
from desktop_app.core.paths import display

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2


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

    search = sub.add_parser("search", help="search by a description or by an image")
    search.add_argument("text", nargs="?", help="what you are looking for")
    search.add_argument("--image", metavar="FILE", help="find pictures that look like FILE")
    _result_options(search)
    search.add_argument(
        "--type",
        choices=["all", "image", "document"],
        default="all",
        help="kind of results (default: all)",
    )
    search.add_argument("--min-score", type=float, help="hide hits below this cosine score")

    similar = sub.add_parser("similar", help="more like an indexed file")
    similar.add_argument("path", metavar="PATH")
    _result_options(similar)

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
    imp.add_argument("file", type=Path, metavar="FILE")

    precision = sub.add_parser(
        "precision", help="how the picture model runs: show, choose, or check it"
    )
    precision.add_argument(
        "value", nargs="?", help="auto (default), fp32 (reference), bf16 or onnx-int8"
    )
    precision.add_argument(
        "--check", action="store_true", help="load the model and run the fidelity checks now"
    )
    precision.add_argument("--json", action="store_true")
    return parser


def _result_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=20, help="number of results (default: 20)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _hit_json(hit: Any) -> dict[str, Any]:
    data = asdict(hit)
    data["path"] = display(hit.path)
    return data


def _print_hits(hits: Sequence[Any], as_json: bool) -> None:
    if as_json:
        _out(json.dumps({"results": [_hit_json(h) for h in hits]}, ensure_ascii=False))
        return
    if not hits:
        _out("No matches.")
        return
    for hit in hits:
        where = f"  (lines {hit.line_start}-{hit.line_end})" if hit.line_start else ""
        _out(f"{hit.rank:3d}  {hit.score:.3f}  {hit.kind:<8}  {display(hit.path)}{where}")


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
        name = engine.import_model(args.arch, args.file, args.config)
        _out(f"Imported as {name} and made active; run `snapfind-cli index`.")


def _precision(engine: Any, args: argparse.Namespace) -> None:
    if args.value:
        engine.set_precision(args.value)
        if not args.check:
            _out(
                f"Picture model precision: {args.value}. It is checked against fp32 on first "
                "use and refused (fp32 runs instead) if it changes the results; stored vectors "
                "stay valid. `snapfind-cli precision --check` runs the check now."
            )
            return
    status = engine.precision_status(check=args.check)
    if args.json:
        _out(json.dumps(status, ensure_ascii=False))
        return
    running = f" (running: {status['active']})" if status["active"] else ""
    _out(f"Precision: {status['setting']}{running}")
    if status["note"]:
        _out(f"Note:      {status['note']}")
    for line in status["checks"]:
        _out(f"  {line}")
    if not status["checks"]:
        _out("  not checked yet: checks run when pictures are first embedded, or with --check")


def _dispatch(args: argparse.Namespace) -> int:
    from desktop_app.core.engine import Engine

    read_only = (
        args.command in ("search", "similar", "status", "errors")
        or (args.command == "models" and args.models_command == "list")
        or (args.command == "precision" and not args.value)
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
            if bool(args.text) == bool(args.image):
                raise _UsageError("give either a description or --image FILE")
            if args.image:
                hits = engine.search_image(args.image, args.k, min_score=args.min_score)
            else:
                kinds = ("image", "document") if args.type == "all" else (args.type,)
                hits = engine.search(args.text, args.k, kinds=kinds, min_score=args.min_score)
            _print_hits(hits, args.json)
        elif args.command == "similar":
            _print_hits(engine.similar(args.path, args.k), args.json)
        elif args.command == "status":
            _status(engine, args.json)
        elif args.command == "errors":
            _errors(engine, args.json)
        elif args.command == "models":
            _models(engine, args)
        elif args.command == "precision":
            _precision(engine, args)
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
    except KeyboardInterrupt:
        sys.stderr.write("\nInterrupted.\n")
        return 130
    return EXIT_OK
