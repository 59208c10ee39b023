"""Every benchmark still runs: each bench/*.py script with --quick, in its own process.

A benchmark nobody runs rots (issue 7: bench_scale.py crashed for weeks on a renamed method).
Here each script runs at a tiny size; it must exit 0 and print its figures. No timing is
asserted: the machine is shared and noisy, and the figures are for people to read.
Modules whose names start with "_" are helpers the scripts import, not scripts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))


def test_the_known_benchmarks_are_found() -> None:
    names = {p.name for p in SCRIPTS}
    assert {"bench_scale.py", "bench_intake.py", "bench_photos.py", "bench_console.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_benchmark_runs_at_a_tiny_size(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, (
        f"{script.name} --quick failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    )
    assert done.stdout.strip(), f"{script.name} --quick printed nothing"
