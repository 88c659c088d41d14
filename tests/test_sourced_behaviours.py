"""The behaviours the sources list (issue 24, item 7), as events with rules in the built-ins:
the rest of source 004's point table in `rongcheng`, purchases read as character by `sesame`,
and rubbish sorting and alcohol in `national-score`. Each is checked on its own: every other
event silenced, the event frequent and always seen, so that its ledger rows are exactly the
rule's points, from its sensor, on the person who did it."""

from __future__ import annotations

import numpy as np
import pytest
from builders import run_days

from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.scenario import load_scenario
from scsim.scenario.schema import Scenario

SIZE = 20_000


def _only(name: str, event: str) -> Scenario:
    """Built-in `name` on 20,000 people where only `event` happens (20 times a person-year),
    every sensor of it sees it all and misreads nothing, and no other mechanism runs."""
    raw = load_scenario(name).model_dump(mode="json", exclude_none=True)
    for key, spec in raw["behaviour"]["events"].items():
        spec["per_year"] = 20.0 if key == event else 0.0
    for sensor in raw["surveillance"]["sensors"].values():
        sensor.update(detection=1.0, misattribution=0.0, false_records_per_year=0.0)
        sensor.update(coverage_urban=1.0, coverage_rural=1.0, coverage_by_region={})
        sensor.pop("informants", None), sensor.pop("reward_event", None)
        sensor.pop("suspension", None), sensor.pop("daily_capacity", None)
    for section in ("gray_market", "gaming", "self_censorship"):
        raw["behaviour"].pop(section, None)
    raw["population"].update(size=SIZE, income={})
    raw["run"].update(days=20, people="all")
    return Scenario.model_validate(raw)


@pytest.mark.parametrize(
    ("name", "event", "points"),
    [
        # source 004's 1000-point table in rongcheng
        ("rongcheng", "organ_donation", 100),
        ("rongcheng", "championship", 20),
        ("rongcheng", "reporting_offence", 10),
        ("rongcheng", "child_joins_army", 5),
        ("rongcheng", "illegal_classes", -40),
        ("rongcheng", "third_child", -40),
        # purchases read as character by the private score
        ("sesame", "video_game_purchase", -2),
        ("sesame", "alcohol_purchase", -2),
        # the press reading's other behaviours
        ("national-score", "wrong_garbage_sorting", -5),
        ("national-score", "alcohol_in_quantity", -5),
        ("national-score", "organ_donation", 100),
        ("national-score", "championship", 20),
    ],
)
def test_a_sourced_behaviour_is_recorded_at_its_tables_points(
    name: str, event: str, points: int
) -> None:
    model = Model.build(_only(name, event))
    rows = run_days(model, 20)
    records = model.rows["kind"] == KIND["record"]
    detected = records & (model.rows["origin"] == ORIGIN["detected"])
    code = model.params.codes.vocabulary.code(event)
    assert detected.sum() > 1000  # 20 a person-year over 20,000 people for 20 days, all seen
    assert (model.rows["rule"][detected] == code).all()
    assert (model.rows["delta"][detected] == points).all()
    assert sum(r["true_events"] for r in rows) >= detected.sum()
    assert np.unique(model.rows["entity"][detected]).size > 0.5 * detected.sum()
