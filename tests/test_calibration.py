"""Calendar time, the court list's counters, the calibration table, the fit and prediction."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import run_days, scenario
from typer.testing import CliRunner

from scsim.audit.published import interval
from scsim.audit.series import target_value
from scsim.engine.ledger import ORIGIN
from scsim.engine.model import Model
from scsim.errors import ScenarioError, UserError
from scsim.experiments.calibration import calibration_table, loss, predict, run_metrics
from scsim.experiments.calibration.fit import evaluate, fit, held_out, refine, write_fitted
from scsim.interfaces.cli import app
from scsim.scenario import load_scenario

LISTED_FLYER = {
    "behaviour": {"events": {"defy": {"per_year": 0.0}}},
    "surveillance": {
        "sensors": {"court": {"events": ["defy"], "detection": 1.0, "delay_days": 1}}
    },  # a late sensor: its records wait in the calendar, where the tests put theirs
    "rulebook": {
        "rules": {"defy": {"points": 0, "enter_list": "court"}},
        "lists": {"court": {"term_days": 0}},
        "services": {"flight": {"per_year": 0.0, "blocked_lists": ["court"], "retry": 0.0}},
    },
    "calibration": {
        "series": {
            "listing_entries": {"columns": ["court_cases"]},
            "flight_purchases_blocked": {"columns": ["flight_blocked"]},
            "on_list_now": {"columns": ["court_size"], "measure": "stock"},
            "complied": {"columns": ["court_complied"]},
        },
    },
    "run": {"days": 12},
}


def test_one_listed_person_flying_three_times_counts_as_the_published_figures_count() -> None:
    """docs/sources.md: blocked purchases, not people; entries, not people; the list, a stock."""
    s = scenario(**LISTED_FLYER)
    model = Model.build(s)
    one = np.array([42])
    model.state.calendar.schedule(  # a court's record of person 42, taking effect on day 1
        "record",
        np.array([1]),
        person=one,
        event=np.zeros(1, np.int16),
        sensor=np.zeros(1, np.int16),
        origin=np.array([ORIGIN["detected"]], np.uint8),
    )
    model.state.calendar.schedule(  # ... who then tries to book a flight on days 3, 5 and 8
        "retry", np.array([3, 5, 8]), person=np.repeat(one, 3), service=np.zeros(3, np.int64)
    )
    metrics = pd.DataFrame(run_days(model, 12))
    last = 11
    assert target(s, metrics, "flight_purchases_blocked", last) == 3
    assert target(s, metrics, "listing_entries", last) == 1
    assert target(s, metrics, "on_list_now", last) == 1
    assert target(s, metrics, "complied", last) == 0
    assert target(s, metrics, "flight_purchases_blocked", 4) == 1  # cumulative, by its day


def target(s, metrics: pd.DataFrame, series: str, day: int) -> float:  # type: ignore[no-untyped-def]
    from scsim.scenario.schema import Target

    return target_value(s, metrics, Target(series=series, day=day, value=1.0))


def test_a_further_case_of_a_listed_person_is_an_entry_but_not_a_new_debtor() -> None:
    s = scenario(**LISTED_FLYER)
    model = Model.build(s)
    for day in (1, 4):  # two cases against the same person
        model.state.calendar.schedule(
            "record",
            np.array([day]),
            person=np.array([7]),
            event=np.zeros(1, np.int16),
            sensor=np.zeros(1, np.int16),
            origin=np.array([ORIGIN["detected"]], np.uint8),
        )
    rows = run_days(model, 6)
    assert sum(r["court_cases"] for r in rows) == 2
    assert sum(r["court_entries"] for r in rows) == 1


NOTHING = {"events": {"defy": {"per_year": 0.0}}}
HAND_METRICS = pd.DataFrame(
    {"day": range(5), "a": [1, 2, 3, 4, 5], "b": [0, 1, 0, 1, 0], "stock": [9, 8, 7, 6, 5]}
)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"series": "flows", "day": 2}, (1 + 2 + 3 + 0 + 1 + 0) * 10.0),  # cumulative, scaled
        ({"series": "level", "day": 3}, 60.0),  # a stock at the end of its day
        ({"series": "flows", "day": 4, "since": "2020-01-02"}, (3 + 4 + 5 + 0 + 1 + 0) * 10.0),
        ({"series": "flows", "day": 4, "per": "just_a"}, 17 / 15),  # a share is not scaled
        ({"series": "flows", "day": 9}, math.nan),  # past the run's end
    ],
)
def test_series_count_as_their_definitions_say(target: dict, expected: float) -> None:
    from scsim.scenario.schema import Target

    s = scenario(
        behaviour=NOTHING,
        run={"start": "2020-01-01", "days": 5},
        calibration={
            "population": 100_000,
            "series": {
                "flows": {"columns": ["a", "b"]},
                "just_a": {"columns": ["a"]},
                "level": {"columns": ["stock"], "measure": "stock"},
            },
        },
    )  # population.size 10,000 -> each person stands for 10
    value = target_value(s, HAND_METRICS, Target(value=1.0, **target))
    assert value == pytest.approx(expected, nan_ok=True)


def test_the_table_compares_each_target_and_the_loss_is_zero_when_all_agree() -> None:
    s = scenario(
        behaviour=NOTHING,
        calibration={
            "series": {"a": {"columns": ["a"]}},
            "targets": [
                {"series": "a", "day": 1, "value": 3},
                {"series": "a", "day": 4, "value": 30},
            ],
        },
    )
    table = calibration_table(s, [HAND_METRICS, HAND_METRICS])
    assert table.model.tolist() == [3.0, 15.0]
    assert table.ratio.tolist() == [1.0, 0.5]
    assert table.within.tolist() == [True, False]
    assert loss(table) == pytest.approx(math.log(0.5) ** 2 / 2)
    assert loss(table.iloc[:1]) == 0.0


def test_changes_on_dates_and_an_adoption_ramp_become_day_versions() -> None:
    s = scenario(
        run={"start": "2014-01-01", "days": 400},
        behaviour={"events": {"defy": {"per_year": 1.0}}},
        surveillance={
            "sensors": {
                "court": {
                    "events": ["defy"],
                    "detection": 0.8,
                    "adoption": {"midpoint": "2014-07-20", "width_days": 50.0, "step_days": 100},
                }
            }
        },
        rulebook={
            "changes": [
                {"date": "2014-02-01", "events": {"defy": {"per_year": 2.0}}},
                {"day": 150, "sensors": {"court": {"detection": 0.4}}},
            ]
        },
    )
    versions = s.versions()
    assert [day for day, _ in versions] == [0, 31, 100, 150, 200, 300]
    rate = {d: v.behaviour.events["defy"].per_year for d, v in versions}
    assert rate[0] == 1.0 and rate[31] == 2.0 and rate[300] == 2.0
    detection = {d: v.surveillance.sensors["court"].detection for d, v in versions}
    logistic = lambda day: 1 / (1 + math.exp(-(day - 200) / 50.0))  # noqa: E731
    assert detection[100] == pytest.approx(0.8 * logistic(100))
    assert detection[150] == pytest.approx(0.4 * logistic(150))  # the change, then the ramp
    assert detection[300] == pytest.approx(0.4 * logistic(300))


@pytest.mark.parametrize(
    ("changes", "run", "fragments"),
    [
        ([{"date": "2014-02-01"}], {}, ["rulebook.changes[0].date", "needs run.start"]),
        (
            [{"date": "2013-02-01"}],
            {"start": "2014-01-01"},
            ["rulebook.changes[0].date", "before run.start"],
        ),
        ([{"day": 3, "date": "2014-02-01"}], {"start": "2014-01-01"}, ["exactly one of day"]),
        (
            [{"day": 3, "events": {"nothing": {"per_year": 1.0}}}],
            {},
            ["rulebook.changes[0].events.nothing", "cannot add"],
        ),
        (
            [{"day": 3, "events": {"defy": {"per_year": -1.0}}}],
            {},
            ["rulebook.changes[0].events.defy.per_year", "greater than or equal"],
        ),
    ],
)
def test_a_bad_dated_change_names_its_field(changes: list, run: dict, fragments: list) -> None:
    raw = {
        "behaviour.events": {"defy": {"per_year": 1.0}},
        "rulebook.changes": changes,
        **({"run.start": run["start"]} if run else {}),
    }
    with pytest.raises(ScenarioError) as caught:
        load_scenario("court-blacklist", overrides=raw | {"rulebook.rules": {}})
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


def test_evasion_lets_the_configured_share_of_list_refusals_through() -> None:
    def run(evasion: float) -> tuple[int, int]:
        s = scenario(**LISTED_FLYER)
        s = load_scenario(
            s, overrides={"rulebook.services.flight.evasion": evasion, "run.days": 200}
        )
        model = Model.build(s)
        model.state.people.flags[:5000] |= 1  # half the town on the list, by hand
        model.state.rosters[0].add(
            np.arange(5000), 0, np.full(5000, 10**6), np.zeros(5000, np.uint8), np.zeros(5000, bool)
        )
        model.state.calendar.schedule(  # 2,000 tries, by everyone 5th person: 1,000 by the listed
            "retry",
            np.arange(2000) % 200,
            person=np.arange(2000) * 5,
            service=np.zeros(2000, np.int64),
        )
        rows = run_days(model, 200)
        return sum(r["flight_blocked"] for r in rows), sum(r["flight_evaded"] for r in rows)

    assert run(0.0) == (1000, 0)  # the listed people's tries are all refused
    blocked, evaded = run(0.3)
    assert blocked + evaded == 1000
    assert abs(evaded - 300) <= 5 * math.sqrt(1000 * 0.3 * 0.7)  # binomial, 5 SE


def test_a_dated_run_writes_a_date_column(tmp_path: Path) -> None:
    from scsim.simulation.run import simulate

    s = load_scenario("court-list-history", overrides={"population.size": 5_000, "run.days": 40})
    simulate(s, tmp_path / "run")
    metrics = pd.read_parquet(tmp_path / "run" / "metrics.parquet")
    assert metrics.columns[:2].tolist() == ["day", "date"]
    assert metrics.date.iloc[0] == dt.date(2013, 10, 1)
    assert metrics.date.iloc[-1] == dt.date(2013, 11, 9)


SMALL = {"population.size": 20_000, "run.days": 400}  # to November 2014: the early targets


def test_a_fit_lowers_the_loss_and_writes_a_scenario_that_reproduces_it(tmp_path: Path) -> None:
    start = load_scenario(
        "court-list-history",
        overrides=SMALL | {"surveillance.sensors.courts.detection": 0.05},  # far too few listed
    )
    fitted = fit(start, trials=5, seeds=1)
    assert fitted.start_loss == pytest.approx(evaluate(start, 1)[1])  # trial 0: the scenario
    assert fitted.best_loss < fitted.start_loss
    path = write_fitted("court-list-history", start, fitted, tmp_path / "fitted.toml")
    again = load_scenario(path, overrides=SMALL)
    _, value = evaluate(again, 1)
    assert value == pytest.approx(fitted.best_loss, rel=1e-9)  # the file is the fit


def test_a_refinement_only_keeps_moves_that_lower_the_loss_and_its_file_is_the_fit(
    tmp_path: Path,
) -> None:
    early = {"population.size": 300_000, "run.days": 340}  # to August 2014, enough listed
    start = load_scenario(
        "court-list-history",
        overrides=early | {"surveillance.sensors.courts.detection": 0.1},  # too few listed
    )
    refined = refine(start, rounds=1, seeds=1)
    assert refined.start_loss == pytest.approx(evaluate(start, 1)[1])
    assert refined.best_loss < refined.start_loss
    assert refined.best_loss == pytest.approx(refined.history["value"].min())
    path = write_fitted("court-list-history", start, refined, tmp_path / "refined.toml")
    _, value = evaluate(load_scenario(path, overrides=early), 1)
    assert value == pytest.approx(refined.best_loss, rel=1e-9)


def test_prediction_runs_past_the_record_with_intervals_over_seeds() -> None:
    s = load_scenario("court-list-history", overrides={"population.size": 5_000, "run.days": 10})
    records = predict(s, [dt.date(2014, 1, 31), dt.date(2014, 3, 31)], seeds=2)
    assert [r["date"] for r in records] == ["2014-01-31", "2014-03-31"]
    for record in records:
        for key in ("listing_entries", "flight_purchases_blocked", "on_list_now", "complied"):
            assert record[f"{key}_lo"] <= record[key] <= record[f"{key}_hi"]
            assert all(isinstance(record[k], int) for k in (key, f"{key}_lo", f"{key}_hi"))
    assert records[1]["listing_entries"] >= records[0]["listing_entries"]  # cumulative


def test_the_interval_covers_the_mean_95_times_in_100_and_never_claims_what_it_lacks() -> None:
    """Student t over 3 seeds: the interval holds the true mean in 95% of repetitions (4,000
    repetitions: the share's standard error is 0.0034, the tolerance 4 of them); one seed has
    no interval; a count's lower end is never below 0 (it was -12,000 people)."""
    rng = np.random.default_rng(7)
    draws = rng.normal(10.0, 2.0, size=(4_000, 3))
    covered = [lo <= 10.0 <= hi for _, lo, hi in map(interval, draws)]
    assert abs(np.mean(covered) - 0.95) < 4 * math.sqrt(0.95 * 0.05 / 4_000)
    mean, lo, hi = interval(np.array([5.0]))
    assert mean == 5.0 and math.isnan(lo) and math.isnan(hi)
    mean, lo, hi = interval(np.array([0.0, 0.0, 90.0]))
    assert mean == 30.0 and lo == 0.0 and hi > 90.0
    assert interval(np.array([-1.0, 0.0, 1.0]))[1] < -1.0  # a difference may be negative


def test_a_prediction_from_one_seed_has_no_interval_and_is_strict_json() -> None:
    s = load_scenario("court-list-history", overrides={"population.size": 3_000, "run.days": 10})
    (record,) = predict(s, [dt.date(2013, 10, 5)], seeds=1)
    assert record["on_list_now_lo"] is None and record["on_list_now_hi"] is None
    assert isinstance(record["on_list_now"], int)
    json.loads(json.dumps(record), parse_constant=lambda name: pytest.fail(f"{name} in JSON"))


def test_predict_and_calibrate_on_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "predict",
            "court-list-history",
            "--at",
            "2013-12-31",
            "--population",
            "3000",
            "--seeds",
            "2",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["date"] == "2013-12-31" and "rail_purchases_blocked_hi" in record
    bad = runner.invoke(app, ["predict", "court-list-history", "--at", "2013-13-01"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.stderr
    table = tmp_path / "table.csv"
    result = runner.invoke(
        app,
        [
            "calibrate",
            "court-list-history",
            "--population",
            "3000",
            "--days",
            "400",
            "--table",
            str(table),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "published" in result.stdout and len(pd.read_csv(table)) == 35  # one held out
    said = " ".join(result.stdout.split())  # the targets after the run's 400 days, counted
    assert "not reached: 32 targets from 2015-12-31, past the run's 400 days" in said
    fitted = tmp_path / "fitted.toml"
    args = ["--fit", "--trials", "2", "--refine", "1", "--population", "3000", "--days", "200"]
    result = runner.invoke(app, ["calibrate", "court-list-history", *args, "--out", str(fitted)])
    assert result.exit_code == 0, result.output
    assert "trials; fitted scenario" in result.stdout
    assert load_scenario(fitted).name == "court-list-history"  # a valid file


def test_in_memory_runs_match_the_files_of_a_run(tmp_path: Path) -> None:
    from scsim.simulation.run import simulate

    s = load_scenario("court-list-history", overrides={"population.size": 5_000, "run.days": 300})
    simulate(s, tmp_path / "run")
    written = pd.read_parquet(tmp_path / "run" / "metrics.parquet")
    memory = run_metrics(s)
    pd.testing.assert_frame_equal(memory, written[memory.columns], check_dtype=False)


@pytest.mark.parametrize("mean", [1.0, 2.0])
def test_a_listing_record_brings_cases_at_the_configured_mean(mean: float) -> None:
    s = load_scenario(scenario(**LISTED_FLYER), overrides={"rulebook.lists.court.cases_mean": mean})
    model = Model.build(s)
    n = 2000
    model.state.calendar.schedule(
        "record",
        np.ones(n, dtype=np.int64),
        person=np.arange(n) * 5,
        event=np.zeros(n, np.int16),
        sensor=np.zeros(n, np.int16),
        origin=np.full(n, ORIGIN["detected"], np.uint8),
    )
    rows = run_days(model, 3)
    cases = sum(r["court_cases"] for r in rows)
    assert sum(r["court_entries"] for r in rows) == n  # people listed: one each
    variance = n * (1 - 1 / mean) * mean**2  # geometric on 1, 2, ...: (1 - p) / p^2
    assert abs(cases - n * mean) <= 5 * math.sqrt(variance)
    assert cases >= n


def test_held_out_targets_weigh_nothing_in_the_loss_and_stay_in_the_table() -> None:
    s = load_scenario("court-list-history", overrides={"population.size": 5_000, "run.days": 400})
    early = held_out(s, dt.date(2014, 8, 31))
    assert s.calibration is not None and early.calibration is not None
    weights = {(str(t.date), t.series): t.weight for t in early.calibration.targets}
    assert weights[("2014-08-31", "flight_purchases_blocked")] == 1.0
    assert weights[("2015-12-31", "listing_entries")] == 0.0
    kept = [t for t in early.calibration.targets if t.weight > 0]
    assert len(kept) == 3 and len(early.calibration.targets) == len(s.calibration.targets)
    table, value = evaluate(early, 1)
    assert (table.weight == 0).sum() == len(table) - 3  # the later record is in the table
    assert value == pytest.approx(loss(table[table.weight > 0]))  # but has no part in the loss
    with pytest.raises(UserError, match="no target"):
        held_out(s, dt.date(2013, 12, 31))


def test_calibrate_until_a_date_says_what_it_held_out(tmp_path: Path) -> None:
    args = ["--population", "3000", "--days", "400", "--until", "2014-08-31", "--refine", "1"]
    result = CliRunner().invoke(
        app, ["calibrate", "court-list-history", *args, "--out", str(tmp_path / "f.toml")]
    )
    assert result.exit_code == 0, result.output
    assert "(held out)" in result.stdout
    assert "held out: 32 targets after 2014-08-31" in result.stdout  # 25 + the check
    bad = CliRunner().invoke(app, ["calibrate", "court-list-history", "--until", "2014-31-08"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.stderr


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["calibrate", "--seeds", "0"], "--seeds takes 1 or more, not 0"),
        (["calibrate", "--table-seeds", "0"], "--table-seeds takes 1 or more, not 0"),
        (["calibrate", "--fit", "--trials", "0"], "--trials takes 1 or more, not 0"),
        (["calibrate", "--fit", "--trials", "1", "--refine", "-1"], "--refine takes 0 or more"),
        (["calibrate", "--days", "30"], "end before its first target (2014-03-31)"),
        (["predict", "--at", "2014-01-01", "--seeds", "0"], "--seeds takes 1 or more, not 0"),
        (["predict", "--at", "2014-01-01", "--at", "9999-12-31"], "--at 9999-12-31 is past 2113"),
        (["calibrate", "--table", "."], "such as table.csv"),
        (["calibrate", "--refine", "1", "--out", "."], "such as court-list-history-fitted.toml"),
        (["calibrate", "--table", "f.toml/t.csv"], "f.toml is a file, not a folder"),
    ],
)
def test_what_would_give_an_empty_table_or_fail_after_it_is_refused_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], words: str
) -> None:
    """No seeds, no trials or a run shorter than every target made a table of blanks and an
    infinite loss (or Optuna's traceback); a --table or --out that cannot be written failed
    with a traceback after the runs: each refused, in one line, before anything is run."""

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was built")

    monkeypatch.setattr(Model, "build", no_run)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.toml").write_text("")
    name, *options = command
    result = CliRunner().invoke(app, [name, "court-list-history", "--population", "1000", *options])
    assert result.exit_code == 2, result.output
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
