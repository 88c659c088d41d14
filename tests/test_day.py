"""The day as a list of components: built from the scenario, printed by `scsim explain`, timed by
`scsim run --profile`, its state saved and restored whole, its barrier answered by anyone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from builders import run_days, scenario
from conftest import cli

from scsim.engine.day import Barrier, Component, Flow
from scsim.engine.model import Model
from scsim.scenario import builtin_names, load_scenario
from scsim.scenario.annotations import comments, note_for

SMALL = {"population.size": 5_000, "run.days": 5}


def test_a_mechanism_that_is_off_is_not_in_the_day() -> None:
    events = {"events": {"litter": {"per_year": 1.0}}}
    plain = Model.build(scenario(behaviour=events))
    assert plain.day.names() == (
        "rulebook",
        "behave",
        "observe",
        "score",
        "sanction",
        "respond",
        "collect",
    )
    chill = {**events, "feedback": True, "deterrence": {"friends": 0.1}}
    chilled = Model.build(scenario(behaviour=chill))
    assert chilled.day.names() == (*plain.day.names()[:2], "speak", *plain.day.names()[2:])


def test_national_score_runs_every_stage_and_its_mechanisms_in_the_documented_order() -> None:
    model = Model.build(load_scenario("national-score", overrides=SMALL))
    order = model.day.names()
    assert order[:2] == ("rulebook", "behave") and order[-2:] == ("respond", "collect")
    stages = [c.stage for c in model.day.components]
    rank = ["rulebook", "behave", "observe", "score", "sanction", "respond", "collect"]
    assert [rank.index(s) for s in stages] == sorted(rank.index(s) for s in stages)
    assert isinstance(model.day.components[order.index("search")], Barrier)


def test_a_day_stepped_in_parts_at_its_barrier_is_the_day_stepped_whole() -> None:
    # a sharded run's shard answers the barrier from the driver: here, from its own totals
    overrides = {**SMALL, "population.size": 50_000}
    overrides["surveillance.sensors.cameras.daily_capacity_per_million"] = 60  # 3 a day
    whole = Model.build(load_scenario("national-score", overrides=overrides))
    parts = Model.build(load_scenario("national-score", overrides=overrides))
    asked = 0
    for day in range(3):
        steps = parts.day.steps(parts, day)
        ask = next(steps)
        assert ask.barrier.name == "search"
        asked += int(ask.totals.sum())
        with pytest.raises(StopIteration) as done:
            steps.send(ask.barrier.settle(parts, day, ask.totals))
        assert done.value.value == whole.step(day)
        assert {k: v.tolist() for k, v in parts.ledger.drain().items()} == {
            k: v.tolist() for k, v in whole.ledger.drain().items()
        }
    assert asked > 3 * 3  # the cap bound: more records than it keeps


def test_the_state_frame_restores_every_field_it_captured() -> None:
    s = load_scenario("corporate", overrides=SMALL)
    ran, fresh = Model.build(s), Model.build(s)
    run_days(ran, 5)
    arrays, scalars = ran.state.capture()
    assert {"people.score", "locks.ids", "rosters0.ids", "tier_counts"} <= set(arrays)
    assert any(name.startswith("companies.") for name in arrays)
    fresh.state.restore(arrays, scalars, np)
    again, again_scalars = fresh.state.capture()
    assert again_scalars == scalars
    assert again.keys() == arrays.keys()
    for name, array in arrays.items():
        assert np.array_equal(again[name], array), name


def test_a_state_of_another_shape_is_refused() -> None:
    ran = Model.build(scenario(behaviour={"events": {"litter": {"per_year": 1.0}}}))
    arrays, scalars = ran.state.capture()
    arrays["people.score"] = arrays["people.score"][:-1]
    with pytest.raises(ValueError, match=r"people\.score"):
        Model.build(ran.params.scenario).state.restore(arrays, scalars, np)


class Counts(Component):
    """A component added to a day: what it is handed, and that it runs in its place."""

    name = stage = "counts"

    def step(self, ctx: object, day: int, flow: Flow) -> None:
        assert flow.records is not None and flow.changes is None  # after observe, before score
        flow.columns["records_seen_by_counts"] = len(flow.records)


def test_a_component_added_to_the_day_writes_its_column() -> None:
    model = Model.build(scenario(behaviour={"events": {"litter": {"per_year": 50.0}}}))
    components = list(model.day.components)
    components.insert(model.day.names().index("score"), Counts())
    model.day.components = tuple(components)
    rows = run_days(model, 3)
    assert [row["records_seen_by_counts"] for row in rows] == [row["records"] for row in rows]


@pytest.mark.parametrize("name", builtin_names())
def test_explain_prints_each_component_of_the_day_in_order(name: str) -> None:
    outcome = cli("explain", name)
    assert outcome.exit_code == 0, outcome.text
    day = Model.build(load_scenario(name, overrides={"population.size": 20_000})).day
    numbered = [
        line.split()[1] for line in outcome.stdout.splitlines() if line[:3].strip(". ").isdigit()
    ]
    assert numbered == list(day.names())


def test_explain_shows_values_with_the_files_sources_and_marks() -> None:
    text = cli("explain", "rongcheng").stdout
    assert "rulebook.rules.traffic_violation.points = -5   # a traffic ticket -5 [S]" in text
    assert "behaviour.deterrence.per_sanction = 0.15   # [U]" in text
    assert "state per person: 7 bytes" in text


def test_explain_names_a_bad_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "rongcheng"\n[population]\nsize = -1\n')
    outcome = cli("explain", str(bad))
    assert outcome.exit_code == 2
    assert "bad.toml" in outcome.text and "population.size" in outcome.text
    assert "Traceback" not in outcome.text


def test_comments_are_read_by_field_table_and_block_above() -> None:
    text = (
        "# ---------------- rulebook\n"
        "[rulebook]\n"
        "base = 1000  # [P] the starting score\n"
        "# [U] an assumption\n"
        "# over two lines\n"
        "step = 5\n"
        "\n"
        "[rulebook.tiers.A]   # the best grade\n"
        'min = 960\nnames = [\n  "x",  # not a key\n]\nlabel = "a # in quotes"\n'
    )
    notes = comments(text)
    assert notes["rulebook.base"] == "[P] the starting score"
    assert notes["rulebook.step"] == "[U] an assumption over two lines"
    assert "rulebook" not in notes  # a ruler is not a note
    assert note_for(notes, "rulebook.tiers.A.min") == "the best grade"
    assert "rulebook.tiers.A.label" not in notes
    assert not any(key.endswith("x") for key in notes)


def test_run_profile_records_each_components_time_in_run_json(tmp_path: Path) -> None:
    out = tmp_path / "run"
    outcome = cli(
        "run", "rongcheng", "--population", "5000", "--days", "4", "--out", str(out), "--profile"
    )
    assert outcome.exit_code == 0, outcome.text
    profile = json.loads((out / "run.json").read_text())["profile"]
    day = Model.build(load_scenario("rongcheng", overrides=SMALL)).day
    assert list(profile["seconds"]) == list(day.names())
    assert profile["days"] == 4
    assert all(seconds >= 0 for seconds in profile["seconds"].values())
    assert "ms per day" in outcome.stdout


def test_run_profile_is_refused_with_shards() -> None:
    outcome = cli("run", "rongcheng", "--profile", "--shards", "2")
    assert outcome.exit_code == 2 and "--profile" in outcome.text
