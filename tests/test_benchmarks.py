"""The benchmark scripts still run against the engine they measure (tiny sizes; no figures
checked: those are the benchmarks' own business, printed, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_stages_times_every_stage_the_day_calls() -> None:
    out = _run("stages.py", "--population", "3000", "--days", "5", "--profile-days", "2")
    for part in ("score", "sanction", "collect", "ledger hand-over", "days, in all", "build"):
        assert part in out, part
    assert "Python function calls per day" in out


def test_run_prints_its_table_without_the_peer() -> None:
    out = _run("run.py", "--sizes", "3000", "--days", "5", "--mesa-days", "0")
    assert "scsim numpy" in out and "3,000" in out
