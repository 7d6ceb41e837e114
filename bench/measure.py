"""Generic measuring tools: wall time, resident memory, other processes' CPU load, latency
percentiles and a description of the machine.

They know nothing of Snapfind, so the numbers they give mean the same whatever is measured, and
the report can say on what hardware, and under how much outside load, the timings were taken.
"""

import os
import platform
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident set size now (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


@dataclass
class CpuClock:
    """System-wide busy CPU time against this process's own, to detect other load."""

    wall: float
    busy_s: float
    own_s: float

    @classmethod
    def now(cls) -> "CpuClock":
        busy = 0.0
        try:
            ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
            busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # not idle/iowait
        except (OSError, ValueError):
            pass
        return cls(time.perf_counter(), busy, sum(os.times()[:4]))

    def other_load(self, later: "CpuClock", cores: int) -> float:
        """Fraction of the machine that other processes kept busy between two clocks."""
        elapsed = later.wall - self.wall
        if not self.busy_s or elapsed <= 0:
            return 0.0
        other = (later.busy_s - self.busy_s) - (later.own_s - self.own_s)
        return max(0.0, other / (elapsed * max(cores, 1)))


def latency_summary(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean in milliseconds."""
    ms = np.asarray(samples_s, dtype=np.float64) * 1000
    return {
        "n": len(ms),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
        "max_ms": float(ms.max()),
    }


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def machine_info() -> dict[str, Any]:
    import open_clip
    import torch

    cpu, flags = platform.processor() or "unknown", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return {
        "cpu": cpu,
        "cores": usable,
        "cpu_flags": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}),
        "memory_gb": round(mem_gb, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "open_clip": open_clip.__version__,
        "gpu": "none used (CPU only)",
    }
