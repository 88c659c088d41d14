"""Runs that survive faults: checkpoints, SIGKILL and Ctrl-C, resume, and the limits of a machine.

A run with --checkpoint-every that is killed at any moment and then resumed with --resume
writes ledger.parquet, metrics.parquet and people.parquet byte for byte as a run that was never
interrupted. A damaged or foreign checkpoint is refused in one line with exit code 2.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import RUN_FILES, assert_one_line_refusal, cli, leftovers
from hypothesis import given, settings
from hypothesis import strategies as st

import scsim.simulation.resources
from scsim.engine.backend import gpu_available
from scsim.engine.model import Model
from scsim.engine.state import Calendar, Roster
from scsim.report import write_run_report
from scsim.scenario import builtin_names, load_scenario
from scsim.scenario.schema import Rulebook
from scsim.simulation import run
from scsim.simulation.checkpoint import FOLDER, LATEST, START
from scsim.simulation.checkpoint_files import seal, unseal
from scsim.simulation.provenance import PACKAGE, engine_sha256
from scsim.simulation.rundir import RunDirectory, resumable_partial

# run and resumed as the CLI and the API run them: with the report written before publishing
simulate = functools.partial(run.simulate, finish=write_run_report)
resume = functools.partial(run.resume, finish=write_run_report)

DAYS = "40"
DATA_FILES = ("ledger.parquet", "metrics.parquet", "people.parquet")


# ---------------------------------------------------------------- helpers


def run_args(tiny_file: Path, out: Path, *more: str) -> list[str]:
    return ["run", str(tiny_file), "--days", DAYS, "--out", str(out), *more]


def checkpoint_folder(out: Path) -> Path:
    return resumable_partial(out) / FOLDER


def checkpoint_day(out: Path) -> int | None:
    """The day of the committed checkpoint of a run into `out`, or None if there is none yet."""
    try:
        return json.loads((checkpoint_folder(out) / LATEST).read_text())["day"]
    except (OSError, ValueError, KeyError):
        return None


def assert_same_files(run: Path, reference: Path) -> None:
    for name in DATA_FILES:
        assert (run / name).read_bytes() == (reference / name).read_bytes(), f"{name} differs"
    assert sorted(p.name for p in run.iterdir()) == sorted(RUN_FILES)
    assert leftovers(run) == []


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def scsim_process(*args: str) -> subprocess.Popen[bytes]:
    executable = Path(sys.executable).with_name("scsim")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "scsim"]
    return subprocess.Popen(
        [*command, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ
    )


@pytest.fixture
def interrupt_on_day(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Ctrl-C (KeyboardInterrupt) at the start of the given day; undone by calling it with None."""

    def arm(day: int | None, error: type[BaseException] = KeyboardInterrupt) -> None:
        monkeypatch.undo()
        if day is None:
            return
        real_step = Model.step

        def step(self: Model, today: int) -> dict:
            if today == day:
                raise error(f"stopped on day {day}")
            return real_step(self, today)

        monkeypatch.setattr(Model, "step", step)

    return arm


@pytest.fixture(scope="module")
def reference(tiny_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny scenario for 40 days, run whole without checkpoints."""
    out = tmp_path_factory.mktemp("reference") / "run"
    outcome = cli(*run_args(tiny_file, out))
    assert outcome.exit_code == 0, outcome.text
    return out


@pytest.fixture(scope="module")
def interrupted(tiny_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run interrupted on day 12 with a checkpoint every 5 days (the one of day 10 kept)."""
    out = tmp_path_factory.mktemp("interrupted") / "run"
    real_step = Model.step

    def step(self: Model, day: int) -> dict:
        if day == 12:
            raise KeyboardInterrupt
        return real_step(self, day)

    Model.step = step  # type: ignore[method-assign]
    try:
        outcome = cli(*run_args(tiny_file, out, "--checkpoint-every", "5"))
    finally:
        Model.step = real_step  # type: ignore[method-assign]
    assert outcome.exit_code == 130, outcome.text
    assert checkpoint_day(out) == 10
    return out


def copy_of(run: Path, tmp_path: Path) -> Path:
    """A copy of an interrupted run's partial directory, as the run `tmp_path/run` left it."""
    out = tmp_path / "run"
    shutil.copytree(resumable_partial(run), resumable_partial(out))
    return out


# ---------------------------------------------------------------- state to arrays and back


def test_a_calendar_through_arrays_gives_the_same_rows_on_every_day() -> None:
    calendar = Calendar()
    person = np.arange(20, dtype=np.int64)
    calendar.schedule("reverse", person % 7 + 3, person=person, delta=-(person.astype(np.int32)))
    calendar.schedule("retry", np.array([5, 5, 9]), person=person[:3], service=person[:3] * 2)
    calendar.schedule("reverse", np.array([4, 9]), person=person[:2], delta=np.int32([7, 8]))
    again = Calendar.from_arrays(calendar.to_arrays())
    assert again.pending() == calendar.pending()
    for day in range(12):
        for kind, columns in (("reverse", ("person", "delta")), ("retry", ("person", "service"))):
            empty = {name: np.dtype(np.int64) for name in columns}
            want, got = calendar.due(kind, day, empty), again.due(kind, day, empty)
            for name in columns:
                assert got[name].dtype == want[name].dtype
                assert np.array_equal(got[name], want[name]), (kind, day, name)


def test_a_roster_through_arrays_keeps_every_column_and_dtype() -> None:
    roster = Roster()
    roster.add(
        np.array([9, 2, 5]),
        3,
        np.array([10, 20, 30]),
        np.uint8([1, 0, 1]),
        np.array([True, False, True]),
    )
    again = Roster.from_arrays(roster.to_arrays())
    for name, column in roster.columns.items():
        assert again.columns[name].dtype == column.dtype
        assert np.array_equal(again.columns[name], column)


# ---------------------------------------------------------------- the same bytes


def test_checkpointed_run_writes_the_same_bytes_as_a_run_without(
    tiny_file: Path, reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    outcome = cli(*run_args(tiny_file, out, "--checkpoint-every", "7"))
    assert outcome.exit_code == 0, outcome.text
    assert_same_files(out, reference)
    assert not resumable_partial(out).exists()


def test_run_killed_once_a_checkpoint_exists_resumes_to_the_same_bytes(
    tiny_file: Path, reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    target = random.randrange(2, 32, 2)  # a random checkpoint day of the 40
    process = scsim_process(*run_args(tiny_file, out, "--checkpoint-every", "2"))
    killed_at = None
    while process.poll() is None:
        day = checkpoint_day(out)
        if day is not None and day >= target:
            process.send_signal(signal.SIGKILL)
            killed_at = day
            break
        time.sleep(0.0005)
    process.wait(timeout=60)
    assert killed_at is not None, f"the run ended before a checkpoint of day {target} was seen"
    assert process.returncode == -signal.SIGKILL
    assert not out.exists()
    outcome = cli("run", "--resume", str(out))
    assert outcome.exit_code == 0, f"killed after the checkpoint of day {killed_at}: {outcome.text}"
    assert_same_files(out, reference)


def test_run_killed_at_random_moments_again_and_again_still_finishes_the_same(
    tiny_file: Path, reference: Path, tmp_path: Path
) -> None:
    """SIGKILL anywhere: while building, stepping, saving, replaying the ledger or renaming."""
    out, chance, kills = tmp_path / "run", random.Random(), []
    ready = 1.0  # seconds from start to the partial directory: measured on the first run
    for _ in range(4):
        fresh = not (checkpoint_folder(out) / START).exists()
        args = run_args(tiny_file, out, "--checkpoint-every", "3") if fresh else None
        started = time.monotonic()
        process = scsim_process(*(args or ["run", "--resume", str(out)]))
        while fresh and process.poll() is None and not resumable_partial(out).exists():
            time.sleep(0.001)
        if fresh:
            ready = time.monotonic() - started
        delay = ready + chance.uniform(0.0, 0.3)
        try:
            process.wait(timeout=max(delay - (time.monotonic() - started), 0.0))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            kills.append((round(delay - ready, 3), checkpoint_day(out)))
        if out.exists():
            break
        assert process.returncode == -signal.SIGKILL, process.stderr.read()  # type: ignore[union-attr]
    if not out.exists():
        # every kill may have landed before the run recorded its start: then start it afresh
        started = (checkpoint_folder(out) / START).exists()
        args = (
            ["run", "--resume", str(out)]
            if started
            else run_args(tiny_file, out, "--checkpoint-every", "3")
        )
        outcome = cli(*args)
        assert outcome.exit_code == 0, f"after kills {kills}: {outcome.text}"
    assert_same_files(out, reference)


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_scenario_resumes_from_a_checkpoint_to_the_same_bytes(
    name: str, tmp_path: Path, interrupt_on_day
) -> None:  # type: ignore[no-untyped-def]
    """Each built-in holds its own kinds of state (appeals, late records, retries, locks,
    rulebook changes): a checkpoint that missed one would show here."""
    scenario = load_scenario(name, overrides={"population.size": 20_000, "run.days": 40})
    simulate(scenario, tmp_path / "plain")
    interrupt_on_day(27)
    with pytest.raises(KeyboardInterrupt):
        simulate(scenario, tmp_path / "run", checkpoint_every=8)
    interrupt_on_day(None)
    resume(tmp_path / "run")
    files = sorted(p.name for p in (tmp_path / "plain").iterdir())
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == files
    for file in files:
        if file != "run.json":
            assert (tmp_path / "run" / file).read_bytes() == (
                tmp_path / "plain" / file
            ).read_bytes()


def test_a_rulebook_change_after_the_checkpoint_still_applies_on_resume(
    tiny_file: Path, tmp_path: Path, interrupt_on_day
) -> None:  # type: ignore[no-untyped-def]
    if "changes" not in Rulebook.model_fields:
        pytest.skip("this scsim has no scheduled rulebook changes")
    change = {"day": 20, "rules": {"traffic_violation": {"points": -50}}}
    overrides = {"run.days": int(DAYS), "rulebook.changes": [change]}
    scenario = load_scenario(tiny_file, overrides=overrides)
    simulate(scenario, tmp_path / "plain")
    interrupt_on_day(17)
    with pytest.raises(KeyboardInterrupt):
        simulate(scenario, tmp_path / "run", checkpoint_every=5)
    interrupt_on_day(None)
    resume(tmp_path / "run")
    assert_same_files(tmp_path / "run", tmp_path / "plain")


@pytest.mark.skipif(not gpu_available(), reason="no NVIDIA GPU with CuPy here")
@pytest.mark.parametrize("then", ["gpu", "numpy"])
def test_a_gpu_run_interrupted_resumes_on_either_backend_to_the_same_bytes(
    tiny_file: Path, reference: Path, tmp_path: Path, interrupt_on_day, then: str
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    interrupt_on_day(23)
    outcome = cli(*run_args(tiny_file, out, "--checkpoint-every", "10", "--backend", "gpu"))
    assert outcome.exit_code == 130, outcome.text
    interrupt_on_day(None)
    outcome = cli("run", "--resume", str(out), "--backend", then)
    assert outcome.exit_code == 0, outcome.text
    assert_same_files(out, reference)


# ---------------------------------------------------------------- Ctrl-C and failures


def test_ctrl_c_exits_130_keeps_the_last_checkpoint_and_resume_finishes(
    tiny_file: Path, reference: Path, tmp_path: Path, interrupt_on_day
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    interrupt_on_day(17)
    outcome = cli(*run_args(tiny_file, out, "--checkpoint-every", "5"))
    assert outcome.exit_code == 130
    assert "Traceback" not in outcome.text
    (line,) = outcome.stderr.splitlines()
    assert "day 15" in line and f"--resume {out}" in line
    assert not out.exists()
    kept = sorted(p.name for p in checkpoint_folder(out).iterdir())
    assert kept == [
        LATEST,
        "ledger-00000.arrow",
        "ledger-00005.arrow",
        "ledger-00010.arrow",
        START,
        "state-00015.bin",
    ]
    assert [p.name for p in resumable_partial(out).iterdir()] == [FOLDER]
    interrupt_on_day(None)
    outcome = cli("run", "--resume", str(out))
    assert outcome.exit_code == 0, outcome.text
    assert_same_files(out, reference)


def test_ctrl_c_before_the_first_checkpoint_leaves_nothing(
    tiny_file: Path, tmp_path: Path, interrupt_on_day
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    interrupt_on_day(3)
    outcome = cli(*run_args(tiny_file, out, "--checkpoint-every", "5"))
    assert outcome.exit_code == 130
    assert outcome.stderr == "interrupted: partial output removed\n"
    assert list(tmp_path.iterdir()) == []


def test_a_failure_keeps_the_checkpoint_and_says_so(
    tiny_file: Path, reference: Path, tmp_path: Path, interrupt_on_day
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    scenario = load_scenario(tiny_file, overrides={"run.days": int(DAYS)})
    interrupt_on_day(13, RuntimeError)
    with pytest.raises(RuntimeError, match="stopped on day 13") as failure:
        simulate(scenario, out, checkpoint_every=4)
    assert any("checkpoint of day 12" in note for note in failure.value.__notes__)
    interrupt_on_day(None)
    resume(out)
    assert_same_files(out, reference)


def test_a_run_stopped_after_run_json_was_written_is_only_moved_in_place(
    tiny_file: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"

    def publish(self: RunDirectory) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(RunDirectory, "publish", publish)
    outcome = cli(*run_args(tiny_file, out, "--checkpoint-every", "10"))
    assert outcome.exit_code == 130
    assert "--resume" in outcome.stderr
    assert (resumable_partial(out) / "run.json").exists()
    monkeypatch.undo()
    outcome = cli("run", "--resume", str(out))
    assert outcome.exit_code == 0, outcome.text
    assert_same_files(out, reference)


# ---------------------------------------------------------------- refusals


def damage_truncate_state(folder: Path) -> None:
    (state,) = folder.glob("state-*.bin")
    state.write_bytes(state.read_bytes()[:-100])


def damage_flip_a_bit_of_the_state(folder: Path) -> None:
    (state,) = folder.glob("state-*.bin")
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 0x10
    state.write_bytes(bytes(data))


def damage_flip_a_bit_of_a_ledger_file(folder: Path) -> None:
    part = folder / "ledger-00005.arrow"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))


def damage_change_the_day_in_checkpoint_json(folder: Path) -> None:
    path = folder / LATEST
    path.write_text(path.read_text().replace('"day": 10', '"day": 11'))


def damage_truncate_checkpoint_json(folder: Path) -> None:
    path = folder / LATEST
    path.write_bytes(path.read_bytes()[:50])


def damage_empty_checkpoint_json(folder: Path) -> None:
    (folder / LATEST).write_bytes(b"")


def damage_delete_the_state(folder: Path) -> None:
    (state,) = folder.glob("state-*.bin")
    state.unlink()


def damage_edit_the_scenario_in_start_json(folder: Path) -> None:
    path = folder / START
    path.write_text(path.read_text().replace('"size": 20000', '"size": 20001'))


DAMAGE = [
    damage_truncate_state,
    damage_flip_a_bit_of_the_state,
    damage_flip_a_bit_of_a_ledger_file,
    damage_change_the_day_in_checkpoint_json,
    damage_truncate_checkpoint_json,
    damage_empty_checkpoint_json,
    damage_delete_the_state,
    damage_edit_the_scenario_in_start_json,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__.removeprefix("damage_"))
def test_a_damaged_checkpoint_is_refused_in_one_line_and_left_as_it_is(
    damage, interrupted: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    out = copy_of(interrupted, tmp_path)
    damage(checkpoint_folder(out))
    before = snapshot(resumable_partial(out))
    line = assert_one_line_refusal(cli("run", "--resume", str(out)), "damaged")
    assert str(checkpoint_folder(out)) in line
    assert snapshot(resumable_partial(out)) == before
    assert not out.exists()


@settings(max_examples=40, deadline=None, database=None)
@given(
    which=st.sampled_from(
        [START, LATEST, "state-00010.bin", "ledger-00000.arrow", "ledger-00005.arrow"]
    ),
    where=st.floats(0.0, 1.0, exclude_max=True),
    how=st.sampled_from(["flip", "truncate", "zero", "append", "empty"]),
    bit=st.integers(0, 7),
)
def test_any_damage_to_any_checkpoint_file_is_refused_or_changes_nothing(
    interrupted: Path, reference: Path, which: str, where: float, how: str, bit: int
) -> None:
    """Whatever byte is hit, resume either refuses in one line and touches nothing, or (a hit
    that changes no content, such as JSON whitespace) finishes with the same bytes."""
    with tempfile.TemporaryDirectory() as folder:
        out = copy_of(interrupted, Path(folder))
        path = checkpoint_folder(out) / which
        data = bytearray(path.read_bytes())
        at = int(where * len(data))
        if how == "flip":
            data[at] ^= 1 << bit
        elif how == "truncate":
            del data[at:]
        elif how == "zero":
            data[at : at + 64] = bytes(len(data[at : at + 64]))
        elif how == "append":
            data += b"\x00junk"
        else:
            data = bytearray()
        path.write_bytes(bytes(data))
        before = snapshot(resumable_partial(out))
        outcome = cli("run", "--resume", str(out))
        if outcome.exit_code == 0:
            assert_same_files(out, reference)
        else:
            assert_one_line_refusal(outcome)
            assert snapshot(resumable_partial(out)) == before


def test_a_checkpoint_of_another_seed_is_refused(
    interrupted: Path, tiny_file: Path, tmp_path: Path, interrupt_on_day
) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "other"
    interrupt_on_day(12)
    cli(*run_args(tiny_file, other, "--checkpoint-every", "5", "--seed", "8"))
    interrupt_on_day(None)
    out = copy_of(interrupted, tmp_path)
    folder = checkpoint_folder(out)
    for path in folder.glob("state-*.bin"):
        path.unlink()
    for path in checkpoint_folder(other).iterdir():
        if path.name != START:
            shutil.copy(path, folder / path.name)
    assert_one_line_refusal(cli("run", "--resume", str(out)), "another run", "seed 8", "seed 7")


@pytest.mark.parametrize("which", [START, LATEST])
def test_a_checkpoint_written_by_other_engine_code_is_refused(
    interrupted: Path, tmp_path: Path, which: str
) -> None:
    """A commit changes a run's bytes without changing scsim's version: the engine's digest
    tells the code that wrote a checkpoint from the code asked to resume it."""
    out = copy_of(interrupted, tmp_path)
    path = checkpoint_folder(out) / which
    record = unseal(path)
    assert record["engine_sha256"] == engine_sha256()
    path.write_bytes(seal({**record, "engine_sha256": "0" * 64}))
    before = snapshot(resumable_partial(out))
    assert_one_line_refusal(cli("run", "--resume", str(out)), "other scsim code", "000000000000")
    assert snapshot(resumable_partial(out)) == before


def test_the_engine_digest_follows_the_engine_source_and_not_the_readers(tmp_path: Path) -> None:
    package = tmp_path / "scsim"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    assert engine_sha256(package) == engine_sha256()
    reader = package / "report" / "html.py"
    reader.write_text(reader.read_text() + "\n# a better report\n")
    assert engine_sha256.__wrapped__(package) == engine_sha256()
    stage = package / "engine" / "components" / "score.py"
    stage.write_text(stage.read_text() + "\n# a changed stage\n")
    assert engine_sha256.__wrapped__(package) != engine_sha256()
    moved = tmp_path / "moved" / "scsim"  # the same files elsewhere: the same digest
    shutil.copytree(PACKAGE, moved, ignore=shutil.ignore_patterns("__pycache__"))
    assert engine_sha256(moved) == engine_sha256()


def test_resume_naming_another_scenario_or_seed_is_refused(
    interrupted: Path, tiny_file: Path, tmp_path: Path
) -> None:
    out = copy_of(interrupted, tmp_path)
    line = assert_one_line_refusal(cli("run", "--resume", str(out), "--seed", "8"), "seed 8")
    assert "another scenario or seed" in line
    assert_one_line_refusal(cli("run", "rongcheng", "--resume", str(out)), "another scenario")
    assert_one_line_refusal(cli("run", str(tiny_file), "--resume", str(out)), "another scenario")


def test_resume_naming_the_same_scenario_and_seed_finishes(
    interrupted: Path, tiny_file: Path, reference: Path, tmp_path: Path
) -> None:
    out = copy_of(interrupted, tmp_path)
    outcome = cli(*run_args(tiny_file, out, "--seed", "7", "--resume", str(out)))
    assert outcome.exit_code == 0, outcome.text
    assert_same_files(out, reference)


def test_resume_of_a_directory_with_no_interrupted_run_is_refused(
    tmp_path: Path, reference: Path
) -> None:
    assert_one_line_refusal(cli("run", "--resume", str(tmp_path / "nothing")), "no interrupted run")
    assert_one_line_refusal(cli("run", "--resume", str(reference)), "finished run")
    assert list(tmp_path.iterdir()) == []


def test_resume_with_another_out_is_refused(interrupted: Path, tmp_path: Path) -> None:
    out = copy_of(interrupted, tmp_path)
    other = tmp_path / "elsewhere"
    assert_one_line_refusal(cli("run", "--resume", str(out), "--out", str(other)), "--out")


def test_resume_of_a_run_another_process_is_writing_is_refused(
    interrupted: Path, tmp_path: Path
) -> None:
    out = copy_of(interrupted, tmp_path)
    holder = os.open(resumable_partial(out), os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        assert_one_line_refusal(cli("run", "--resume", str(out)), "another scsim process")
    finally:
        os.close(holder)


def test_a_new_run_over_an_interrupted_one_is_refused_unless_forced(
    interrupted: Path, tiny_file: Path, tmp_path: Path
) -> None:
    out = copy_of(interrupted, tmp_path)
    args = run_args(tiny_file, out, "--days", "5", "--checkpoint-every", "5")
    assert_one_line_refusal(cli(*args), "interrupted run", "--resume", "--force")
    assert_one_line_refusal(cli(*run_args(tiny_file, out, "--days", "5")), "interrupted run")
    outcome = cli(*args, "--force")
    assert outcome.exit_code == 0, outcome.text
    assert json.loads((out / "run.json").read_text())["summary"]["days"] == 5
    assert leftovers(out) == []


def test_checkpoint_every_must_be_a_positive_number_of_days(
    tiny_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    assert_one_line_refusal(cli(*run_args(tiny_file, out, "--checkpoint-every", "0")), "1 or more")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- limits of the machine


def test_output_too_big_for_the_disk_is_refused_with_an_estimate_and_nothing_written(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=10_000))
    out = tmp_path / "run"
    line = assert_one_line_refusal(cli(*run_args(tiny_file, out, "--days", "3650")), "disk")
    assert "3650 days for 20,000 people, with its report, needs about" in line
    assert "has 9.8 KiB free" in line
    assert list(tmp_path.iterdir()) == []


def test_an_out_on_a_file_system_of_no_size_is_named_so_not_called_full(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/proc and /sys report 0 bytes in all: no disk is full there, nothing can be written."""
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(total=0, free=0))
    out = tmp_path / "run"
    line = assert_one_line_refusal(cli(*run_args(tiny_file, out)), "a file system of no size")
    assert "free" not in line and f"cannot write {out}" in line
    assert list(tmp_path.iterdir()) == []


def test_checkpoints_count_in_the_disk_estimate(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_and_pop = {}
    real_check = scsim.simulation.resources.check

    def check(plan, pop, out, people="all", companies=0):  # type: ignore[no-untyped-def]
        plan_and_pop["args"] = (plan, pop)
        return real_check(plan, pop, out, people, companies)

    monkeypatch.setattr(scsim.simulation.resources, "check", check)
    assert cli(*run_args(tiny_file, tmp_path / "probe", "--days", "5")).exit_code == 0
    plan, pop = plan_and_pop["args"]
    output = scsim.simulation.resources.estimate(plan, pop).disk
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=output + 1))
    out = tmp_path / "run"
    line = assert_one_line_refusal(
        cli(*run_args(tiny_file, out, "--days", "5", "--checkpoint-every", "1")), "checkpoints"
    )
    assert "of disk" in line
    assert not out.exists() and leftovers(out) == []


def test_sigterm_stops_a_run_as_ctrl_c_does_and_leaves_nothing_half_written(
    tmp_path: Path,
) -> None:
    """A scheduler's `kill` (SIGTERM) mid-run: exit code 143, one line, no run directory and no
    partial directory beside it (a plain run keeps nothing to resume)."""
    out = tmp_path / "run"
    process = scsim_process(
        "run", "rongcheng", "--population", "200000", "--days", "3000", "--out", str(out)
    )
    while process.poll() is None and not leftovers(out):
        time.sleep(0.005)
    time.sleep(0.5)  # into the days
    assert process.poll() is None, "the run ended before it could be stopped"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    stderr = process.stderr.read().decode()  # type: ignore[union-attr]
    assert process.returncode == 143, stderr
    assert "partial output removed" in stderr and "Traceback" not in stderr
    assert not out.exists() and leftovers(out) == []


def test_the_python_api_checkpoints_and_resumes_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scsim
    from scsim.errors import Interrupted

    size = {"population": 5_000, "days": 30}
    whole = scsim.run("rongcheng", tmp_path / "whole", **size)
    real_step = Model.step

    def step(self: Model, day: int) -> dict:
        if day == 17:  # a kernel interrupted in a notebook
            raise KeyboardInterrupt
        return real_step(self, day)

    monkeypatch.setattr(Model, "step", step)
    with pytest.raises(Interrupted):
        scsim.run("rongcheng", tmp_path / "resumed", checkpoint_every=5, **size)
    monkeypatch.undo()
    assert not (tmp_path / "resumed").exists()
    resumed = scsim.resume(tmp_path / "resumed", progress=True)  # its bar reads the days first
    for name in ("ledger.parquet", "metrics.parquet", "people.parquet"):
        assert (resumed.path / name).read_bytes() == (whole.path / name).read_bytes(), name
    assert resumed.metrics.day.max() == 29
