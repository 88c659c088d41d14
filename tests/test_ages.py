"""Age (2020 census: residents aged 0-14): a person's age follows from the id; an adults-only
rulebook keeps children's records out of the score (Rongcheng: adults are scored [P]); a
service whose refusals reach a household's children counts them (000, 001, 002).
"""

from __future__ import annotations

import csv
from importlib.resources import files

import numpy as np
from bounds import within_variance
from builders import run_days, scenario
from hand_records import ledger_rows, with_records

from scsim.engine.ledger import KIND
from scsim.engine.model import Model
from scsim.scenario import load_scenario
from scsim.scenario.schema import Scenario

SIZE, CHILDREN = 20_000, 0.18


def _scenario(adults_only: bool = True, children: float = CHILDREN, **school: object) -> Scenario:
    here = {"share": 1.0, "urban_share": 0.5, "household_mean": 2.62, "children_share": children}
    return scenario(
        population={"size": SIZE, "regions": {"Here": here}},
        behaviour={"events": {"theft": {"per_year": 0.0}}},
        surveillance={"sensors": {"cam": {"events": ["theft"], "detection": 1.0}}},
        rulebook={
            "adults_only": adults_only,
            "rules": {"theft": {"points": -200, "enter_list": "court"}},
            "lists": {"court": {"term_days": 30}},
            "services": {"school": {"per_year": 0.0, "blocked_lists": ["court"], **school}},
        },
    )


def _children(model: Model, ids: np.ndarray) -> np.ndarray:
    ages = model.params.mechanisms.ages
    assert ages is not None
    return ages.children(model, ids)


def test_children_are_the_census_share_and_never_head_a_household() -> None:
    model = Model.build(_scenario())
    ids = np.arange(SIZE)
    child = _children(model, ids)
    within_variance(int(child.sum()), SIZE * CHILDREN, SIZE * CHILDREN * (1 - CHILDREN))
    first, _ = model.params.pop.household(ids)
    assert not child[ids == first].any()


def test_an_adults_only_rulebook_scores_the_adult_and_not_the_child() -> None:
    model = Model.build(_scenario())
    child = _children(model, np.arange(SIZE))
    kid, adult = int(np.flatnonzero(child)[0]), int(np.flatnonzero(~child)[0])
    records = [(kid, "theft", "cam", "detected"), (adult, "theft", "cam", "detected")]
    rows = run_days(with_records(model, {0: records}), 1)
    assert ledger_rows(model, kid) == []
    assert ledger_rows(model, adult) == [
        (0, "record", "theft", -200, "cam", "detected", True),
        (0, "tier", "bad", 1, "", "score", True),
        (0, "list_entry", "court", 0, "", "record", True),
    ]
    assert rows[0]["records_of_children_unscored"] == 1


def test_refusals_that_reach_children_count_the_households_children() -> None:
    s = _scenario(adults_only=False, household_lists=["court"], reaches_children=True)
    raw = s.model_dump(mode="json")
    raw["rulebook"]["services"]["school"]["per_year"] = 365.0
    raw["behaviour"]["events"]["theft"]["per_year"] = 1.0
    model = Model.build(Scenario.model_validate(raw))
    assert "spare" not in model.day.names() and "reach" in model.day.names()
    rows = run_days(model, 10)
    reached = sum(row["school_children_reached"] for row in rows)
    # the same count, day by day, from the ledger's refusals and the households they reach
    pop, counted = model.params.pop, 0
    for day in range(10):
        refused = model.rows["entity"][
            (model.rows["kind"] == KIND["blocked"]) & (model.rows["day"] == day)
        ]
        members, _ = pop.household_members(refused)
        everyone = np.unique(np.concatenate([refused, members]))
        counted += int(_children(model, everyone).sum())
    assert reached == counted > 100


def test_without_children_an_adults_only_rulebook_scores_everyone() -> None:
    model = Model.build(_scenario(children=0.0))
    rows = run_days(with_records(model, {0: [(7, "theft", "cam", "detected")]}), 1)
    assert ledger_rows(model, 7)[0] == (0, "record", "theft", -200, "cam", "detected", True)
    assert rows[0]["records_of_children_unscored"] == 0


def test_the_built_ins_take_their_children_from_the_census_table() -> None:
    table = files("scsim") / "data" / "china-provinces-2020.csv"
    with table.open(encoding="utf-8") as handle:
        rows = {row["name"].replace(" ", "_"): row for row in csv.DictReader(handle)}
    regions = load_scenario("national-score").population.regions
    assert {n: r.children_share for n, r in regions.items()} == {
        n: float(rows[n]["age_0_14"]) for n in regions
    }
