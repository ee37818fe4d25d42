"""Every benchmark under bench/ starts as its README says (`python bench/NAME.py --help`): the
scripts import the test helpers, which moved once and left four of them unable to start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(
    path.name for path in BENCH.glob("*.py") if "argparse" in path.read_text(encoding="utf-8")
)


def test_the_benchmarks_are_found() -> None:
    assert {"loadtest.py", "logbench.py", "log_http_cost.py", "log_review.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_benchmark_starts_and_explains_its_options(script: str) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=BENCH.parent,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage:"), run.stdout
