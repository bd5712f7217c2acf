"""Running a bench script as a user does, at a tiny size, for the bench smoke tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = "3"  # corpus items each bench reads (bench/_scoring.py: BENCH_LIMIT)


def run_bench(script: str, *args: str, **env: str) -> str:
    """``python bench/<script> args`` from the project root; its output, after asserting it exited 0."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=280, env={**os.environ, "BENCH_LIMIT": TINY, **env})
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout
