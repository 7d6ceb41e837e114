"""Import paths and environment shared by the bench scripts.

The bench scripts run as plain files (``.venv/bin/python bench/bench_index.py``), not as a
package, so they need the repository root (the app, even without ``pip install -e``) and
``tests/`` (the seeded picture generator and the tiny test model) on ``sys.path``. Every bench
module that reaches into those imports this one first, so it works however it is loaded,
including in the child processes that ``spawn`` starts. The Hugging Face hub is kept offline so
that no benchmark reaches for the network mid-run.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
for _path in (REPO, TESTS):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network mid-benchmark
