"""``snapfind-cli``: the command-line face on the Engine.

Exit codes: 0 success, 1 a problem the user can fix (one line on stderr), 2 bad usage.
``--json`` output is documented in the README and kept stable: new keys may be added, existing
keys never change meaning.
"""

import argparse
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

from desktop_app import __version__, cli_backend, cli_ocr
from desktop_app.cli_search import (
    UsageError,
    add_filter_options,
    add_result_options,
    filters_from,
    out,
    parse_moment,
    print_hits,
    query_from,
)
from desktop_app.core.errors import KnownError
from desktop_app.core.indexing.threads import yield_idle_cores
from desktop_app.core.paths import display
from desktop_app.humanize import human_bytes

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
    index = sub.add_parser(
        "index",
        help="scan the folders and index what is new or changed",
        description="Scan the library's folders and index what is new or changed. Folders "
        "named here are added first if the library does not hold them yet, so "
        "`snapfind-cli index ~/Pictures` is all a first run needs.",
    )
    index.add_argument("paths", nargs="*", metavar="FOLDER", help="add these folders first")
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
    add_result_options(search)
    add_filter_options(search)

    similar = sub.add_parser("similar", help="more like an indexed file")
    similar.add_argument("path", metavar="PATH")
    similar.add_argument(
        "--at", metavar="MM:SS", help="a video's moment: more like that frame (e.g. 03:41)"
    )
    add_result_options(similar)
    add_filter_options(similar)

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

    models = sub.add_parser("models", help="list, download or import picture and speech models")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    mlist = msub.add_parser("list", help="presets and imported models")
    mlist.add_argument("--json", action="store_true")
    download = msub.add_parser("download", help="download a preset (default: the active one)")
    download.add_argument("name", nargs="?")
    download.add_argument("--speech", action="store_true", help="a speech (Whisper) model")
    use = msub.add_parser("use", help="make a model the active one (re-indexes pictures)")
    use.add_argument("name")
    use.add_argument("--speech", action="store_true", help="a speech model (re-transcribes)")
    imp = msub.add_parser("import", help="use a local weights file (works offline)")
    imp.add_argument(
        "--speech", type=Path, metavar="FOLDER", help="a CTranslate2 Whisper folder to transcribe"
    )
    imp.add_argument("--arch", help="open_clip architecture, e.g. ViT-B-32")
    imp.add_argument("--config", type=Path, help="JSON config for a custom architecture")
    imp.add_argument(
        "--text-tower",
        type=Path,
        metavar="FOLDER",
        help="config.json and tokenizer files of the text tower (multilingual models)",
    )
    imp.add_argument("file", type=Path, nargs="?", metavar="FILE")

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
    cli_ocr.add_parser(sub)
    cli_backend.add_parser(sub)
    return parser


def _threshold(value: str) -> float:
    from desktop_app.core.searching.duplicates import parse_threshold  # numpy: only when it is used

    try:
        return parse_threshold(value)
    except KnownError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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
            if progress.phase not in ("scanning", "done", "cancelled"):  # a kind's files
                if progress.phase != phase:
                    if bar is not None:
                        bar.close()
                    phase = progress.phase
                    bar = tqdm(
                        total=progress.total,
                        desc=f"{progress.verb} {phase}",
                        unit="file",
                        file=sys.stderr,
                        dynamic_ncols=True,
                    )
                bar.n = progress.done
                if progress.media_s is not None:  # recordings: the audio left says more
                    bar.set_description_str(progress.headline(), refresh=False)
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
    from desktop_app.core.searching.duplicates import LEVEL_LABELS, Report, level_of

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
        out(json.dumps({**data, "groups": groups}, ensure_ascii=False))
        return
    named = f"{LEVEL_LABELS[level]}, " if level else ""
    criterion = "same bytes" if threshold >= 1.0 else f"cosine ≥ {threshold:.3f}"
    if not report.groups:
        out(f"No duplicates among {report.pictures} pictures ({named}{criterion}).")
        return
    for number, group in enumerate(report.groups, start=1):
        out(f"Group {number}: {len(group.members)} pictures")
        for m in group.members:
            mark = "keep" if m.keep else ("same" if m.exact_copy else f"{m.similarity:.3f}")
            pixels = f"{m.width}×{m.height}" if m.width else "?"
            taken = time.strftime("%Y-%m-%d", time.localtime(m.taken_at)) if m.taken_at else ""
            out(
                f"  {mark:<5}  {pixels:>11}  {human_bytes(m.size):>9}  {taken:<10}  "
                f"{display(m.path)}"
            )
    count = sum(len(g.members) for g in report.groups)
    out(
        f"{len(report.groups)} groups, {count} of {report.pictures} pictures ({named}{criterion})."
        " Nothing was moved or deleted."
    )


def _status(engine: Any, as_json: bool) -> None:
    status = engine.status()
    if as_json:
        data = asdict(status)
        for root in data["roots"]:
            root["path"] = display(root["path"])
        out(json.dumps(data, ensure_ascii=False))
        return
    out(f"Library:   {status.home}")
    out(f"Model:     {status.model}")
    out(f"OCR:       {cli_ocr.describe(status.read_text_in_pictures)}")
    for root in status.roots:
        state = "" if root.online else "  [offline: entries kept]"
        out(
            f"Folder:    {display(root.path)}  ({root.indexed} indexed, {root.pending} pending,"
            f" {root.failed} failed){state}"
        )
        if root.searchable:
            out(f"           {root.searchable} of the pending are searchable by look already")
    from desktop_app.core.kinds import registry

    labels = {k.name: k.label for k in registry.kinds()}  # "audio" -> "recordings"
    for kind, counts in status.counts.items():
        out(
            f"{labels.get(kind, kind + 's').capitalize() + ':':<10} "
            + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("indexed", "pending", "failed"))
        )
    for vs in status.vector_sets:
        out(f"Vectors:   {vs['vectors']} × {vs['dim']}-d from {vs['model_id']} ({vs['state']})")
    out(
        f"Disk:      database {human_bytes(status.database_bytes)}, indexes "
        f"{human_bytes(status.index_bytes)}, thumbnails {human_bytes(status.thumbnail_bytes)}"
    )


def _errors(engine: Any, as_json: bool) -> None:
    failed = engine.errors()
    if as_json:
        out(
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
        out("No errors.")
    for f in failed:
        out(f"{display(f.path)}: {f.error}")


def _models(engine: Any, args: argparse.Namespace) -> None:
    if args.models_command == "list":
        choices = engine.model_choices()
        if args.json:
            speech = engine.speech_choices()
            out(json.dumps({"models": choices, "speech_models": speech}, ensure_ascii=False))
            return
        for m in choices:
            mark = "*" if m["active"] else " "
            have = "downloaded" if m["available"] else f"{m.get('download_mb', '?')} MB to download"
            detail = m.get("summary") or f"imported from {m.get('file')}"
            out(f"{mark} {m['name']:<28} {have:<20} {detail}")
        _speech_models(engine.speech_choices())
    elif args.models_command == "download" and args.speech:
        out(f"Speech model ready: {engine.download_speech_model(args.name or 'base.en')}")
    elif args.models_command == "download":
        path = engine.download_model(args.name)
        out(f"Model ready: {path}")
    elif args.models_command == "use" and args.speech:
        engine.set_speech_model(args.name)
        out(f"Now transcribing with {args.name}; run `snapfind-cli index` to transcribe again.")
    elif args.models_command == "use":
        engine.set_model(args.name)
        out(f"Now using {args.name}; run `snapfind-cli index` to re-index your pictures.")
    elif args.models_command == "import" and args.speech:
        name = engine.import_speech_model(args.speech)
        out(f"Imported speech model as {name} and made it active; run `snapfind-cli index`.")
    elif args.models_command == "import":
        if not args.arch or not args.file:
            raise UsageError("models import needs --arch ARCH FILE, or --speech FOLDER")
        name = engine.import_model(args.arch, args.file, args.config, args.text_tower)
        out(f"Imported as {name} and made active; run `snapfind-cli index`.")


def _speech_models(choices: list[dict[str, Any]]) -> None:
    out("Speech models (recordings):")
    for m in choices:
        mark = "*" if m["active"] else " "
        have = "ready" if m["available"] else f"{m.get('download_mb', '?')} MB to download"
        out(f"{mark} {m['name']:<28} {have:<20} {m['summary']}")


def _precision(engine: Any, args: argparse.Namespace) -> None:
    if args.value:
        engine.set_precision(args.value)
        if not args.check:
            out(
                f"Picture model precision: {args.value}. It is checked against fp32 on first "
                "use and refused (fp32 runs instead) if it changes the results; stored vectors "
                "stay valid. `snapfind-cli precision --check` runs the check now."
            )
            return
    status = engine.precision_status(check=args.check)
    if args.json:
        out(json.dumps(status, ensure_ascii=False))
        return
    running = f" (running: {status['active']})" if status["active"] else ""
    out(f"Precision: {status['setting']}{running}")
    if status["note"]:
        out(f"Note:      {status['note']}")
    for line in status["checks"]:
        out(f"  {line}")
    if not status["checks"]:
        out("  not checked yet: checks run when pictures are first embedded, or with --check")


def _dispatch(args: argparse.Namespace) -> int:
    from desktop_app.core.engine import Engine

    if args.command == "backend":  # works while the current backend is unreachable
        return cli_backend.run(args)

    read_only = (
        args.command in ("search", "similar", "duplicates", "status", "errors")
        or (args.command == "models" and args.models_command == "list")
        or (args.command in ("precision", "ocr") and not args.value)
    )
    with Engine(args.home, writer=not read_only) as engine:
        if args.command == "add":
            for path in args.paths:
                root = engine.add_root(path)
                out(f"Added {display(root.path)}")
            out("Run `snapfind-cli index` to index it.")
        elif args.command == "remove":
            engine.remove_root(args.path)
            out(f"Removed {display(os.path.abspath(args.path))} (its files are untouched).")
        elif args.command == "index":
            held = {root.path for root in engine.roots()}
            for path in args.paths:
                root = engine.add_root(path, exist_ok=True)
                if root.path not in held:
                    out(f"Added {display(root.path)}")
            return _run_index(engine, args.retry_failed)
        elif args.command == "search":
            print_hits(engine.query(query_from(args), args.k, filters=filters_from(args)), args)
            sys.stdout.flush()
            engine.prepare_text_queries()  # after the first torch-path query: next ones skip it
        elif args.command == "similar":
            at = parse_moment(args.at) if args.at else None
            print_hits(engine.similar(args.path, args.k, filters=filters_from(args), at=at), args)
        elif args.command == "duplicates":
            _duplicates(engine, args.threshold, args.folders, args.json)
        elif args.command == "status":
            _status(engine, args.json)
        elif args.command == "errors":
            _errors(engine, args.json)
        elif args.command == "models":
            _models(engine, args)
        elif args.command == "precision":
            _precision(engine, args)
        elif args.command == "ocr":
            cli_ocr.run(engine, args)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = sys.argv[1:] if argv is None else list(argv)
    if not arguments:
        parser.print_help()
        return EXIT_OK
    args = parser.parse_args(arguments)
    yield_idle_cores()
    if args.command in ("search", "similar"):
        # A query multiplies a handful of rows by the text tower's matrices: BLAS threads
        # cost more to start and to share two busy cores than they give (0.6 s against
        # 0.05 s measured). Only effective before numpy's first import: this module
        # imports nothing that imports numpy.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        return _dispatch(args)
    except UsageError as err:
        parser.error(str(err))  # exits with 2
    except KnownError as err:
        sys.stderr.write(f"snapfind: {err}\n")
        return EXIT_USER_ERROR
    except (OSError, sqlite3.Error) as err:
        from desktop_app.core.db.storage import storage_error

        known = storage_error(err, args.home)
        if known is None:
            raise
        sys.stderr.write(f"snapfind: {known}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("\nInterrupted.\n")
        return 130
    return EXIT_OK


def run() -> NoReturn:
    """The ``snapfind-cli`` command: :func:`main`, then a quick exit.

    Once a command has finished, closed its library and flushed its output, the interpreter's
    own teardown is pure cost: with torch loaded it takes 0.3-0.5 s of every index run (torch
    alone: 0.28 s), a twentieth of indexing a small folder. So the process ends at once, unless
    another thread is still running (it then gets the normal exit, which waits for it) or the
    command failed with a traceback.
    """
    code = main()
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(t.is_alive() and not t.daemon for t in others):
        raise SystemExit(code)
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away, or the stream is closed
        pass
    os._exit(code)
