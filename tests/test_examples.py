"""The examples run, and each shows what it says it shows: the notebook a wrongful sanction
traced to its mechanism, the sweep wrongful sanctions that move with misidentification and
the penalty, the sensitivity study a penalty that drives something."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scsim.experiments.sensitivity import design, sobol_indices
from scsim.experiments.sweep import run_sweep
from scsim.experiments.sweepfile import Sweep, load_sweep
from scsim.simulation.run import simulate

EXAMPLES = Path(__file__).parent.parent / "examples"
NOTEBOOK = EXAMPLES / "notebook.py"
MISATTRIBUTION = "surveillance.sensors.cameras.misattribution"
PENALTY = "rulebook.rules.traffic_violation.points"


def test_the_notebook_example_runs_as_a_script(tmp_path: Path) -> None:
    small = {"SCSIM_EXAMPLE_PEOPLE": "20000", "SCSIM_EXAMPLE_DAYS": "120"}
    done = subprocess.run(
        [sys.executable, str(NOTEBOOK)],
        cwd=tmp_path,  # `compare` writes its runs under runs/ here
        env={**os.environ, **small, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for printed in (
        "court_blacklist_size",
        "list_sizes",
        "refused_by",
        "four_fifths",
        "difference",
    ):
        assert printed in done.stdout, printed
    # the wrongful step shows wrongful sanctions, not an empty table
    assert "wrongful sanctions, by the mechanism of the first false record:" in done.stdout
    assert "0 wrongful sanctions" not in done.stdout
    assert "misidentified" in done.stdout


def swept(sweep: Sweep, out: Path):  # type: ignore[no-untyped-def]
    """The sweep's table, its runs made here one after another (as a Ray task makes each):
    run_sweep then finds every run complete and only reads them back."""
    for spec in sweep.runs:
        simulate(spec.scenario, out / "runs" / spec.run_id)
    outcome = run_sweep(sweep, out)
    assert outcome.ran == 0
    return outcome.table


def test_the_sweep_example_shows_wrongful_sanctions_move_with_misidentification_and_penalty(
    tmp_path: Path,
) -> None:
    """All 8 runs had 0 wrongful and two rows were the same: now the wrongful sanctions differ
    across the grid, grow with misidentification under the heavy penalty, and no two runs
    agree on every figure."""
    table = swept(load_sweep(EXAMPLES / "sweep.toml"), tmp_path / "sweep")
    assert len(table) == 8 and table.wrongful_sanctions.nunique() > 2
    mean = table.groupby([MISATTRIBUTION, PENALTY]).wrongful_sanctions.mean()
    assert mean[(0.1, -60)] > 2 * mean[(0.01, -60)] > 0
    assert mean[(0.1, -60)] > 2 * mean[(0.1, -5)]
    figures = table.drop(columns=["run_id", MISATTRIBUTION, PENALTY])
    assert not figures.duplicated().any()


def test_the_sensitivity_example_finds_that_the_penalty_drives_refusals(tmp_path: Path) -> None:
    """The penalty's S1 was 0 for every metric: now it drives the service hall's refusals and
    the wrongful sanctions, more than either camera parameter does."""
    plan = design(EXAMPLES / "sensitivity.toml")
    table = swept(plan.sweep, tmp_path / "sensitivity")
    indices = sobol_indices(plan.problem, table, plan.seeds).set_index(["metric", "parameter"])
    for metric in ("blocked.service_hall", "wrongful_sanctions"):
        first_order = indices.loc[metric].S1
        assert first_order[PENALTY] > 0.3 and first_order.idxmax() == PENALTY, metric
