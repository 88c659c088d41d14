"""Same scenario and seed, same bytes; another seed, another history; and the Python API."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import TINY_DAYS, TINY_PEOPLE, TinyRun

import scsim
from scsim.scenario import load_scenario

DATA_FILES = ("ledger.parquet", "metrics.parquet", "people.parquet")


def test_same_scenario_and_seed_give_byte_identical_files(tiny_file: Path, tmp_path: Path) -> None:
    first = scsim.run(tiny_file, tmp_path / "first", seed=11)
    second = scsim.run(tiny_file, tmp_path / "second", seed=11)
    for name in DATA_FILES:
        assert (first.path / name).read_bytes() == (second.path / name).read_bytes(), name
    assert first.manifest["files"] == second.manifest["files"]


def test_cli_and_api_write_the_same_bytes(
    tiny_run: TinyRun, tiny_file: Path, tmp_path: Path
) -> None:
    result = scsim.run(tiny_file, tmp_path / "api")
    for name in DATA_FILES:
        assert (result.path / name).read_bytes() == (tiny_run.path / name).read_bytes(), name


def test_a_different_seed_gives_a_different_ledger(tiny_file: Path, tmp_path: Path) -> None:
    one = scsim.run(tiny_file, tmp_path / "one", seed=11)
    other = scsim.run(tiny_file, tmp_path / "other", seed=12)
    ledgers = [(result.path / "ledger.parquet").read_bytes() for result in (one, other)]
    assert ledgers[0] != ledgers[1]
    assert not one.ledger.equals(other.ledger)
    assert one.summary["true_events"] != other.summary["true_events"]


def test_api_run_returns_dataframes_of_the_expected_shapes(tiny_file: Path, tmp_path: Path) -> None:
    result = scsim.run(tiny_file, tmp_path / "run", days=30)
    assert isinstance(result, scsim.Result)
    for frame in (result.metrics, result.ledger, result.people):
        assert isinstance(frame, pd.DataFrame)
    assert len(result.metrics) == 30
    assert list(result.metrics["day"]) == list(range(30))
    assert len(result.people) == TINY_PEOPLE
    assert list(result.ledger.columns) == [
        "day",
        "entity",
        "kind",
        "rule",
        "delta",
        "source",
        "origin",
        "truth",
    ]
    assert len(result.ledger) == result.manifest["ledger_rows"] > 0
    assert result.summary["days"] == 30


def test_api_runs_a_scenario_object_with_overrides(tmp_path: Path) -> None:
    scenario = load_scenario("rongcheng")
    result = scsim.run(
        scenario, tmp_path / "run", population=5_000, days=10, overrides={"rulebook.base": 1010}
    )
    assert result.metrics.shape[0] == 10
    assert result.people.shape[0] == 5_000
    manifest = json.loads((result.path / "run.json").read_text())
    assert manifest["scenario"]["rulebook"]["base"] == 1010
    assert manifest["scenario"]["population"]["size"] == 5_000


def test_api_without_out_writes_a_fresh_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    result = scsim.run("rongcheng", population=2_000, days=TINY_DAYS // 6)
    assert result.path.is_dir()
    assert result.path.is_relative_to(tmp_path)
    assert len(result.metrics) == TINY_DAYS // 6


def test_api_refuses_an_unknown_shortcut(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="unknown override 'people'"):
        scsim.run("rongcheng", tmp_path / "run", people=10)
    assert not (tmp_path / "run").exists()


def test_api_names_the_argument_whose_value_is_wrong(tmp_path: Path) -> None:
    """`population=0` in a notebook is blamed on `population =`, as --population on the CLI."""
    with pytest.raises(scsim.ScenarioError, match=r"^population = 0: population\.size: "):
        scsim.run("rongcheng", tmp_path / "run", population=0)
    with pytest.raises(scsim.ScenarioError, match=r"^days = 0: run\.days: "):
        scsim.compare("rongcheng", against_none=True, days=0)
    assert not (tmp_path / "run").exists()
