"""Time from starting Snapfind to the first paint of its window, as a person meets it.

Runs the built folder (and, with --python, the checkout through that interpreter) several
times offscreen with SNAPFIND_SELFCHECK, which closes the window right after its first paint,
and prints the first and the median time per way of starting. With --cold, the bundle's files
are dropped from the page cache before each of its runs (posix_fadvise; other files, such as
the system's libraries, stay cached), which is what a start after a reboot reads from disk.

    python packaging/measure_start.py --bundle dist/snapfind --python .venv/bin/python --cold
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def drop_from_page_cache(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a running process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_first_paint(command: list[str], work: Path) -> tuple[float, float]:
    """Seconds from spawning ``command`` to its 'first paint' line, and the CPU seconds it had
    used by then (on a busy machine the wall time stretches, the CPU time much less); the run
    must exit 0."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SNAPFIND_SELFCHECK": str(work / "first-paint.png"),
        "HOME": str(work),
        "XDG_CONFIG_HOME": str(work / "config"),
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    with subprocess.Popen(
        [*command, "--home", str(work / "library")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None
        painted = cpu = None
        for line in process.stdout:
            if "first paint" in line and painted is None:
                painted = time.monotonic() - started
                cpu = cpu_seconds(process.pid)
        code = process.wait(timeout=120)
        errors = process.stderr.read() if process.stderr else ""
    if code != 0 or painted is None or cpu is None:
        raise SystemExit(f"{command[0]} exited {code} without painting:\n{errors}")
    return painted, cpu


def measure(label: str, command: list[str], runs: int, cold: Path | None) -> list[float]:
    times, cpus = [], []
    with tempfile.TemporaryDirectory(prefix="snapfind-start-") as work:
        for _ in range(runs):
            if cold is not None:
                drop_from_page_cache(cold)
            wall, cpu = time_to_first_paint(command, Path(work))
            times.append(wall)
            cpus.append(cpu)
    print(
        f"{label:<18} first {times[0]:5.2f} s   median {statistics.median(times):5.2f} s"
        f"   CPU median {statistics.median(cpus):5.2f} s"
        f"   ({runs} runs: {', '.join(f'{t:.2f}' for t in times)})",
        flush=True,
    )
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "snapfind")
    parser.add_argument("--python", help="also time the checkout started by this interpreter")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="uncache the bundle before each run")
    args = parser.parse_args()
    bundle = measure(
        "bundle" + (" (cold)" if args.cold else ""),
        [str(args.bundle / "snapfind")],
        args.runs,
        args.bundle if args.cold else None,
    )
    if args.cold:
        bundle = measure("bundle (warm)", [str(args.bundle / "snapfind")], args.runs, None)
    if args.python:
        launcher = str(ROOT / "packaging" / "launcher.py")
        source = measure("checkout (warm)", [args.python, launcher], args.runs, None)
        ratio = statistics.median(bundle) / statistics.median(source)
        print(f"warm bundle / warm checkout, medians: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
