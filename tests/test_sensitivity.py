"""Sobol sensitivity on a local Ray with 2 CPUs: the design, the indices, the command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_line_refusal, cli
from ray_local import local_ray

from scsim.experiments.sensitivity import INDICES, design, sobol_indices

SENSITIVITY = """\
scenario = "rongcheng"
[overrides]
"population.size" = 10_000
"run.days" = 20
[sensitivity]
samples = 4
[sensitivity.parameters]
"surveillance.sensors.cameras.detection" = [0.05, 0.9]
"rulebook.rules.traffic_violation.points" = [-50, -1]
"""
DETECTION, POINTS = (
    "surveillance.sensors.cameras.detection",
    "rulebook.rules.traffic_violation.points",
)


@pytest.fixture(scope="module")
def ray_cluster():
    yield from local_ray()


def sensitivity_file(folder: Path, text: str = SENSITIVITY) -> Path:
    path = folder / "sensitivity.toml"
    path.write_text(text)
    return path


def test_the_design_is_saltelli_over_the_ranges_and_integers_stay_integers(tmp_path) -> None:
    plan = design(sensitivity_file(tmp_path))
    runs = plan.sweep.runs
    assert len(runs) == 4 * (2 + 2)
    detection = [run.parameters[DETECTION] for run in runs]
    points = [run.parameters[POINTS] for run in runs]
    assert all(0.05 <= x < 0.9 for x in detection)
    assert all(isinstance(x, int) and -50 <= x <= -1 for x in points)
    assert [run.scenario.rulebook.rules["traffic_violation"].points for run in runs] == points


def test_indices_find_the_one_parameter_a_metric_depends_on(tmp_path) -> None:
    plan = design(sensitivity_file(tmp_path, SENSITIVITY.replace("samples = 4", "samples = 64")))
    x = np.array([run.parameters[DETECTION] for run in plan.sweep.runs])
    table = pd.DataFrame({"moved": 3.0 * x, "still": np.ones(x.size)})
    indices = sobol_indices(plan.problem, table, seeds=1).set_index(["metric", "parameter"])
    assert indices.loc[("moved", DETECTION), "S1"] == pytest.approx(1.0, abs=0.1)
    assert indices.loc[("moved", DETECTION), "ST"] == pytest.approx(1.0, abs=0.1)
    assert indices.loc[("moved", POINTS), "ST"] == pytest.approx(0.0, abs=1e-12)
    assert indices.loc[("still", DETECTION)].isna().all()


def test_sensitivity_command_reports_what_drives_each_metric(tmp_path, ray_cluster) -> None:
    out = tmp_path / "out"
    outcome = cli("sensitivity", str(sensitivity_file(tmp_path)), "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    assert "Sobol indices" in outcome.stdout and "16 runs" in outcome.stdout
    indices = pd.read_parquet(out / INDICES).set_index(["metric", "parameter"])
    assert list(indices.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    # cameras record traffic violations: how much they detect drives the number of records
    assert indices.loc[("records", DETECTION), "ST"] > indices.loc[("records", POINTS), "ST"]
    assert len(pd.read_parquet(out / "results.parquet")) == 16


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("samples = 4", "samples = 6"), ["sensitivity.samples", "power of 2"]),
        (("[-50, -1]", "[-1, -50]"), ["sensitivity.parameters", "low < high"]),
        (("[sensitivity]", "[sensitivty]"), ["sensitivty", "unknown field"]),
        (("surveillance.sensors.cameras.detection", "nope.field"), ["parameters.nope.field"]),
    ],
)
def test_a_bad_sensitivity_file_is_one_line_and_exit_2(tmp_path, change, words) -> None:
    file = sensitivity_file(tmp_path, SENSITIVITY.replace(*change))
    outcome = cli("sensitivity", str(file), "--out", str(tmp_path / "out"))
    assert_one_line_refusal(outcome, str(file), *words)


def test_the_example_sensitivity_file_is_valid() -> None:
    plan = design(Path(__file__).parent.parent / "examples" / "sensitivity.toml")
    assert len(plan.sweep.runs) == 8 * (3 + 2)
