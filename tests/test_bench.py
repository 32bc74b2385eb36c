"""The benchmarks still run: each is started small and must print its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench(*args: str, timeout: int = 120) -> str:
    """Run a benchmark (a script under bench/, or ``-m`` a module) from the project's root;
    what it printed, once it exited cleanly."""
    command = list(args) if args[0] == "-m" else [str(BENCH / args[0]), *args[1:]]
    result = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=BENCH.parent,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_fanout_benchmark_runs_and_reports_its_figures() -> None:
    out = bench("fanout.py", "--members", "30")
    assert "ritualbot prompts=30 " in out
    assert "baseline  prompts=30 " in out
    assert "ratio (ritualbot / baseline)" in out


def test_retro_benchmark_runs_and_its_close_does_not_grow_with_the_items() -> None:
    out = bench("retro.py", "--items", "60", "--voters", "8")
    assert "ritualbot items=60 " in out and "baseline  items=60 " in out
    counts = re.search(r"round-trips at 6 items: (\d+), at 60: (\d+)", out)
    assert counts is not None, out
    assert counts[1] == counts[2]


def test_a_killed_server_loses_no_acknowledged_answer() -> None:
    out = bench("crash.py", "--people", "6", "--kills", "1", timeout=240)
    assert "acknowledged=18 stored=18 lost=0 duplicated=0 wrong_question=0" in out


def test_slack_benchmarks_run_and_report_their_figures() -> None:
    fanout = bench("-m", "bench.slack_fanout", "--members", "40", "--per-second", "50")
    assert "delivered 41 in" in fanout and "time / floor x" in fanout
    ack = bench("slack_ack.py", "--requests", "100", "--concurrency", "4", timeout=180)
    assert "ratio (ritualbot / bare bolt): throughput x" in ack


def test_teams_benchmark_runs_and_reports_its_figures() -> None:
    ack = bench("teams_ack.py", "--requests", "60", "--concurrency", "4", timeout=180)
    assert "bare echo " in ack and "ritualbot " in ack
    assert "ratio (ritualbot / bare echo): throughput x" in ack


def test_hypothesis_digest_benchmark_runs_and_does_not_grow_with_the_history() -> None:
    out = bench("hypotheses.py", "--hypotheses", "12", "--days", "90")
    assert "ritualbot days=90 " in out and "baseline  days=90 " in out
    counts = re.search(r"ritualbot round-trips at 30 days: (\d+), at 90: (\d+)", out)
    assert counts is not None, out
    assert counts[1] == counts[2]


def test_alerts_benchmark_runs_and_repeats_post_nothing() -> None:
    small = ("--requests", "120", "--concurrency", "8", "--storm", "100", "--pace", "0.02")
    out = bench("alerts.py", *small, timeout=240)
    assert "ratio (ritualbot / bare 202): throughput x" in out
    assert "repeats stored or posted none" in out
    assert "storm: 100 alerts in 10 groups" in out
    assert "storm: 10 messages posted" in out


def test_backlog_benchmark_pages_by_an_index() -> None:
    out = bench("backlog.py", "--sizes", "300,3000", "--repeat", "1", "--plans")
    assert "items=3000    list 'data p1' (type + priority), page 1 and page" in out
    assert "ratio query/baseline x" in out
    plans = [line for line in out.splitlines() if "plan: SEARCH backlog_item" in line]
    assert plans and all("USING INDEX ix_backlog_item_" in line for line in plans)
    assert "TEMP B-TREE" not in out


def test_llm_benchmark_reports_the_overhead_outside_the_model_call() -> None:
    out = bench("llm.py", "--sizes", "10,300", "--rounds", "1")
    assert "answers=10 calls=1 status=written " in out
    assert re.search(r"answers=300 calls=\d+ status=written .*ratio \(overhead / model call\)", out)


def test_recall_benchmark_times_the_index_against_the_like_scan() -> None:
    out = bench("recall.py", "--answers", "600", "--channels", "2", "--rounds", "1")
    assert "SQLite: 600 answers in the asking channel, 600 in 2 others" in out
    lines = [line for line in out.splitlines() if "LIKE " in line and " FTS5 " in line]
    assert len(lines) == 4, out
    assert all("ratio (LIKE / FTS5) x" in line for line in lines)
    assert "floor: the same retrieval in a channel with no history " in out
