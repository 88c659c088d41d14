"""Run folders under attack (issue 29): a path is a path, whatever characters its name has;
run.json is sealed as the files it lists are; a finished simulation is kept when its report
cannot be written; two processes never write one folder; nothing is left behind."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import assert_one_line_refusal, cli
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scsim.audit import dossier, open_run
from scsim.engine.plan import compile_plan
from scsim.engine.population import Population
from scsim.errors import OutputError
from scsim.experiments.compare import compare
from scsim.experiments.sensitivity import INDICES
from scsim.experiments.sweep import (
    RESULTS,
    is_complete,
    run_sweep,
    write_sweep_manifest,
    write_table,
)
from scsim.experiments.sweepfile import load_sweep
from scsim.report import write_report, write_run_report
from scsim.scenario import Scenario, load_scenario
from scsim.simulation import resources
from scsim.simulation.lock import OutputBusyError, writing
from scsim.simulation.resources import cgroup_memory_left
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


def _ledger_rows(run: Path) -> int:
    return int(open_run(run).sql("select count(*) from ledger").fetchall()[0][0])


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


NAME_CHARACTERS = st.sampled_from(list("*?[]{}!^-,.'\" \\\x1b\x07\r\tab%$~é"))


@settings(deadline=None, max_examples=25, database=None)
@given(name=st.text(NAME_CHARACTERS, min_size=1, max_size=12))
def test_any_folder_name_reads_its_own_run_and_shows_its_name_escaped(
    globbed: Path, name: str
) -> None:
    """Fuzz: a run copied to a folder named with glob and control characters, beside runs its
    name matches as a pattern: verify passes, the audit reads that run's ledger and nothing
    else, and a refusal naming the folder is one printable line."""
    assume(name not in (".", "..") and "/" not in name)
    with tempfile.TemporaryDirectory(dir=globbed) as folder:
        run = Path(folder) / name
        shutil.copytree(globbed / "plain", run)
        shutil.copytree(globbed / "runA", Path(folder) / "runA")  # a decoy for * and ?
        assert cli("verify", str(run)).exit_code == 0
        assert _ledger_rows(run) == _ledger_rows(globbed / "plain")
        missing = cli("dossier", str(run / "nowhere"), "1")
        assert missing.exit_code == 2 and missing.stderr.strip().isprintable(), missing.stderr


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


def test_an_edited_sensitivity_table_fails_verify(sealed_run: Path, tmp_path: Path) -> None:
    """The other table of a sweep folder: sensitivity.parquet, written after the sweep's."""
    file = tmp_path / "sweep.toml"
    file.write_text('scenario = "rongcheng"\n[overrides]\n"population.size" = 5000\n')
    sweep, out = load_sweep(file), tmp_path / "sweep"
    shutil.copytree(sealed_run, out / "runs" / sweep.runs[0].run_id)
    write_table(pd.DataFrame({"run_id": [sweep.runs[0].run_id]}), out / RESULTS)
    write_table(pd.DataFrame({"metric": ["sanctions"], "ST": [0.5]}), out / INDICES)
    write_sweep_manifest(sweep, out, (RESULTS, INDICES))
    assert cli("verify", str(out)).exit_code == 0
    write_table(pd.DataFrame({"metric": ["sanctions"], "ST": [0.9]}), out / INDICES)
    outcome = cli("verify", str(out))
    assert outcome.exit_code == 1 and INDICES in outcome.stderr


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


# ---------------------------------------------------------------- one writer (item 6)

RUN = ("run", "rongcheng", "--population", "5000", "--days", "20")


def test_a_second_run_to_a_folder_being_written_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with writing(out):
        outcome = cli(*RUN, "--out", str(out), "--force")
        assert_one_line_refusal(outcome, "being written by another scsim", str(os.getpid()))
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nor its lock, once released


def test_a_resume_of_a_run_being_written_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with writing(out):
        assert_one_line_refusal(cli("run", "--resume", str(out)), "being written")


def test_a_comparison_into_a_folder_being_written_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    with writing(out), pytest.raises(OutputBusyError):
        compare("rongcheng", against_none=True, population=5_000, days=20, out=out)
    assert not out.exists()


def test_a_sweep_into_a_folder_being_written_is_refused_before_any_run(tmp_path: Path) -> None:
    file = tmp_path / "sweep.toml"
    file.write_text('scenario = "rongcheng"\n[overrides]\n"population.size" = 5000\n')
    out = tmp_path / "sweep"
    with writing(out), pytest.raises(OutputBusyError):
        run_sweep(load_sweep(file), out)
    assert not (out / "runs").exists() or not any((out / "runs").iterdir())


def test_a_report_to_a_page_being_written_is_refused(sealed_run: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    with writing(page):
        assert_one_line_refusal(cli("report", str(sealed_run), "--out", str(page)), "being")
    assert not page.exists()


def test_report_out_does_not_overwrite_a_file_without_force(
    sealed_run: Path, tmp_path: Path
) -> None:
    page = tmp_path / "mine.html"
    page.write_text("my own page")
    assert_one_line_refusal(cli("report", str(sealed_run), "--out", str(page)), "--force")
    assert page.read_text() == "my own page"
    assert cli("report", str(sealed_run), "--out", str(page), "--force").exit_code == 0
    assert page.read_text() != "my own page"


def test_force_keeps_a_file_the_user_added_to_a_run_folder(
    sealed_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    shutil.copytree(sealed_run, out)
    (out / "notes.txt").write_text("what I saw")
    outcome = cli(*RUN, "--out", str(out), "--force")
    assert_one_line_refusal(outcome, "notes.txt", "did not write")
    assert (out / "notes.txt").read_text() == "what I saw"
    assert cli("verify", str(out)).exit_code == 0


def test_force_keeps_a_folder_the_user_added_to_a_comparison(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    compare("rongcheng", against_none=True, population=5_000, days=20, out=out)
    (out / "plots").mkdir()
    with pytest.raises(OutputError, match="plots"):
        compare("rongcheng", against_none=True, population=5_000, days=20, out=out, force=True)
    assert (out / "plots").is_dir()


def test_force_still_replaces_a_run_scsim_wrote(sealed_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(sealed_run, out)
    assert cli(*RUN, "--out", str(out), "--force").exit_code == 0


def test_concurrent_writers_of_one_folder_leave_one_whole_run(tmp_path: Path) -> None:
    """Fuzz: four processes start `scsim run --force` into the same folder at once; each
    finishes or is refused in one line, and one whole run is left, with nothing beside it."""
    out = tmp_path / "run"
    command = [_scsim(), *RUN, "--out", str(out), "--force"]
    writers = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    codes = [(w.wait(timeout=300), w.stderr.read()) for w in writers]  # type: ignore[union-attr]
    assert all(code in (0, 2) for code, _ in codes), codes
    assert any(code == 0 for code, _ in codes)
    for code, err in codes:
        assert "Traceback" not in err
        if code == 2:
            assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert cli("verify", str(out)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def _scsim() -> str:
    return str(Path(sys.executable).with_name("scsim"))


# ---------------------------------------------------------------- nothing left behind (item 7)


def _dead_pid() -> int:
    """The id of a process that has ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_a_partial_folder_of_a_killed_run_is_removed_by_the_next_run(tmp_path: Path) -> None:
    out, dead = tmp_path / "run", _dead_pid()
    for kind in ("partial", "old"):  # killed while writing, or while replacing the old run
        (tmp_path / f".run.{kind}-{dead}").mkdir()
        (tmp_path / f".run.{kind}-{dead}" / "ledger.parquet").write_bytes(b"half")
    living = tmp_path / f".run.partial-{os.getppid()}"  # a writer still at work: its own
    living.mkdir()
    assert cli(*RUN, "--out", str(out)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([living.name, "run"])


def test_a_partial_folder_of_a_killed_comparison_is_removed_by_the_next(tmp_path: Path) -> None:
    dead = _dead_pid()
    (tmp_path / f".cmp.partial-{dead}").mkdir()
    (tmp_path / ".other.partial-1").mkdir()  # another output's: not this comparison's
    compare("rongcheng", against_none=True, population=5_000, days=20, out=tmp_path / "cmp")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.partial-1", "cmp"]


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_each_signal_stops_a_run_and_leaves_nothing_behind(
    tmp_path: Path, signum: int, code: int
) -> None:
    """Fuzz of the signals: Ctrl-C, a scheduler's kill, a closed terminal, each mid-run: the
    exit code says which, one line, and no folder, partial folder or lock is left."""
    out = tmp_path / "run"
    long = ("run", "rongcheng", "--population", "200000", "--days", "3000")
    process = subprocess.Popen([_scsim(), *long, "--out", str(out)], stderr=subprocess.PIPE)
    while process.poll() is None and not list(tmp_path.glob(".run.partial-*")):
        time.sleep(0.005)
    time.sleep(0.5)  # into the days
    assert process.poll() is None, "the run ended before it could be stopped"
    process.send_signal(signum)
    process.wait(timeout=60)
    stderr = process.stderr.read().decode()  # type: ignore[union-attr]
    assert process.returncode == code, stderr
    assert "partial output removed" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the real limits (item 5)


def _under_address_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def test_a_run_past_ulimit_v_is_refused_before_it_starts(tmp_path: Path) -> None:
    """The example: `ulimit -v` below what 400 million people need, with the machine's free
    memory far above it; refused in one line naming the limit, never a MemoryError."""
    out = tmp_path / "big"
    done = subprocess.run(
        [_scsim(), "run", "rongcheng", "--population", "4e8", "--days", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_under_address_limit(int(2.5 * 2**30)),
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert "under ulimit -v" in done.stderr and "MemoryError" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("files", "line"),
    [
        ({"memory.max": "2000000000", "memory.current": "500000000"}, "0::/job"),
        (
            {"memory/memory.limit_in_bytes": "2000000000", "memory/memory.usage_in_bytes": "5e8"},
            "4:memory:/job",
        ),
        (
            {"memory/job/memory.limit_in_bytes": "2000000000"}
            | {"memory/job/memory.usage_in_bytes": "500000000"},
            "4:memory:/job",
        ),
    ],
)
def test_a_cgroup_memory_limit_is_seen_v2_and_v1(
    tmp_path: Path, files: dict[str, str], line: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text + "\n")
    membership = tmp_path / "cgroup"
    membership.write_text(f"{line}\n")
    left = cgroup_memory_left(tmp_path, membership)
    assert left == (None if "5e8" in str(files) else 1_500_000_000)


def test_a_cgroup_without_a_limit_sets_none(tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text("5\n")
    (tmp_path / "cgroup").write_text("0::/\n")
    assert cgroup_memory_left(tmp_path, tmp_path / "cgroup") is None


def test_a_run_whose_cgroup_leaves_too_little_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "cgroup_memory_left", lambda: 300 * 2**20)
    out = tmp_path / "run"
    line = assert_one_line_refusal(cli(*RUN, "--out", str(out)), "the cgroup's memory limit")
    assert "300.0 MiB available" in line and not out.exists()


def test_the_disk_a_run_needs_counts_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk with room for the data files but not the report: refused before the run, not
    an ENOSPC when the page is written at the end."""
    scenario = load_scenario("rongcheng", overrides=SMALL)
    pop = Population.generate(scenario.population, seed=scenario.run.seed)
    needed = resources.estimate(compile_plan(scenario, pop), pop).disk
    free = needed - resources.REPORT_DISK_BYTES // 2  # the data fits, the page does not
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(resources.shutil, "disk_usage", lambda _: usage._replace(free=free))
    out = tmp_path / "run"
    assert_one_line_refusal(cli(*RUN, "--out", str(out)), "with its report", "of disk")
    assert not out.exists()


def test_a_disk_that_fills_up_mid_run_is_one_line_and_nothing_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other instance: the disk fills up anyway (another process wrote to it meanwhile)."""

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("scsim.simulation.rundir.pq.write_table", full)
    out = tmp_path / "run"
    assert_one_line_refusal(cli(*RUN, "--out", str(out)), "disk is full", "partial output removed")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- a local Ray (item 9)


def _listening(pids: set[int]) -> list[str]:
    """The addresses the processes `pids` listen on (TCP, IPv4 and IPv6), as hex from
    /proc/net: 0100007F is 127.0.0.1, 00000000 any interface."""
    addresses = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                addresses[fields[9]] = fields[1].rsplit(":", 1)[0]
    found = []
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    inode = target.removeprefix("socket:[").removesuffix("]")
                    if target.startswith("socket:") and inode in addresses:
                        found.append(addresses[inode])
    return found


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


def test_a_local_ray_listens_on_the_loopback_interface_only() -> None:
    from scsim.simulation.cluster import connect
    from scsim.simulation.reaper import descendants

    with connect(None, workers=1) as ray:
        assert ray.get(ray.remote(lambda: 7).remote()) == 7
        found = _listening({os.getpid(), *descendants(os.getpid())})
    assert len(found) >= 3  # the GCS, the raylet, a worker, this driver
    assert set(found) <= LOOPBACK, found


SWEEP_DRIVER = """
import sys, time
from scsim.simulation.cluster import connect
with connect(None, workers=1) as ray:
    ray.get(ray.remote(lambda: 1).remote())
    print("ready", flush=True)
    time.sleep(600)
"""


def test_a_local_rays_helpers_end_when_the_command_is_killed(tmp_path: Path) -> None:
    """SIGKILL, which Ray cannot catch: its agents were left running, re-parented to init;
    the watcher ends them."""
    from scsim.simulation.reaper import descendants

    driver = subprocess.Popen(
        [sys.executable, "-c", SWEEP_DRIVER], stdout=subprocess.PIPE, text=True
    )
    assert driver.stdout.readline().strip() == "ready"  # type: ignore[union-attr]
    time.sleep(1.5)  # the watcher's look at the helpers
    helpers = descendants(driver.pid)
    assert len(helpers) >= 3
    driver.kill()
    driver.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _running(helpers):
        time.sleep(0.5)
    assert _running(helpers) == []


def _running(processes: dict[int, int]) -> list[int]:
    """Those of `processes` (pid: start time) that still run, zombies aside."""
    alive = []
    for pid, start in processes.items():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[19]) == start:
                alive.append(pid)
    return alive


def test_force_replaces_a_run_holding_a_temporary_file_of_a_killed_report(
    sealed_run: Path, tmp_path: Path
) -> None:
    """A `scsim report RUN` killed while writing leaves `.report.html.tmp-PID` in the run:
    scsim's own file, not a user's, so --force still replaces the run."""
    out = tmp_path / "run"
    shutil.copytree(sealed_run, out)
    (out / f".report.html.tmp-{_dead_pid()}").write_text("<html>half")
    assert cli(*RUN, "--out", str(out), "--force").exit_code == 0
    assert not list(out.glob(".*"))
