"""The `scsim` command end to end: what it prints, what it writes, and how it refuses."""

from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from conftest import (
    RUN_FILES,
    TINY_PEOPLE,
    TinyRun,
    assert_one_line_refusal,
    cli,
    console_script,
    leftovers,
    summary_rows,
    write_scenario,
)
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

import scsim
import scsim.simulation.resources
from scsim.engine.model import Model
from scsim.engine.state import People
from scsim.errors import ResourceError
from scsim.experiments.sensitivity import indices_table
from scsim.interfaces.cli import _count
from scsim.report.terminal import compare_table
from scsim.scenario import builtin_names, load_scenario
from scsim.scenario.loader import builtin_path
from scsim.simulation.summary import MECHANISMS

SUMMARY_FIGURES = (
    "people",
    "days",
    "true events",
    "records",
    "of which false",
    "listed now: court_blacklist",
    "blocked flight requests",
    "blocked train requests",
    "sanctions on people with a false record",
    "people with a false record",
    "wall time",
)


# ---------------------------------------------------------------- scsim run


def test_run_of_a_builtin_prints_the_summary_and_writes_the_run_directory(tmp_path: Path) -> None:
    out = tmp_path / "rongcheng"
    outcome = cli(
        "run",
        "rongcheng",
        "--population",
        "20000",
        "--days",
        "60",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert outcome.exit_code == 0, outcome.text
    rows = summary_rows(outcome.stdout)
    assert rows["people"] == "20,000"
    assert rows["days"] == "60"
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["seed"] == 3
    assert manifest["scenario"]["population"]["size"] == 20_000
    assert manifest["scenario"]["run"]["days"] == 60


def test_a_list_entered_by_grade_shows_its_entries_by_grade(tmp_path: Path) -> None:
    """rongcheng's green channel takes in people who reach AAA, on no record: its row says how
    many it took in that way, not "0 entries"."""
    out = tmp_path / "rongcheng"
    outcome = cli("run", "rongcheng", "--population", "20000", "--seed", "3", "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    summary = json.loads((out / "run.json").read_text())["summary"]
    metrics = pd.read_parquet(out / "metrics.parquet")
    by_grade = summary["listing_entries_by_grade"]
    assert by_grade["green_channel"] == metrics["green_channel_entries_by_grade"].sum() > 0
    assert summary["listing_entries"]["green_channel"] == 0
    rows = summary_rows(outcome.stdout)
    now = summary["listed_now"]["green_channel"]
    assert rows["listed now: green_channel"] == f"{now:,} ({by_grade['green_channel']:,} by grade)"
    entries = summary["listing_entries"]["court_blacklist"]
    assert rows["listed now: court_blacklist"].endswith(f"({entries:,} entries)")


def test_run_of_a_scenario_file_prints_every_summary_figure(tiny_run: TinyRun) -> None:
    rows = summary_rows(tiny_run.outcome.stdout)
    labels = " | ".join(rows)
    for figure in SUMMARY_FIGURES:
        assert figure in labels, f"{figure!r} missing from the summary table: {labels}"
    assert "scsim run: tiny" in tiny_run.outcome.stdout
    assert str(tiny_run.path) in tiny_run.outcome.stdout.replace("\n", "")


def test_summary_table_shows_the_figures_recorded_in_run_json(tiny_run: TinyRun) -> None:
    summary = json.loads((tiny_run.path / "run.json").read_text())["summary"]
    rows = summary_rows(tiny_run.outcome.stdout)
    assert rows["people"] == f"{summary['people']:,}"
    assert rows["days"] == f"{summary['days']:,}"
    assert rows["true events"] == f"{summary['true_events']:,}"
    assert rows["records"] == f"{summary['records']:,}"
    assert rows["of which false"].startswith(f"{summary['records_false']:,} (")
    listed = summary["listed_now"]["court_blacklist"]
    entries = summary["listing_entries"]["court_blacklist"]
    assert rows["listed now: court_blacklist"] == f"{listed:,} ({entries:,} entries)"
    assert rows["blocked flight requests"] == f"{summary['blocked']['flight']:,}"
    assert rows["blocked train requests"] == f"{summary['blocked']['train']:,}"
    assert rows["sanctions on people with a false record"] == (
        f"{summary['sanctions_on_people_with_false_record']:,}"
    )
    assert rows["of which wrongful (caused by a false record)"] == (  # the report's term
        f"{summary['wrongful_sanctions']:,}"
    )
    assert rows["people with a false record (own or by association)"] == (
        f"{summary['people_with_false_record']:,}"
    )
    if summary["association_charges"]:
        assert rows["charges by association"] == f"{summary['association_charges']:,}"
    assert re.fullmatch(r"\d+\.\d s", rows["wall time"])


@pytest.mark.parametrize(
    ("name", "days"), [("corporate", 400), ("youth-app", 60), ("national-score", 60)]
)
def test_summary_table_shows_what_the_scenarios_mechanisms_did(
    name: str, days: int, tmp_path: Path
) -> None:
    """Each line is the run's metrics summed (or on the last day): companies' grades and
    sanctions, lists entered by companies' representatives (a list of 18 people showed 16
    entries), rewards, speech, suspensions, the gray market, informants."""
    out = tmp_path / name
    outcome = cli("run", name, "--population", "20000", "--days", str(days), "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    rows = summary_rows(outcome.stdout)
    metrics = pd.read_parquet(out / "metrics.parquet")
    last = metrics.iloc[-1]
    for key, label in MECHANISMS.items():
        if key in metrics:
            assert rows[label.strip()] == f"{int(metrics[key].sum()):,}", label
    book = load_scenario(name).rulebook
    for service in (n for n, s in book.services.items() if s.reward_tiers):
        granted = int(metrics[f"{service}_rewards"].sum())
        assert rows[f"rewards granted: {service}"] == f"{granted:,}"
    if name == "corporate":
        grades = ", ".join(f"{g} {int(last[f'company_grade_{g}']):,}" for g in "ABCD")
        assert rows["companies by grade now"] == grades
        sanctions = metrics.filter(regex=r"^company_\w+_sanctions$").to_numpy().sum()
        assert rows["sanctions on companies"] == f"{int(sanctions):,}"
        representatives = int(metrics["representatives_listed"].sum())
        assert representatives > 0  # 400 days: some company has fallen to D
        entries = int(metrics["court_list_entries"].sum())
        assert rows["listed now: court_list"] == (
            f"{int(last['court_list_size']):,} ({entries:,} entries, "
            f"{representatives:,} as companies' representatives)"
        )
    else:
        assert "companies by grade now" not in rows


def test_the_summary_counts_every_kind_of_wrongful_harm_and_their_total(tmp_path: Path) -> None:
    """national-score's grade burdens fall on people with false records: the terminal said
    "wrongful 0" (refusals) beside a report of wrongful officer visits. Every kind is a row,
    each the run's metrics summed, and the total adds them (a public naming is part of its
    listing, not a harm counted twice)."""
    out = tmp_path / "nation"
    outcome = cli(
        "run", "national-score", "--population", "100000", "--days", "120", "--out", str(out)
    )
    assert outcome.exit_code == 0, outcome.text
    rows = summary_rows(outcome.stdout)
    metrics = pd.read_parquet(out / "metrics.parquet")
    wrongful = [c for c in metrics if c.endswith("_wrongful") and not c.endswith("_size_wrongful")]
    kinds = {
        "refusals (the wrongful sanctions above)": ["sanctions_wrongful"],
        "listings": [c for c in wrongful if c.endswith("_entries_wrongful")],
        "account suspensions": ["accounts_suspended_wrongful"],
        "burden: officer visit": ["burden_officer_visit_wrongful"],
        "burden: search": ["burden_search_wrongful"],
        "premiums: loan": ["loan_premiums_wrongful"],
        "named: employer told": ["shamed_employer_told_wrongful"],
        "named: friends keep away": ["shamed_friends_keep_away_wrongful"],
        "named: job lost": ["shamed_job_lost_wrongful"],
    }
    for label, columns in kinds.items():
        assert rows[label] == f"{int(metrics[columns].to_numpy().sum()):,}", label
    burdens = int(metrics.burden_officer_visit_wrongful.sum())
    refusals = f"{int(metrics.sanctions_wrongful.sum()):,}"
    assert burdens > 0 and rows["of which wrongful (caused by a false record)"] == refusals
    counted = {c for columns in kinds.values() for c in columns}
    total = int(metrics[sorted(counted)].to_numpy().sum())
    assert rows["wrongful harms, all kinds (false records)"] == f"{total:,}"
    assert counted >= {c for c in wrongful if c.startswith(("burden_", "accounts_"))}


def test_a_file_runs_into_runs_under_its_own_name_and_version_prints(tmp_path: Path) -> None:
    """A file runs into runs/STEM: `scsim show rongcheng > my-city.toml` once kept the name
    rongcheng, and its run went to runs/rongcheng, the built-in's run directory."""
    shown = console_script("show", "rongcheng")
    (tmp_path / "my-city.toml").write_text(shown.stdout)
    args = ("run", "my-city.toml", "--population", "2000", "--days", "3")
    outcome = console_script(*args, cwd=tmp_path)
    assert outcome.exit_code == 0, outcome.text
    assert (tmp_path / "runs" / "my-city" / "run.json").is_file()
    assert console_script("--version").stdout == f"scsim {scsim.__version__}\n"


def test_console_script_runs_a_scenario_file_and_exits_0(tiny_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    outcome = console_script("run", str(tiny_file), "--days", "10", "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    assert summary_rows(outcome.stdout)["days"] == "10"
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    assert "Traceback" not in outcome.text


def test_existing_out_is_refused_with_exit_2_and_left_untouched(
    tiny_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    outcome = cli("run", str(tiny_file), "--days", "5", "--out", str(out))
    line = assert_one_line_refusal(outcome)
    assert str(out) in line
    assert "--force" in line
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    assert leftovers(out) == []


def test_force_replaces_a_previous_run_and_an_empty_folder(tiny_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()  # empty: nothing of anyone's to lose
    for days in ("5", "6"):  # the second replaces the first run
        outcome = cli("run", str(tiny_file), "--days", days, "--out", str(out), "--force")
        assert outcome.exit_code == 0, outcome.text
        assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
        assert json.loads((out / "run.json").read_text())["summary"]["days"] == int(days)
        assert leftovers(out) == []


def test_force_never_deletes_what_scsim_did_not_write(tiny_file: Path, tmp_path: Path) -> None:
    """A mistyped --out with --force: a folder of someone's files, or a file, is refused
    before the run and left as it was (it was deleted, or renamed to a hidden name)."""
    folder, file = tmp_path / "mydata", tmp_path / "notes.txt"
    folder.mkdir()
    (folder / "thesis.docx").write_text("years of work")
    file.write_text("keep me")
    for out, words in ((folder, ("not empty", "run.json")), (file, ("is a file",))):
        outcome = cli("run", str(tiny_file), "--days", "5", "--out", str(out), "--force")
        assert str(out) in assert_one_line_refusal(outcome, *words, "--out")
    assert (folder / "thesis.docx").read_text() == "years of work"
    assert file.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydata", "notes.txt"]


def test_force_needs_scsims_own_run_json_not_any_file_of_that_name(
    tiny_file: Path, tmp_path: Path
) -> None:
    """A project folder with a run.json of its own (a common name) is not a run directory."""
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "run.json").write_text('{"name": "x"}')
    (project / "src" / "main.py").write_text("code")
    outcome = cli("run", str(tiny_file), "--days", "5", "--out", str(project), "--force")
    assert_one_line_refusal(outcome, "no run.json of scsim's")
    assert (project / "src" / "main.py").read_text() == "code"


@pytest.mark.parametrize("tail", ["x/..", "new/.."])
def test_an_out_ending_in_dots_is_refused_before_the_run(
    tiny_file: Path, tmp_path: Path, tail: str
) -> None:
    """runs/x/.. passed the checks (it did not exist yet) and failed renaming after the run."""
    run = tmp_path / "run"
    run.mkdir()
    outcome = cli("run", str(tiny_file), "--days", "5", "--out", f"{run}/{tail}")
    assert_one_line_refusal(outcome, "name the folder itself")
    assert list(run.iterdir()) == []


def test_an_out_that_cannot_be_written_is_refused_before_the_run(
    tiny_file: Path, tmp_path: Path
) -> None:
    file = tmp_path / "afile"
    file.write_text("x")
    outcome = cli("run", str(tiny_file), "--out", str(file / "sub"))
    assert_one_line_refusal(outcome, "is a file, not a folder")
    here = console_script("run", str(tiny_file), "--out", ".", "--force", cwd=tmp_path)
    assert_one_line_refusal(here, "name the folder itself")
    here = console_script("run", str(tiny_file), "--out", str(tmp_path), "--force", cwd=tmp_path)
    assert_one_line_refusal(here, "holds the current folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_run_of_an_unknown_name_is_refused_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "run"
    line = assert_one_line_refusal(cli("run", "atlantis", "--out", str(out)))
    assert "'atlantis'" in line
    assert "rongcheng" in line
    assert_nothing_written(out)


@given(st.integers(min_value=1, max_value=10**15))
def test_a_count_of_people_reads_as_a_user_writes_it(n: int) -> None:
    assert _count(str(n)) == _count(f"{n:,}") == _count(f"{n:_}") == _count(f"{n:.17e}") == n


@pytest.mark.parametrize(("written", "people"), [("1.2e4", "12,000"), ("12_000", "12,000")])
def test_population_in_scientific_notation_runs_that_many(
    written: str, people: str, tiny_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    outcome = cli("run", str(tiny_file), "--population", written, "--days", "2", "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    assert summary_rows(outcome.stdout)["people"] == people


@pytest.mark.parametrize("written", ["2.5", "1e-3", "many", "1e400"])
def test_a_population_that_is_not_a_whole_number_is_refused(
    written: str, tiny_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    outcome = cli("run", str(tiny_file), "--population", written, "--out", str(out))
    assert outcome.exit_code == 2
    assert "expected a whole number" in outcome.text
    assert "Traceback" not in outcome.text
    assert_nothing_written(out)


# ---------------------------------------------------------------- scenarios, validate, show


def test_scenarios_lists_each_builtin_on_one_line() -> None:
    outcome = cli("scenarios")
    assert outcome.exit_code == 0, outcome.text
    lines = outcome.stdout.splitlines()
    assert len(lines) == len(builtin_names())
    (rongcheng,) = [line for line in lines if line.split()[0] == "rongcheng"]
    assert "1000-point city pilot" in rongcheng
    piped = console_script("scenarios")  # not a terminal: whole descriptions, for grep
    whole = " ".join(load_scenario("rongcheng").description.split())
    assert f"{'rongcheng':<18} {whole}" in piped.stdout.splitlines()


def test_validate_accepts_a_good_file_with_exit_0(tiny_file: Path) -> None:
    outcome = cli("validate", str(tiny_file))
    assert outcome.exit_code == 0, outcome.text
    said = " ".join(outcome.stdout.split())  # rich wraps at the console width
    assert f"valid scenario tiny ({TINY_PEOPLE:,} people, 60 days)" in said
    assert outcome.stderr == ""


@pytest.mark.parametrize("name", builtin_names())
def test_show_prints_the_builtins_file_with_its_comments_under_a_name_of_its_own(
    name: str, tmp_path: Path
) -> None:
    """The sources and [U] marks are comments: a resolved dump dropped them. The copy is named
    NAME-copy, so an edited copy is its own scenario, and loads to the built-in but for that."""
    outcome = cli("show", name)
    assert outcome.exit_code == 0, outcome.text
    assert outcome.stdout == builtin_path(name).read_text().replace(
        f'name = "{name}"', f'name = "{name}-copy"  # the built-in {name}, copied: rename it', 1
    )
    assert "[U]" in outcome.stdout and "\n# " in outcome.stdout
    path = write_scenario(tmp_path, "shown.toml", outcome.stdout)
    validated = cli("validate", str(path))
    assert validated.exit_code == 0, validated.text
    copy = load_scenario(path)
    assert copy.name == f"{name}-copy"
    assert copy.model_copy(update={"name": name}) == load_scenario(name)


def test_show_resolved_prints_toml_that_parses_and_validates_back(tmp_path: Path) -> None:
    outcome = cli("show", "rongcheng", "--resolved")
    assert outcome.exit_code == 0, outcome.text
    shown = tomllib.loads(outcome.stdout)
    assert shown["name"] == "rongcheng"
    assert "extends" not in shown
    path = write_scenario(tmp_path, "shown.toml", outcome.stdout)
    validated = cli("validate", str(path))
    assert validated.exit_code == 0, validated.text
    assert load_scenario(path) == load_scenario("rongcheng")


def test_show_of_a_file_merges_its_extends(tiny_file: Path) -> None:
    outcome = cli("show", str(tiny_file))
    assert outcome.exit_code == 0, outcome.text
    shown = tomllib.loads(outcome.stdout)
    assert "extends" not in shown
    assert shown["name"] == "tiny"
    assert shown["population"]["size"] == TINY_PEOPLE
    assert shown["rulebook"]["tiers"]["AAA"]["min"] == 1050  # inherited from rongcheng


# ---------------------------------------------------------------- bad input


def bad_scenarios(folder: Path) -> dict[str, tuple[Path, str, list[str]]]:
    """Each bad scenario: the file to pass, the file the message must name, and the words the
    message must contain (the dotted field path first, then what was expected)."""

    def file(name: str, text: str) -> Path:
        return write_scenario(folder, name, text)

    base = 'extends = "rongcheng"\n'
    cases = {
        "syntax_error": (
            file("syntax.toml", base + "[run\ndays = 3\n"),
            ["invalid TOML", "line 2"],
        ),
        "unknown_field": (
            file("unknown.toml", base + "[run]\ndayz = 3\n"),
            ["run.dayz", "unknown field", "days, start, seed"],
        ),
        "wrong_type": (
            file("type.toml", base + '[run]\ndays = "many"\n'),
            ["run.days", "valid integer", "'many'"],
        ),
        "negative_rate": (
            file("rate.toml", base + "[behaviour.events.traffic_violation]\nper_year = -0.3\n"),
            ["behaviour.events.traffic_violation.per_year", "greater than or equal to 0", "-0.3"],
        ),
        "probability_over_1": (
            file("prob.toml", base + "[surveillance.sensors.cameras]\ndetection = 1.5\n"),
            ["surveillance.sensors.cameras.detection", "less than or equal to 1", "1.5"],
        ),
        "overlapping_tiers": (
            file("tiers.toml", base + "[rulebook.tiers.AA]\nmin = 1030\nmax = 1060\n"),
            ["rulebook", "tiers AA", "AAA", "overlap"],
        ),
        "unknown_builtin_in_extends": (
            file("atlantis.toml", 'extends = "atlantis"\n'),
            ["extends", "'atlantis'", "rongcheng"],
        ),
    }
    cases = {name: (path, path, words) for name, (path, words) in cases.items()}
    first = file("first.toml", 'extends = "second.toml"\n')
    second = file("second.toml", 'extends = "first.toml"\n')
    cases["extends_cycle"] = (first, second, ["extends", "cycle", "first.toml", "second.toml"])
    return cases


BAD = (
    "syntax_error",
    "unknown_field",
    "wrong_type",
    "negative_rate",
    "probability_over_1",
    "overlapping_tiers",
    "unknown_builtin_in_extends",
    "extends_cycle",
)


@pytest.mark.parametrize("command", ["run", "validate", "show"])
@pytest.mark.parametrize("case", BAD)
def test_bad_scenario_is_refused_in_one_line_naming_file_field_and_expectation(
    case: str, command: str, tmp_path: Path
) -> None:
    given, named, words = bad_scenarios(tmp_path)[case]
    out = tmp_path / "out" / "run"
    args = ["run", str(given), "--out", str(out)] if command == "run" else [command, str(given)]
    line = assert_one_line_refusal(cli(*args))
    assert_names(line, named, words)
    assert_nothing_written(out)


@pytest.mark.parametrize("case", ["syntax_error", "unknown_field"])
def test_console_script_refuses_a_bad_scenario_with_exit_code_2(case: str, tmp_path: Path) -> None:
    given, named, words = bad_scenarios(tmp_path)[case]
    out = tmp_path / "out" / "run"
    outcome = console_script("run", str(given), "--out", str(out))
    line = assert_one_line_refusal(outcome)
    assert_names(line, named, words)
    assert outcome.stdout == ""
    assert_nothing_written(out)


def test_population_too_big_for_memory_is_refused_with_an_estimate_in_gib(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Patched so the test means the same on any machine, and never allocates for 3.9 bn people.
    monkeypatch.setattr(scsim.simulation.resources, "available_memory", lambda: 4 * 2**30)
    out = tmp_path / "out" / "run"
    line = assert_one_line_refusal(
        cli("run", str(tiny_file), "--population", "3900000000", "--out", str(out))
    )
    assert "3,900,000,000 people" in line
    assert "memory" in line
    assert re.search(r"needs (about|at least) \d+(\.\d+)? GiB", line), line
    assert "4.0 GiB available" in line
    assert_nothing_written(out)


def test_run_too_big_for_memory_is_refused_before_the_population_is_built(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Enough for the per-person state alone, not for the day's events: the full estimate refuses.
    have = scsim.simulation.resources.memory_needed_before_building(TINY_PEOPLE) + 1
    monkeypatch.setattr(scsim.simulation.resources, "available_memory", lambda: have)
    built = []
    real_fresh = People.fresh.__func__

    def fresh(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(args)
        return real_fresh(cls, *args, **kwargs)

    monkeypatch.setattr(People, "fresh", classmethod(fresh))
    out = tmp_path / "run"
    outcome = cli("run", str(tiny_file), "--out", str(out))
    assert outcome.exit_code == 2, outcome.text
    assert "memory" in outcome.stderr
    assert_nothing_written(out)
    assert built == [], "per-person state was allocated before the memory check refused the run"


def test_refusal_from_inside_the_run_is_still_one_line_on_stderr(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def check(plan, pop, out, people="all", companies=0):  # type: ignore[no-untyped-def]
        raise ResourceError("the output needs about 9.0 GiB of disk; 1.0 GiB is free")

    monkeypatch.setattr(scsim.simulation.resources, "check", check)
    out = tmp_path / "run"
    line = assert_one_line_refusal(cli("run", str(tiny_file), "--out", str(out)))
    assert "GiB of disk" in line
    assert_nothing_written(out)


def test_interrupted_run_exits_130_and_leaves_nothing(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_step = Model.step

    def step(self: Model, day: int) -> dict:
        if day == 3:
            raise KeyboardInterrupt
        return real_step(self, day)

    monkeypatch.setattr(Model, "step", step)
    out = tmp_path / "run"
    outcome = cli("run", str(tiny_file), "--out", str(out))
    assert outcome.exit_code == 130
    assert "interrupted" in outcome.stderr
    assert "Traceback" not in outcome.text
    assert_nothing_written(out)


def test_help_joins_wrapped_docstrings_and_shows_every_default() -> None:
    """Help text is markdown: a docstring's wrapped lines make one paragraph (not a line break
    where the source wrapped), and "[default: ...]" is text, not markup to swallow."""
    listing = " ".join(cli("--help").stdout.split())
    assert "compare with run.json: exit 0 if all match, 1 naming each file" in (
        listing.replace("│ ", "").replace(" │", "")
    )
    for command, default in [("report", "RUN/report.html"), ("compare", "runs/compare-A-vs-B")]:
        shown = " ".join(cli(command, "--help").stdout.replace("│", " ").split())
        assert f"[default: {default}]" in shown, command


# ---------------------------------------------------------------- helpers


def assert_names(line: str, file: Path, words: list[str]) -> None:
    assert str(file) in line, f"{file} not named in {line!r}"
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"


def assert_nothing_written(out: Path) -> None:
    assert not out.exists()
    assert leftovers(out) == []


# ---------------------------------------------------------------- 80 columns, piped


def _rendered(renderable: object, width: int = 80) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=False).print(renderable)
    return out.getvalue().splitlines()


def test_a_piped_comparison_wraps_by_rows_and_cuts_no_word_or_number() -> None:
    table = pd.DataFrame(
        {
            "figure": ["critical speech per 1,000 people a year", "listing entries: court_list"],
            "a": [15.208, 1_234_567.5],
            "b": [23.725, 1_000_000.0],
            "difference": [-8.517, 234_567.5],
            "low": [-47.165, 200_000.25],
            "high": [30.131, 269_134.75],
        }
    )
    table.attrs.update(a="national-score", b="national-score-none", seeds=[1, 2])
    lines = _rendered(compare_table(table, width=80))
    assert max(map(len, lines)) <= 80
    assert "critical speech per 1,000 people a year" in lines  # a figure on a line of its own
    assert "  A 15.2   B 23.7   A - B -8.52   95% interval -47.2 .. 30.1" in lines
    assert "1,234,567.5" in " ".join(lines) and "+234,567.5" in " ".join(lines)
    wide = _rendered(compare_table(table, width=200), width=200)  # a table where it fits
    assert any("│ critical speech per 1,000 people a year │" in line for line in wide)


def test_a_piped_sensitivity_table_keeps_each_parameter_whole() -> None:
    parameter = "surveillance.sensors.cameras.misattribution"
    indices = pd.DataFrame(
        {
            "metric": ["sanctions_wrongful", "sanctions_wrongful", "records"],
            "parameter": [parameter, "rulebook.rules.traffic_violation.points", parameter],
            "S1": [0.61, 0.2, float("nan")],
            "S1_conf": [0.1, 0.05, float("nan")],
            "ST": [0.7, 0.3, float("nan")],
            "ST_conf": [0.12, 0.06, float("nan")],
        }
    )
    lines = _rendered(indices_table(indices, width=80))
    assert max(map(len, lines)) <= 80
    assert f"  {parameter}" in lines and "records" in lines
    assert "    S1 alone 0.61 ± 0.10   ST with the others 0.70 ± 0.12" in lines


def test_a_piped_corporate_summary_keeps_every_figure_on_one_line(tmp_path: Path) -> None:
    out = tmp_path / "corporate"
    outcome = cli("run", "corporate", "--population", "20000", "--days", "60", "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    lines = [line for line in outcome.stdout.splitlines() if not line.startswith("run directory")]
    assert max(map(len, lines)) <= 80  # the run directory's path is whole, for copying
    for label in (
        "people with a false record (own or by association)",
        "of which wrongful (caused by a false record)",
        "listed now: court_list_until_performed",
    ):
        assert any(label in line for line in lines), label
