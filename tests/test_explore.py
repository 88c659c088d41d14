"""The explorer without a browser: the levers a scenario declares, the scenario a page's settings
make, the file a what-if becomes, and the walls between sessions."""

from __future__ import annotations

import base64
import os
import tomllib
import uuid
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from typer.testing import CliRunner

from scsim.errors import ScenarioError, UserError
from scsim.interfaces.cli import app
from scsim.interfaces.explore import HOST, start
from scsim.interfaces.explore.jobs import (
    RUN,
    progress_of_days,
    read_progress,
    read_results,
    run_job,
    write_progress,
)
from scsim.interfaces.explore.levers import MAX_PEOPLE, lever_controls, scenario_of
from scsim.interfaces.explore.sessions import Runs, scenario_file, what_if
from scsim.scenario import builtin_names, load_scenario
from scsim.simulation.verify import verify

SMALL = {"population.size": 3000, "run.days": 20}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "city.toml"
    path.write_text(text)
    return path


def test_a_levers_control_takes_its_kind_and_bounds_from_the_schema_and_its_note_from_the_file():
    controls = {c.field: c for c in lever_controls("rongcheng")}
    misread = controls["surveillance.sensors.cameras.misattribution"]
    assert (misread.kind, misread.low, misread.high) == ("float", 0.0, 1.0)
    assert misread.note.startswith("[U]") and misread.value == 0.01
    assert controls["rulebook.rules.negative_post.points"].kind == "int"
    assert controls["rulebook.lists.court_blacklist"].kind == "switch"
    always = ["population.size", "run.days", "run.seed", "seeds"]
    assert list(controls)[:4] == always
    assert controls["population.size"].high == MAX_PEOPLE


def test_every_builtin_declares_levers_that_exist() -> None:
    for name in builtin_names():
        controls = lever_controls(name)
        assert len(controls) > 4, f"{name} declares no levers"


def test_a_lever_that_names_no_field_is_refused_in_one_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'extends = "rongcheng"\n[explorer]\nlevers = [{ field = "rulebook.rules.nope.points" }]\n',
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "explorer.levers[0].field" in str(caught.value)
    assert "rulebook.rules.nope.points" in str(caught.value) and "\n" not in str(caught.value)


def test_an_override_that_replaces_a_table_a_lever_reads_still_loads() -> None:
    """A lever only shows a value: the file is checked as written, not after overrides."""
    scenario = load_scenario(
        "corporate", overrides={"companies.employee_points": {"able_but_refuses": -3}}
    )
    assert "obstructs_enforcement" not in scenario.companies.employee_points
    fields = [c.field for c in lever_controls("corporate")]
    assert "companies.employee_points.obstructs_enforcement" in fields


def test_a_bad_value_is_refused_with_the_scenarios_own_message() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_of("rongcheng", {"surveillance.sensors.cameras.misattribution": 2})
    assert "surveillance.sensors.cameras.misattribution" in str(caught.value)
    assert "less than or equal to 1" in str(caught.value)


def test_more_people_than_the_explorer_runs_is_refused() -> None:
    with pytest.raises(ScenarioError, match="at most 1,000,000 people"):
        scenario_of("rongcheng", {"population.size": MAX_PEOPLE + 1})


def test_a_cut_off_moves_the_grade_below_so_the_grades_still_tile() -> None:
    scenario = scenario_of("rongcheng", {"rulebook.tiers.B.min": 900})
    assert scenario.rulebook.tiers["B"].min == 900
    assert scenario.rulebook.tiers["C"].max == 899


def test_a_list_switched_off_takes_nobody_in_and_a_service_switched_off_gets_no_requests():
    scenario = scenario_of(
        "rongcheng",
        {"rulebook.lists.court_blacklist": False, "rulebook.services.bank_loan": False},
    )
    assert all(r.enter_list != "court_blacklist" for r in scenario.rulebook.rules.values())
    assert scenario.rulebook.lists["court_blacklist"].enter_tiers == []
    assert scenario.rulebook.services["bank_loan"].per_year == 0.0
    unchanged = scenario_of("rongcheng", {"rulebook.lists.court_blacklist": True})
    assert unchanged.rulebook.rules["judgment_defied"].enter_list == "court_blacklist"


def test_the_what_ifs_file_loads_back_to_the_same_scenario(tmp_path: Path) -> None:
    settings = {**SMALL, "rulebook.rules.negative_post.points": -5, "rulebook.tiers.B.min": 900}
    scenario = what_if("rongcheng", settings)
    path = tmp_path / "what-if.toml"
    path.write_text(scenario_file(scenario, "rongcheng"))
    assert load_scenario(path) == scenario
    assert scenario.name == "rongcheng-what-if"  # not a second `rongcheng`


def test_a_job_writes_a_verified_run_its_results_and_the_comparison(tmp_path: Path) -> None:
    folder = tmp_path / "run-1"
    folder.mkdir()
    scenario = what_if("rongcheng", {**SMALL, "rulebook.rules.traffic_violation.points": -500})
    (folder / "scenario.toml").write_text(scenario_file(scenario, "rongcheng"))
    run_job(folder, "rongcheng", "unchanged", 2)
    assert read_progress(folder)["state"] == "done"
    assert all(check.ok for check in verify(folder / RUN))
    results = read_results(folder)
    assert results["summary"][1] == {"figure": "people", "value": "3,000"}
    assert "grades" in results["figures"]
    comparison = {row["figure"]: row for row in results["comparison"]["table"]}
    score = comparison["mean final score"]  # -500 a ticket against -5: lower
    assert score["difference"] < 0
    assert score["low"] <= score["difference"] <= score["high"]  # two seeds: an interval
    assert results["comparison"]["b"] == "rongcheng"


def test_a_runs_progress_counts_its_days_then_says_it_is_auditing(tmp_path: Path) -> None:
    on_day = progress_of_days(tmp_path, 1, 100)
    on_day(49, {})
    assert read_progress(tmp_path) == {
        "state": "running",
        "run": 0,
        "runs": 1,
        "day": 50,
        "days": 100,
    }
    on_day(99, {})
    assert read_progress(tmp_path)["state"] == "auditing"


def test_a_job_that_fails_says_why_in_a_line(tmp_path: Path) -> None:
    folder = tmp_path / "run-1"
    folder.mkdir()
    (folder / "scenario.toml").write_text("population = 3\n")
    run_job(folder, "rongcheng", "none", 1)
    progress = read_progress(folder)
    assert progress["state"] == "failed" and "\n" not in progress["message"]


def test_a_session_reaches_only_its_own_runs(tmp_path: Path) -> None:
    runs = Runs(tmp_path, workers=1)
    try:
        mine, other = uuid.uuid4().hex, uuid.uuid4().hex
        job = runs.submit(mine, "rongcheng", SMALL, "none")
        assert runs.jobs_of(mine) == [job] and runs.jobs_of(other) == []
        with pytest.raises(KeyError):
            runs.progress(other, job)
        for forged in ("../" + mine, mine[:-1], "", "run-1/../x"):
            with pytest.raises(KeyError):
                runs.progress(forged, job)
        with pytest.raises(KeyError):
            runs.progress(mine, "../" + job)
        with pytest.raises(UserError, match="seeds"):
            runs.submit(mine, "rongcheng", {**SMALL, "seeds": 0}, "none")
    finally:
        runs.close()


def test_a_run_whose_worker_dies_fails_in_a_line_and_the_next_run_runs(tmp_path: Path) -> None:
    runs = Runs(tmp_path, workers=1)
    try:
        session = uuid.uuid4().hex
        job, folder = "run-1", tmp_path / session / "run-1"
        folder.mkdir(parents=True)
        write_progress(folder, "running", 0, 1, 3, 20)
        runs.jobs[(session, job)] = runs.pool.submit(os._exit, 9)  # as the kernel's OOM kill
        with pytest.raises(BrokenProcessPool):
            runs.jobs[(session, job)].result(timeout=120)
        progress = runs.progress(session, job)
        assert progress["state"] == "failed" and "process stopped" in progress["message"]
        again = runs.submit(session, "rongcheng", SMALL, "none")
        runs.jobs[(session, again)].result(timeout=300)
        assert runs.progress(session, again)["state"] == "done"
    finally:
        runs.close()


def test_a_page_starts_only_from_what_the_explorer_offers_or_it_opened(tmp_path: Path) -> None:
    runs = Runs(tmp_path, workers=1, offered=("rongcheng",))
    try:
        session = uuid.uuid4().hex
        assert runs.source(session, "rongcheng") == "rongcheng"
        for elsewhere in ("sesame", "/etc/passwd", str(tmp_path / session / "opened" / "x.toml")):
            with pytest.raises(UserError, match="expected a built-in"):
                runs.source(session, elsewhere)
        text = 'extends = "rongcheng"\n[rulebook.rules.negative_post]\npoints = -7\n'
        opened = runs.upload(session, "my city.toml", data_url(text))
        assert runs.source(session, opened) == opened
        assert load_scenario(opened).rulebook.rules["negative_post"].points == -7
        with pytest.raises(UserError, match="expected a built-in"):
            runs.source(uuid.uuid4().hex, opened)  # another page's file
    finally:
        runs.close()


def test_an_opened_file_may_extend_a_built_in_only_and_a_bad_one_is_not_kept(
    tmp_path: Path,
) -> None:
    runs = Runs(tmp_path, workers=1)
    try:
        session = uuid.uuid4().hex
        with pytest.raises(ScenarioError, match="may extend a built-in only"):
            runs.upload(session, "a.toml", data_url('extends = "/etc/hosts"\n'))
        with pytest.raises(ScenarioError, match="invalid TOML"):
            runs.upload(session, "b.toml", data_url("population = [\n"))
        assert list((tmp_path / session / "opened").iterdir()) == []
    finally:
        runs.close()


def data_url(text: str) -> str:
    return "data:application/toml;base64," + base64.b64encode(text.encode()).decode()


def test_a_runs_files_are_served_to_its_own_page_only(tmp_path: Path) -> None:
    explorer = start("rongcheng", tmp_path, port=0, workers=1, thread=True)
    try:
        mine, other = uuid.uuid4().hex, uuid.uuid4().hex
        job = explorer.runs.submit(mine, "rongcheng", SMALL, "none")
        explorer.runs.jobs[(mine, job)].result(timeout=300)
        with urlopen(f"{explorer.url}download/{mine}/{job}/scenario.toml") as got:
            assert tomllib.loads(got.read().decode())["name"] == "rongcheng-what-if"
        with urlopen(f"{explorer.url}download/{mine}/{job}/run.zip") as got:
            assert got.read(2) == b"PK"
        for path in (f"{other}/{job}/scenario.toml", f"{mine}/{job}/run.json", f"{mine}/x/run.zip"):
            with pytest.raises(HTTPError) as refused:
                urlopen(f"{explorer.url}download/{path}")
            assert refused.value.code == 404
    finally:
        explorer.stop()


def test_a_file_given_to_explore_is_offered_first_beside_the_built_ins(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "sesame"\n')
    explorer = start(str(path), tmp_path / "runs", port=0, thread=True)
    try:
        assert explorer.runs.offered[0] == str(path.resolve())
        assert set(builtin_names()) <= set(explorer.runs.offered)
        session = uuid.uuid4().hex
        assert explorer.runs.source(session, str(path.resolve())) == str(path.resolve())
    finally:
        explorer.stop()


def test_the_explorer_listens_on_localhost_unless_told(tmp_path: Path) -> None:
    assert HOST == "127.0.0.1"
    explorer = start("rongcheng", tmp_path, port=0, thread=True)
    try:
        assert explorer.url.startswith("http://127.0.0.1:")
        assert explorer.server.server_address[0] == "127.0.0.1"
    finally:
        explorer.stop()


def test_explore_with_a_bad_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "rongcheng"\n[run]\ndays = 0\n')
    result = CliRunner().invoke(app, ["explore", str(path), "--no-browser", "--port", "0"])
    assert result.exit_code == 2
    assert "run.days" in result.output and "Traceback" not in result.output
