"""The library of built-in scenarios: each says what it represents and where its figures come
from, and each runs end to end at a small size, through `scsim.run` and through the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import cli

import scsim
from scsim.scenario import builtin_names, load_scenario
from scsim.scenario.loader import builtin_path
from scsim.scenario.schema.places import grade_names

NEW = ("sesame", "court-blacklist", "youth-app", "western-credit", "corporate", "pilots")
SMALL = {"population": 10_000, "days": 30}


def test_the_library_holds_every_reading() -> None:
    assert set(NEW) | {"rongcheng", "national-score"} <= set(builtin_names())


@pytest.mark.parametrize("name", builtin_names())
def test_each_builtin_has_a_one_line_description_and_sources(name: str) -> None:
    s = load_scenario(name)
    assert s.description and "\n" not in s.description
    assert s.sources


@pytest.mark.parametrize("name", NEW)
def test_every_figure_line_of_a_new_builtin_is_sourced_or_marked(name: str) -> None:
    """A number in a rulebook or behaviour section comes with a source or a mark, on its line
    or in the comment block just above it."""
    lines = builtin_path(name).read_text().splitlines()
    section, comment_above = "", False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            section, comment_above = stripped, comment_above or "#" in stripped
            continue
        if not stripped or stripped.startswith("#"):
            comment_above = bool(stripped)
            continue
        key = stripped.split("=")[0].strip()
        figure = re.search(r"=\s*-?[\d.]", stripped) and key not in ("day", "seed", "days")
        sections = ("[rulebook", "[behaviour", "[surveillance", "[companies", "[places")
        if figure and section.startswith(sections):
            assert "#" in line or comment_above, f"{name}: unsourced figure {stripped!r}"


@pytest.mark.parametrize("name", NEW)
def test_default_sizes_stay_small_enough_to_run_in_a_minute(name: str) -> None:
    assert load_scenario(name).population.size <= 1_000_000


@pytest.mark.parametrize("name", builtin_names())
def test_each_builtin_runs_end_to_end_at_a_small_size(name: str, tmp_path: Path) -> None:
    result = scsim.run(name, tmp_path / name, **SMALL)
    metrics = result.metrics
    assert len(metrics) == SMALL["days"]
    assert metrics["records"].sum() <= metrics["true_events"].sum() + metrics["records_false"].sum()
    s = load_scenario(name)
    tiers = metrics[[f"tier_{t}" for t in grade_names(s)]].sum(axis=1)  # places' grades too
    assert (tiers == SMALL["population"]).all()
    assert len(result.people) == SMALL["population"]


def test_sesame_rewards_only_the_graded_above_600(tmp_path: Path) -> None:
    result = scsim.run("sesame", tmp_path / "s", **SMALL)
    assert result.metrics["deposit_free_bike_rewards"].sum() > 0
    assert result.metrics["deposit_free_bike_blocked"].sum() == 0
    assert (result.ledger["origin"] != "misidentified").all()  # financial records only


def test_court_blacklist_has_no_score_and_blocks_travel(tmp_path: Path) -> None:
    overrides = {"behaviour.events.able_but_refuses.per_year": 0.2}
    result = scsim.run("court-blacklist", tmp_path / "c", overrides=overrides, **SMALL)
    m = result.metrics
    assert (m["score_mean"] == 0).all()
    assert m["court_list_until_performed_entries"].sum() > 0
    assert m["flight_blocked"].sum() + m["train_blocked"].sum() > 0


def test_youth_app_refuses_public_sector_jobs_to_laggards(tmp_path: Path) -> None:
    overrides = {"rulebook.rules.criticism.points": -200}
    result = scsim.run("youth-app", tmp_path / "y", overrides=overrides, days=60, population=5_000)
    assert result.metrics["public_sector_job_blocked"].sum() > 0


def test_western_credit_has_no_cameras_no_association_and_no_lists() -> None:
    s = load_scenario("western-credit")
    assert not s.rulebook.lists
    assert all(
        rule.spillover.household == rule.spillover.friends == 0
        for rule in s.rulebook.rules.values()
    )
    assert list(s.surveillance.sensors) == ["credit_bureau"]


def test_the_cli_lists_and_runs_a_new_builtin(tmp_path: Path) -> None:
    listed = cli("scenarios")
    assert listed.exit_code == 0
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert set(NEW) <= set(names)
    out = tmp_path / "run"
    outcome = cli(
        "run", "court-blacklist", "--population", "10000", "--days", "30", "--out", str(out)
    )
    assert outcome.exit_code == 0, outcome.text
    assert (out / "metrics.parquet").exists()
