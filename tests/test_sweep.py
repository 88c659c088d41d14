"""Sweeps on a local Ray with 2 CPUs: the table, resume, retries after a killed worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_one_line_refusal, cli
from ray_local import busy_workers, local_ray

from scsim.experiments.sweep import RESULTS, is_complete, result_row, results_table, run_sweep
from scsim.experiments.sweepfile import load_sweep
from scsim.report import write_run_report
from scsim.simulation.cluster import ClusterError
from scsim.simulation.run import simulate

SWEEP = """\
scenario = "rongcheng"
seeds = 2
[overrides]
"population.size" = 10_000
"run.days" = 20
[grid]
"surveillance.sensors.cameras.misattribution" = [0.01, 0.2]
"""


@pytest.fixture(scope="module", autouse=True)
def ray_cluster():
    yield from local_ray()


def sweep_file(folder: Path, text: str = SWEEP) -> Path:
    path = folder / "sweep.toml"
    path.write_text(text)
    return path


def checksums(run_dir: Path) -> dict[str, str]:
    files = json.loads((run_dir / "run.json").read_text())["files"]
    return {name: entry["sha256"] for name, entry in files.items()}


def test_a_sweep_gives_the_table_of_each_run_alone(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path))
    outcome = run_sweep(sweep, tmp_path / "out")
    assert (outcome.ran, outcome.skipped) == (4, 0)
    alone = []
    for spec in sweep.runs:
        summary = simulate(spec.scenario, tmp_path / "alone" / spec.run_id, finish=write_run_report)
        alone.append(result_row(spec, summary))
        swept = tmp_path / "out" / "runs" / spec.run_id
        assert checksums(swept) == checksums(tmp_path / "alone" / spec.run_id)
    table = pd.read_parquet(tmp_path / "out" / RESULTS)
    pd.testing.assert_frame_equal(table, pd.DataFrame(alone))
    assert list(table["seed"]) == [1, 2, 1, 2]
    assert table["surveillance.sensors.cameras.misattribution"].tolist() == [0.01, 0.01, 0.2, 0.2]


def test_a_sweep_started_again_runs_only_what_is_missing_or_damaged(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path))
    first = run_sweep(sweep, tmp_path / "out")
    runs = tmp_path / "out" / "runs"
    damaged, missing = (runs / spec.run_id for spec in sweep.runs[:2])
    with (damaged / "metrics.parquet").open("ab") as handle:
        handle.write(b"changed")
    for path in missing.iterdir():
        path.unlink()
    missing.rmdir()
    again = run_sweep(sweep, tmp_path / "out")
    assert (again.ran, again.skipped) == (2, 2)
    pd.testing.assert_frame_equal(again.table, first.table)
    assert all(is_complete(runs / spec.run_id, spec.scenario) for spec in sweep.runs)


def test_a_run_by_other_scsim_code_is_run_again_and_never_tabled(tmp_path: Path) -> None:
    """A sweep started again after an upgrade runs again what the old code made (one table,
    one engine); a run another node made with other code is refused, not tabled."""
    sweep = load_sweep(sweep_file(tmp_path))
    first = run_sweep(sweep, tmp_path / "out")
    manifest = tmp_path / "out" / "runs" / sweep.runs[0].run_id / "run.json"
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**record, "engine_sha256": "0" * 64}))
    with pytest.raises(ClusterError, match=r"made by other scsim code.*000000000000"):
        results_table(sweep, tmp_path / "out" / "runs")
    again = run_sweep(sweep, tmp_path / "out")
    assert (again.ran, again.skipped) == (1, 3)
    pd.testing.assert_frame_equal(again.table, first.table)


def test_a_killed_worker_is_retried_and_every_run_is_there_once(tmp_path: Path) -> None:
    # runs long enough (~1 s each) for the killer to catch one in the middle
    text = SWEEP.replace("10_000", "300_000").replace('"run.days" = 20', '"run.days" = 60')
    sweep = load_sweep(sweep_file(tmp_path, text))
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            busy = busy_workers("ray::run_one")
            if busy:
                time.sleep(0.3)  # into the run, past its start
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    outcome = run_sweep(sweep, tmp_path / "out")
    killer.join()
    assert killed, "no worker was caught running a task"
    table = pd.read_parquet(tmp_path / "out" / RESULTS)
    assert table["run_id"].tolist() == [spec.run_id for spec in sweep.runs]
    runs = tmp_path / "out" / "runs"
    assert sorted(p.name for p in runs.iterdir()) == sorted(table["run_id"])
    assert all(is_complete(runs / spec.run_id, spec.scenario) for spec in sweep.runs)
    assert outcome.ran == len(sweep.runs)


def test_sweep_command_writes_the_table_and_resumes(tmp_path: Path) -> None:
    file = sweep_file(tmp_path)
    out = tmp_path / "out"
    first = cli("sweep", str(file), "--out", str(out))
    assert first.exit_code == 0, first.text
    assert "4 run now, 0 already complete" in first.stdout
    again = cli("sweep", str(file), "--out", str(out))
    assert "0 run now, 4 already complete" in again.stdout
    assert len(pd.read_parquet(out / RESULTS)) == 4


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("seeds = 0\n", ["seeds", "greater than or equal to 1"]),
        ("sedes = 2\n", ["sedes", "unknown field", "seeds"]),
        ('[grid]\n"population.sise" = [1000]\n', ["grid.population.sise", "unknown field"]),
        ('[grid]\n"run.days" = []\n', ["grid.run.days", "at least 1"]),
        ('[overrides]\n"population.size" = -5\n', ["overrides.population.size"]),
        ("[grid\n", ["(syntax)", "invalid TOML"]),
        ("seeds = 0\nsedes = 2\n", ["seeds: Input should be", "; sedes: unknown field"]),
    ],
)
def test_a_bad_sweep_file_is_one_line_and_exit_2(tmp_path: Path, text: str, words) -> None:
    file = sweep_file(tmp_path, 'scenario = "rongcheng"\n' + text)
    outcome = cli("sweep", str(file), "--out", str(tmp_path / "out"))
    assert_one_line_refusal(outcome, str(file), *words)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("command", "text", "words"),
    [
        ("run", SWEEP, "a sweep file, not a scenario file: `scsim sweep"),
        ("sweep", 'extends = "rongcheng"\n[run]\ndays = 3\n', "a scenario file, not a sweep"),
        ("sweep", '[sensitivity]\nparameters = {"run.seed" = [0, 9]}\n', "`scsim sensitivity"),
        ("sensitivity", SWEEP, "a sweep file, not a sensitivity file: `scsim sweep"),
    ],
)
def test_a_file_of_another_kind_names_the_command_that_reads_it(
    tmp_path: Path, command: str, text: str, words: str
) -> None:
    """A sweep file given to `scsim run` lacked every field of a scenario: a line per field,
    where one thing was wrong."""
    file = sweep_file(tmp_path, text)
    outcome = cli(command, str(file), "--out", str(tmp_path / "out"))
    assert_one_line_refusal(outcome, words, str(file))
    assert "unknown field" not in outcome.stderr and not (tmp_path / "out").exists()


def test_an_out_that_cannot_be_a_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A file where the sweep's folder would go was a traceback from mkdir."""
    (tmp_path / "taken").write_text("a file")
    outcome = cli("sweep", str(sweep_file(tmp_path)), "--out", str(tmp_path / "taken" / "out"))
    assert_one_line_refusal(outcome, "taken is a file, not a folder")
    assert (tmp_path / "taken").read_text() == "a file"


def test_a_mistake_in_the_swept_scenario_is_named_against_its_file(tmp_path: Path) -> None:
    """The sweep's override mends nothing: the scenario file must be valid as written, and
    its mistake is its own, not the sweep file's override of the same field."""
    bad = tmp_path / "badpop.toml"
    bad.write_text('extends = "rongcheng"\n[population]\nsize = 0\n')
    file = sweep_file(tmp_path, SWEEP.replace('"rongcheng"', '"badpop.toml"'))
    outcome = cli("sweep", str(file), "--out", str(tmp_path / "out"))
    line = assert_one_line_refusal(outcome, str(bad.resolve()), "population.size", "got 0")
    assert "overrides.population.size" not in line


def test_the_example_sweep_file_is_valid() -> None:
    example = Path(__file__).parent.parent / "examples" / "sweep.toml"
    sweep = load_sweep(example)
    assert len(sweep.runs) == 8 and len({spec.run_id for spec in sweep.runs}) == 8


def test_a_sweep_interrupted_and_started_again_runs_each_run_once(tmp_path: Path) -> None:
    # six runs of over a second each, so that Ctrl-C lands mid-sweep
    text = SWEEP.replace("seeds = 2", "seeds = 3").replace("10_000", "1_000_000")
    text = text.replace('"run.days" = 20', '"run.days" = 60')
    file, out = sweep_file(tmp_path, text), tmp_path / "out"
    sweep = load_sweep(file)
    scsim = Path(sys.executable).with_name("scsim")
    command = [str(scsim), "sweep", str(file), "--out", str(out), "--workers", "2"]
    # Ctrl-C as at a terminal even where the suite runs in the background (a shell starts a
    # background job with SIGINT ignored, and a child inherits that)
    driver = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_finished(out)) < 2:
        time.sleep(0.1)
    driver.send_signal(signal.SIGINT)  # Ctrl-C
    _, stderr = driver.communicate(timeout=60)
    assert driver.returncode == 130, stderr
    assert "runs finished are kept" in stderr
    finished = _finished(out)
    assert 2 <= len(finished) < len(sweep.runs)
    again = run_sweep(sweep, out)
    assert again.skipped == len(finished) and again.ran == len(sweep.runs) - len(finished)
    assert again.table["run_id"].tolist() == [spec.run_id for spec in sweep.runs]
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(again.table["run_id"])


def _finished(out: Path) -> list[Path]:
    runs = out / "runs"
    if not runs.exists():
        return []
    return [p for p in runs.iterdir() if not p.name.startswith(".") and (p / "run.json").exists()]


def test_ray_address_runs_the_sweep_on_an_existing_cluster(tmp_path: Path) -> None:
    import ray

    address = ray.get_runtime_context().gcs_address  # this module's Ray, as a cluster
    file, out = sweep_file(tmp_path), tmp_path / "out"
    scsim = Path(sys.executable).with_name("scsim")
    command = [str(scsim), "sweep", str(file), "--out", str(out), "--ray-address", address]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(out / RESULTS)) == 4


def test_a_ray_address_nothing_answers_at_is_one_line_and_exit_2(tmp_path: Path) -> None:
    file, out = sweep_file(tmp_path), str(tmp_path / "out")
    outcome = cli("sweep", str(file), "--out", out, "--ray-address", "127.0.0.1:1")
    assert_one_line_refusal(outcome, "--ray-address 127.0.0.1:1", "no Ray cluster")


def test_a_scenario_file_is_found_beside_the_sweep_file(tmp_path: Path, tiny_file: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "city.toml").write_text(tiny_file.read_text())
    sweep = load_sweep(sweep_file(folder, SWEEP.replace('"rongcheng"', '"city.toml"')))
    assert {spec.scenario.name for spec in sweep.runs} == {"tiny"}
    assert [spec.scenario.population.size for spec in sweep.runs] == [10_000] * 4
