"""The CLI run in a fresh interpreter, as a person runs it, reporting which modules it loaded:
how the tests prove that a command never imports torch, open_clip or a sentence model."""

import json
import os
import subprocess
import sys
from pathlib import Path


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``snapfind-cli --home HOME ARGS`` in a child process; after its output it prints the
    modules it loaded (see :func:`output_and_modules`)."""
    script = (
        "import sys, json\n"
        "from desktop_app.cli import main\n"
        f"rc = main({['--home', str(home), *args]!r})\n"
        "sys.stdout.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
        "sys.exit(rc)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result


def output_and_modules(result: subprocess.CompletedProcess[str]) -> tuple[dict, set[str]]:
    """The command's JSON output and the modules it loaded."""
    out, _, modules = result.stdout.rpartition("\nMODULES ")
    return json.loads(out), set(json.loads(modules))


def modules_of(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The modules a command without JSON output loaded."""
    return set(json.loads(result.stdout.rpartition("\nMODULES ")[2]))
