"""The benchmarks still run: each is started small and must print its figures."""

from __future__ import annotations

import re
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


def test_retro_benchmark_runs_and_its_close_does_not_grow_with_the_items() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "retro.py"), "--items", "60", "--voters", "8"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ritualbot items=60 " in result.stdout and "baseline  items=60 " in result.stdout
    counts = re.search(r"round-trips at 6 items: (\d+), at 60: (\d+)", result.stdout)
    assert counts is not None, result.stdout
    assert counts[1] == counts[2]


def test_a_killed_server_loses_no_acknowledged_answer() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "crash.py"), "--people", "6", "--kills", "1"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "acknowledged=18 stored=18 lost=0 duplicated=0 wrong_question=0" in result.stdout


def test_slack_benchmarks_run_and_report_their_figures() -> None:
    root = BENCH.parent
    fanout = subprocess.run(
        [sys.executable, "-m", "bench.slack_fanout", "--members", "40", "--per-second", "50"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=root,
    )
    assert fanout.returncode == 0, fanout.stderr
    assert "delivered 41 in" in fanout.stdout and "time / floor x" in fanout.stdout
    ack = subprocess.run(
        [sys.executable, str(BENCH / "slack_ack.py"), "--requests", "100", "--concurrency", "4"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=root,
    )
    assert ack.returncode == 0, ack.stderr
    assert "ratio (ritualbot / bare bolt): throughput x" in ack.stdout


def test_teams_benchmark_runs_and_reports_its_figures() -> None:
    ack = subprocess.run(
        [sys.executable, str(BENCH / "teams_ack.py"), "--requests", "60", "--concurrency", "4"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=BENCH.parent,
    )
    assert ack.returncode == 0, ack.stderr
    assert "bare echo " in ack.stdout and "ritualbot " in ack.stdout
    assert "ratio (ritualbot / bare echo): throughput x" in ack.stdout
