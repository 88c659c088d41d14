"""The benchmark scripts still run against the engine they measure (tiny sizes; no figures
checked: those are the benchmarks' own business, printed, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import TinyRun

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


def test_limits_sets_the_day_beside_the_machines_floors() -> None:
    out = _run("limits.py", "--population", "3000", "--days", "5")
    for part in ("the engine's day", "touches", "random-access floor", "one pass over the state"):
        assert part in out, part
    assert "one NumPy call" in out


def test_limits_sets_each_component_beside_its_own_floor() -> None:
    out = _run("limits.py", "--scenario", "national-score", "--population", "3000", "--days", "3")
    assert "per component: time a day against its own floor" in out
    for line in out.splitlines():  # score and speak each with touches and a floor
        if any(f" {name} " in line for name in ("score", "speak")):
            assert line.rstrip().rstrip("│").strip().endswith("x"), line
    # sanction's floor is the requests it acted on: in three days nobody holds a refused or
    # rewarded grade or is on a list, so it touched nobody
    assert any(" sanction " in line and " 0 " in line for line in out.splitlines())


def test_national_day_times_every_component_of_one_model() -> None:
    out = _run("national_day.py", "--population", "3000", "--days", "2", "--backend", "numpy")
    for part in ("a year at that rate", "day 0", "score", "sanction", "collect"):
        assert part in out, part


def test_run_prints_its_table_without_the_peer() -> None:
    out = _run("run.py", "--sizes", "3000", "--days", "5", "--mesa-days", "0")
    assert "scsim numpy" in out and "3,000" in out


def test_run_sets_several_scenarios_side_by_side_in_one_table() -> None:
    out = _run(
        "run.py",
        "--scenario",
        "court-blacklist",
        "pilots",
        "--sizes",
        "3000",
        "--days",
        "3",
        "--mesa-days",
        "0",
    )
    lines = [line for line in out.splitlines() if "scsim numpy" in line]
    assert ["court-blacklist" in lines[0], "pilots" in lines[1]] == [True, True]
    assert "bytes/person" in out


def test_the_day_split_separates_the_fixed_cost_from_the_cost_per_person() -> None:
    """run.py's line under its table: days at 10,000 and 100,000 people give the fixed part
    and the part per person-day; here 30 ms + 1,000 ns per person-day by construction."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from run import day_split  # benchmarks/run.py
    finally:
        sys.path.remove(str(BENCHMARKS))
    days = 5
    small = {"days": days * (0.030 + 10_000 * 1e-6)}
    large = {"days": days * (0.030 + 100_000 * 1e-6)}
    line = day_split(small, large, days, {"wall": 2.0, "days_run": 4})
    assert "130.00 ms = 30.00 ms that does not grow" in line
    assert "1000.0 ns per person-day" in line and "the peer's day 500 ms" in line
    assert "would be 5x the peer" in line


def test_backends_steps_the_reference_and_the_compiled_path_in_turn() -> None:
    out = _run("backends.py", "--scenario", "rongcheng", "--population", "3000", "--days", "5")
    for part in ("numpy", "numba", "sanction", "the day"):
        assert part in out, part


def test_court_list_reforms_compares_the_history_without_each_reform() -> None:
    out = _run("court_list_reforms.py", "--population", "3000", "--days", "5", "--seeds", "2")
    for part in ("without credit-repair", "without unable", "person-years on the list"):
        assert part in out, part


def test_year_profile_prints_every_part_of_the_year() -> None:
    out = _run(
        "year_profile.py", "--population", "3000", "--days", "30", "--parts", "3",
        "--backend", "numpy",
    )  # fmt: skip
    for part in ("0-9", "10-19", "20-29", "score", "30 days in"):
        assert part in out, part


def test_report_times_a_reports_statements_and_counts_its_passes_over_the_ledger(
    tiny_run: TinyRun,
) -> None:
    out = _run("report.py", "--run", str(tiny_run.path), "--statements", "3")
    assert "ledger passes" in out and "the 3 slowest of" in out
    row = next(line for line in out.splitlines() if " tiny " in line)
    passes = int(row.split("│")[9])
    assert 0 < passes <= 6, row


def test_fit_candidate_sets_both_paths_side_by_side() -> None:
    out = _run("fit_candidate.py", "--population", "20000", "--days", "40", "--repeats", "1")
    assert "numpy:" in out and "numba:" in out and "compiled / reference" in out


def test_rosters_times_a_day_of_changes_on_both_paths() -> None:
    out = _run("rosters.py", "--sizes", "2000", "--changes", "5", "--repeats", "2")
    assert "reference" in out and "compiled" in out and "5 taken and 5 added" in out
