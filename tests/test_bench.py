"""The benchmarks still run: each is started small and must print its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_fanout_benchmark_runs_and_reports_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "fanout.py"), "--members", "30"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ritualbot prompts=30 " in result.stdout
    assert "baseline  prompts=30 " in result.stdout
    assert "ratio (ritualbot / baseline)" in result.stdout
