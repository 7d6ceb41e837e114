"""``snapfind-cli backend``: show where the library's vectors live, or move them.

    snapfind-cli backend                      # which engine, where (never the token)
    snapfind-cli backend use hnswlib          # back to the embedded index
    snapfind-cli backend use milvus --uri http://host:19530 [--token-env VAR] [--database DB]
    snapfind-cli backend use milvus --uri ./library.milvus.db   # Milvus Lite, in a file

A move re-uploads from the vectors SQLite keeps (nothing is embedded again), shows progress,
and resumes where it stopped when run again after a crash, Ctrl+C or a lost connection. The
token is best given through an environment variable (``--token-env``; ``SNAPFIND_MILVUS_TOKEN``
by default), since a command line is visible to other users of the machine.
"""

import argparse
import json
import os
import sys
from typing import Any

from desktop_app.cli_search import out
from desktop_app.core import paths

TOKEN_ENV = "SNAPFIND_MILVUS_TOKEN"


def add_parser(sub: Any) -> None:
    backend = sub.add_parser(
        "backend",
        help="show or change where vectors are kept (hnswlib or Milvus)",
        description="Without an action: show the vector backend. 'use' moves the library's "
        "vectors to another backend, from the copies SQLite keeps.",
    )
    backend.add_argument("--json", action="store_true", help="machine-readable output")
    actions = backend.add_subparsers(dest="backend_command", metavar="ACTION")
    use = actions.add_parser("use", help="move the library's vectors to hnswlib or Milvus")
    use.add_argument("kind", choices=("hnswlib", "milvus"))
    use.add_argument("--uri", help="Milvus server (http://host:19530) or Lite file (x.db)")
    use.add_argument("--token", help=f"Milvus token (user:password); prefer ${TOKEN_ENV}")
    use.add_argument(
        "--token-env",
        default=TOKEN_ENV,
        metavar="VAR",
        help=f"read the token from this environment variable (default {TOKEN_ENV})",
    )
    use.add_argument("--database", default="", help="Milvus database (default: the default)")
    use.add_argument("--prefix", default="", help="collection name prefix (default: new one)")


def run(args: argparse.Namespace) -> int:
    from desktop_app.core.vectors.choice import load_choice, next_choice

    home = paths.resolve_home(args.home)
    current = load_choice(home)
    if args.backend_command != "use":
        _show(current.describe(), args.json)
        return 0
    token = args.token or (os.environ.get(args.token_env, "") if args.kind == "milvus" else "")
    target = next_choice(
        current,
        args.kind,
        uri=args.uri or "",
        token=token or "",
        database=args.database,
        prefix=args.prefix,
    )
    return _move(home, target)


def _show(described: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out(json.dumps(described, indent=2))
        return
    for key, value in described.items():
        out(f"{key.replace('_', ' ').capitalize() + ':':<19} {value}")


def _move(home: Any, target: Any) -> int:
    from tqdm import tqdm

    from desktop_app.core.db.moving import move_library
    from desktop_app.core.progress import Control

    control = Control()
    work = move_library(home, target, control)
    bar: Any = None
    try:
        for progress in work:
            if progress.phase == "done":
                if bar is not None:
                    bar.n = progress.done
                    bar.close()
                    bar = None
                out(progress.message)
            elif bar is None:
                sys.stderr.write(f"Moving vectors to {progress.message}\n")
                bar = tqdm(
                    total=progress.total,
                    desc="Moving",
                    unit="vector",
                    file=sys.stderr,
                    dynamic_ncols=True,
                )
            else:
                bar.n = progress.done
                bar.refresh()
    except KeyboardInterrupt:
        control.cancel()
        work.close()
        sys.stderr.write("\nStopped. Run the same command again to finish the move.\n")
        return 130
    finally:
        if bar is not None:
            bar.close()
    return 0
