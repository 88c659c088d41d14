"""Run folders under attack (issue 29): a path is a path, whatever characters its name has;
run.json is sealed as the files it lists are; a finished simulation is kept when its report
cannot be written; two processes never write one folder; nothing is left behind."""

from __future__ import annotations

import errno
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import assert_one_line_refusal, cli
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scsim.audit import dossier, open_run
from scsim.experiments.compare import compare
from scsim.experiments.sweep import RESULTS, is_complete, write_sweep_manifest, write_table
from scsim.experiments.sweepfile import load_sweep
from scsim.report import write_report, write_run_report
from scsim.scenario import Scenario, load_scenario
from scsim.simulation.run import simulate

SMALL = {"population.size": 5_000, "run.days": 20}


def small_run(out: Path, seed: int = 1) -> Path:
    scenario = load_scenario("rongcheng", overrides={**SMALL, "run.seed": seed})
    simulate(scenario, out, finish=write_run_report)
    return out


@pytest.fixture(scope="module")
def globbed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of runs whose names are patterns of each other: `run*` and `run?` match
    `runA`, `run[A]` is a character class that matches `runA` too."""
    folder = tmp_path_factory.mktemp("globbed")
    small_run(folder / "runA", seed=2)
    small_run(folder / "plain", seed=1)
    for name in ("run*", "run?", "run[A]"):
        shutil.copytree(folder / "plain", folder / name)
    return folder


def _busiest(run: Path) -> int:
    """A person with records in `run` (the first sanctioned), to ask a dossier about."""
    return int(open_run(run).sql("select min(entity) from ledger").fetchall()[0][0])


@pytest.mark.parametrize("name", ["run*", "run?", "run[A]"])
def test_a_dossier_in_a_folder_named_like_a_pattern_shows_that_runs_records_only(
    globbed: Path, name: str
) -> None:
    person = _busiest(globbed / "plain")
    expected = dossier(globbed / "plain", person)
    got = dossier(globbed / name, person)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
    rows = open_run(globbed / name).sql("select count(*) from ledger").fetchall()[0][0]
    assert rows == open_run(globbed / "plain").sql("select count(*) from ledger").fetchall()[0][0]


def test_a_report_of_a_run_in_a_folder_named_like_a_pattern_is_written(
    globbed: Path, tmp_path: Path
) -> None:
    page = write_report(globbed / "run*", tmp_path / "page.html")
    assert page.stat().st_size > 10_000


def test_a_sweep_worker_clears_only_its_own_partial_folders(tmp_path: Path) -> None:
    """The other instance: a sweep's worker removes the partial folders a dead worker left,
    found by name; a run id with `*` must not remove its neighbours'."""
    from scsim.experiments.sweep import run_one

    neighbour = tmp_path / ".r-other.partial-999"
    neighbour.mkdir()
    scenario = load_scenario("rongcheng", overrides=SMALL)
    run_one(scenario, str(tmp_path / "r*"))
    assert neighbour.exists()
    assert cli("verify", str(tmp_path / "r*")).exit_code == 0


# ---------------------------------------------------------------- run.json is sealed (item 2)


@pytest.fixture(scope="module")
def sealed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_run(tmp_path_factory.mktemp("sealed") / "run")


def _edited(run: Path, folder: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of `run` whose run.json `edit` changed, written back as an editor would."""
    copy = folder / "edited"
    shutil.copytree(run, copy)
    manifest = json.loads((copy / "run.json").read_text())
    edit(manifest)
    (copy / "run.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return copy


def _halve_sanctions(manifest: dict[str, Any]) -> None:
    figure = next(k for k, v in manifest["summary"].items() if isinstance(v, int) and v > 0)
    manifest["summary"][figure] //= 2


def _lower_the_seed(manifest: dict[str, Any]) -> None:
    manifest["scenario"]["run"]["seed"] += 1


@pytest.mark.parametrize("edit", [_halve_sanctions, _lower_the_seed])
def test_an_edited_run_json_fails_verify(sealed_run: Path, tmp_path: Path, edit: Any) -> None:
    assert cli("verify", str(sealed_run)).exit_code == 0
    outcome = cli("verify", str(_edited(sealed_run, tmp_path, edit)))
    assert outcome.exit_code == 1, outcome.text
    assert "MISMATCH   run.json: its content changed" in outcome.stdout


def test_a_report_of_an_edited_run_is_refused(sealed_run: Path, tmp_path: Path) -> None:
    edited = _edited(sealed_run, tmp_path, _halve_sanctions)
    out = tmp_path / "page.html"
    assert_one_line_refusal(cli("report", str(edited), "--out", str(out)), "changed")
    assert not out.exists()


def test_a_sweep_does_not_reuse_a_run_whose_summary_was_edited(
    sealed_run: Path, tmp_path: Path
) -> None:
    recorded = json.loads((sealed_run / "run.json").read_text())["scenario"]
    scenario = Scenario.model_validate(recorded)
    assert is_complete(sealed_run, scenario)
    assert not is_complete(_edited(sealed_run, tmp_path, _halve_sanctions), scenario)


def test_an_edited_sweep_table_fails_verify(sealed_run: Path, tmp_path: Path) -> None:
    file = tmp_path / "sweep.toml"
    file.write_text('scenario = "rongcheng"\n[overrides]\n"population.size" = 5000\n')
    sweep = load_sweep(file)
    out = tmp_path / "sweep"
    shutil.copytree(sealed_run, out / "runs" / sweep.runs[0].run_id)
    write_table(pd.DataFrame({"run_id": [sweep.runs[0].run_id], "sanctions": [7]}), out / RESULTS)
    write_sweep_manifest(sweep, out)
    assert cli("verify", str(out)).exit_code == 0
    write_table(pd.DataFrame({"run_id": [sweep.runs[0].run_id], "sanctions": [8]}), out / RESULTS)
    outcome = cli("verify", str(out))
    assert outcome.exit_code == 1 and "results.parquet" in outcome.stderr


def test_an_edited_compare_json_fails_verify(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    compare("rongcheng", against_none=True, population=5_000, days=20, out=out)
    assert cli("verify", str(out)).exit_code == 0
    document = json.loads((out / "compare.json").read_text())
    document["figures"][0]["difference"] = 0.0
    (out / "compare.json").write_text(json.dumps(document))
    outcome = cli("verify", str(out))
    assert outcome.exit_code == 1 and "compare.json" in outcome.stderr


def test_a_run_in_a_comparison_that_was_edited_fails_verify_of_the_comparison(
    tmp_path: Path,
) -> None:
    out = tmp_path / "cmp"
    compare("rongcheng", against_none=True, population=5_000, days=20, out=out)
    run = next((out / "runs").iterdir())
    manifest = json.loads((run / "run.json").read_text())
    _halve_sanctions(manifest)
    (run / "run.json").write_text(json.dumps(manifest))
    outcome = cli("verify", str(out))
    assert outcome.exit_code == 1 and f"runs/{run.name}/run.json" in outcome.stderr


@settings(deadline=None, max_examples=30, database=None)
@given(data=st.data())
def test_any_edit_of_a_run_json_value_fails_verify_or_is_refused_in_one_line(
    sealed_run: Path, data: st.DataObject
) -> None:
    """Fuzz: a leaf of run.json (summary, scenario, seed, timings, a checksum) changed to
    another value: verify never passes it and never shows a traceback."""
    manifest = json.loads((sealed_run / "run.json").read_text())
    leaves = list(_json_leaves(manifest))
    parent, key = data.draw(st.sampled_from(leaves))
    value = data.draw(st.sampled_from([0, -1, 2**40, 0.5, "x", None, True, [], {}]))
    assume(parent[key] != value or type(parent[key]) is not type(value))
    parent[key] = value
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "run"
        shutil.copytree(sealed_run, copy)
        (copy / "run.json").write_text(json.dumps(manifest))
        outcome = cli("verify", str(copy))
    assert "Traceback" not in outcome.text
    assert outcome.exit_code in (1, 2), outcome.text


def _json_leaves(node: Any) -> Any:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, dict | list) and value:
            yield from _json_leaves(value)
        else:
            yield node, key


# ---------------------------------------------------------------- the run is kept (item 4)


def test_a_run_whose_audit_memory_is_too_small_is_kept_without_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCSIM_AUDIT_MEMORY", "1KB")
    out = tmp_path / "run"
    outcome = cli("run", "rongcheng", "--population", "5000", "--days", "20", "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    (line,) = outcome.stderr.splitlines()
    assert "kept without report.html" in line and f"scsim report {out}" in line
    assert sorted(p.name for p in out.iterdir()) == [
        "ledger.parquet",
        "metrics.parquet",
        "people.parquet",
        "run.json",
    ]
    assert cli("verify", str(out)).exit_code == 0
    monkeypatch.delenv("SCSIM_AUDIT_MEMORY")
    assert cli("report", str(out)).exit_code == 0
    assert (out / "report.html").is_file() and cli("verify", str(out)).exit_code == 0


def _disk_fills_up(path: Path, data: str | bytes) -> None:
    """A write that gets half the page onto the disk and then finds it full."""
    text = data.encode() if isinstance(data, str) else data
    path.write_bytes(text[: len(text) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_run_whose_disk_fills_up_with_the_report_is_kept_without_half_a_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scsim.report.html.write_atomically", _disk_fills_up)
    out = tmp_path / "run"
    outcome = cli("run", "rongcheng", "--population", "5000", "--days", "20", "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    assert "No space left on device" in outcome.stderr and "scsim report" in outcome.stderr
    assert not (out / "report.html").exists()
    assert cli("verify", str(out)).exit_code == 0


def test_the_python_api_keeps_the_run_and_warns_how_to_write_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scsim

    monkeypatch.setattr("scsim.report.html.write_atomically", _disk_fills_up)
    with pytest.warns(RuntimeWarning, match="scsim report"):
        result = scsim.run("rongcheng", tmp_path / "run", population=5_000, days=20)
    assert len(result.metrics) == 20
