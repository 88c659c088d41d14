"""Places: local rulebooks side by side under one national rulebook (issue 23).

Two cities carved out of one region, each with its own rulebook, and the rest of the region
under a national rulebook that scores nobody: the same record costs each city's points and
moves each city's grade, and is kept without a score elsewhere; a city's rulebook swapped for
the other's changes that city's results and nobody else's (common random numbers).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from builders import run_days
from conftest import cli

from scsim.engine.components.observe import Records
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.scenario.schema import Scenario
from scsim.scenario.schema.places import grade_names, swapped

ALPHA_BOOK = {
    "scale": {"min": 0, "max": 1200},
    "base": 1000,
    "tiers": {
        "AAA": {"min": 1050, "max": 1200},
        "A": {"min": 960, "max": 1049},
        "B": {"min": 850, "max": 959},
        "C": {"min": 0, "max": 849},
    },
    "rules": {"litter": {"points": -100}},
    "refusals": {"loan": ["C"]},
}
BETA_BOOK = {
    "scale": {"min": 0, "max": 10},
    "base": 10,
    "tiers": {"top": {"min": 10, "max": 10}, "low": {"min": 0, "max": 9}},
    "rules": {"litter": {"points": -1}},
}
TOWNS: dict[str, Any] = {
    "name": "towns",
    "population": {
        "size": 40_000,
        "regions": {"Here": {"share": 1.0, "urban_share": 0.5, "household_mean": 3.0}},
        "cities": {
            "Alpha": {"region": "Here", "share": 0.25, "urban_share": 0.8},
            "Beta": {"region": "Here", "share": 0.25, "urban_share": 0.8},
        },
        "classes": {"everyone": {"share": 1.0}},
    },
    "behaviour": {"events": {"litter": {"per_year": 0.0}}, "feedback": False},
    "surveillance": {"sensors": {"police": {"events": ["litter"], "detection": 0.5}}},
    "rulebook": {  # the national rulebook: lists and services, no score
        "base": 0,
        "scale": {"min": 0, "max": 1},
        "tiers": {"unscored": {"min": 0, "max": 1}},
        "rules": {"litter": {"points": 0}},
        "services": {"loan": {"per_year": 2.0}},
    },
    "places": {"Alpha": {"rulebook": ALPHA_BOOK}, "Beta": {"rulebook": BETA_BOOK}},
    "run": {"days": 5, "seed": 3},
}


def towns(**changes: Any) -> Scenario:
    raw = copy.deepcopy(TOWNS)
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        table = raw
        for part in path:
            table = table[part]
        table[last] = value
    return Scenario.model_validate(raw)


class Inject(Component):
    """Hand-made records on one day, in place of whatever `observe` found."""

    name, stage = "inject", "observe"

    def __init__(self, day: int, people: list[int]) -> None:
        self.day, self.people = day, np.array(people, dtype=np.int64)

    def step(self, ctx: Any, day: int, flow: Flow) -> None:
        if day == self.day:
            n = self.people.size
            zeros = np.zeros(n, dtype=np.int64)
            origin = np.full(n, ORIGIN["detected"], dtype=np.uint8)
            flow.records = Records(self.people, zeros, zeros, origin)


def first_of(model: Model, region: str) -> int:
    pop = model.params.host_pop
    return int(pop.region_start[pop.region_names.index(region)])


def test_same_record_costs_each_place_its_points_and_grade_and_no_score_elsewhere() -> None:
    model = Model.build(towns())
    alpha, beta, here = (first_of(model, r) for r in ("Alpha", "Beta", "Here"))
    components = list(model.day.components)
    components.insert(model.day.names().index("score"), Inject(1, [alpha, beta, here]))
    model.day.components = tuple(components)
    run_days(model, 3)
    people, grades = model.state.people, grade_names(model.params.scenario)
    assert (int(people.score[alpha]), grades[people.tier[alpha]]) == (900, "Alpha/B")
    assert (int(people.score[beta]), grades[people.tier[beta]]) == (9, "Beta/low")
    assert (int(people.score[here]), grades[people.tier[here]]) == (0, "unscored")
    # everyone else holds their place's base grade
    assert (
        grades[people.tier[alpha + 1]] == "Alpha/A" and grades[people.tier[beta + 1]] == "Beta/top"
    )
    rows = model.rows
    records = rows["kind"] == KIND["record"]
    recorded = dict(
        zip(rows["entity"][records].tolist(), rows["delta"][records].tolist(), strict=True)
    )
    assert recorded == {alpha: -100, beta: -1, here: 0}  # kept where no rulebook scores


def test_before_its_start_a_place_is_unscored_and_then_moves_to_its_base_grade() -> None:
    model = Model.build(towns(places__Alpha__start=2))
    pop, alpha = model.params.host_pop, first_of(model, "Alpha")
    sizes = dict(zip(pop.region_names, np.diff(pop.region_start).tolist(), strict=True))
    rows = run_days(model, 4)
    assert [row["place_started"] for row in rows] == [sizes["Beta"], 0, sizes["Alpha"], 0]
    assert [row["tier_Alpha/A"] for row in rows] == [0, 0, sizes["Alpha"], sizes["Alpha"]]
    assert rows[1]["tier_unscored"] == sizes["Here"] + sizes["Alpha"]
    assert rows[2]["tier_unscored"] == sizes["Here"]
    assert int(model.state.people.score[alpha]) == 1000


def _ledger(s: Scenario) -> tuple[Model, dict[str, np.ndarray]]:
    """A run's ledger rows, with `rule` and `source` as names (grade codes depend on the
    grades of every place)."""
    model = Model.build(s)
    run_days(model, s.run.days)
    names = np.array(model.params.codes.vocabulary.names, dtype=object)
    rows = dict(model.rows)
    rows["rule"], rows["source"] = names[rows["rule"]], names[rows["source"]]
    return model, rows


@pytest.mark.parametrize("donor", ["Beta"])
def test_swapping_a_places_rulebook_changes_its_results_and_no_other(donor: str) -> None:
    base = towns(
        behaviour__events__litter__per_year=20.0,
        behaviour__feedback=True,
        run__days=20,
    )
    model, a = _ledger(base)
    _, b = _ledger(swapped(base, "Alpha", donor))
    pop = model.params.host_pop
    r = pop.region_names.index("Alpha")
    lo, hi = int(pop.region_start[r]), int(pop.region_start[r + 1])

    def part(rows: dict[str, np.ndarray], inside: bool) -> dict[str, np.ndarray]:
        keep = ((rows["entity"] >= lo) & (rows["entity"] < hi)) == inside
        return {k: v[keep] for k, v in rows.items()}

    outside_a, outside_b = part(a, False), part(b, False)
    for column in ("day", "entity", "kind", "rule", "delta", "source", "origin", "truth"):
        assert np.array_equal(outside_a[column], outside_b[column]), column
    inside_a, inside_b = part(a, True), part(b, True)
    assert not np.array_equal(inside_a["delta"], inside_b["delta"])


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"places__Gamma": {"rulebook": BETA_BOOK}}, "places.Gamma", "not a region or city"),
        (
            {"population__cities__Alpha__region": "Nowhere"},
            "population.cities.Alpha.region",
            "unknown region",
        ),
        (
            {"places__Alpha__rulebook__rules__litter__set_tier": "Z"},
            "places.Alpha.rulebook",
            "unknown grade 'Z'",
        ),
        (
            {"places__Alpha__rulebook__rules__litter__enter_list": "court"},
            "places.Alpha.rulebook",
            "lists are national",
        ),
    ],
)
def test_a_place_that_names_what_does_not_exist_is_refused_with_its_field(
    change: dict[str, Any], field: str, expected: str
) -> None:
    with pytest.raises(ValueError, match=expected) as caught:
        towns(**change)
    assert field.split(".")[0] in str(caught.value)


def test_a_place_with_a_service_the_nation_lacks_is_refused_in_one_line(tmp_path: Any) -> None:

    path = tmp_path / "bad.toml"
    path.write_text(
        'extends = "court-blacklist"\nname = "bad"\n'
        '[population.cities.Town]\nregion = "Beijing"\nshare = 0.1\nurban_share = 0.5\n'
        "[places.Town.rulebook]\nbase = 1\nscale = { min = 0, max = 1 }\n"
        "[places.Town.rulebook.tiers.all]\nmin = 0\nmax = 1\n"
        '[places.Town.rulebook.rewards]\nspa = ["all"]\n'
    )
    result = cli("validate", str(path))
    assert result.exit_code == 2
    assert "places.Town.rulebook.rewards" in (
        result.stdout + result.stderr
    ) and "unknown service 'spa'" in (result.stdout + result.stderr)


def test_explain_lists_each_pilots_rulebook_with_its_sources() -> None:
    result = cli("explain", "pilots")
    assert result.exit_code == 0
    text = result.stdout
    for place in ("Rongcheng", "Wendeng", "Weihai", "Suining", "Xiamen", "Fuzhou"):
        assert f"  {place} (a city of " in text
    assert "grades: AAA 1050..2000, AA 1030..1049, A 960..1029" in text
    assert "neglecting_parents: -50   # failing to support elderly parents -50 [P]" in text
    assert "refusal by licences_and_relief: D" in text


def test_compare_swap_moves_the_swapped_places_figures_and_no_others() -> None:
    from scsim.experiments.compare import compare

    base = towns(behaviour__events__litter__per_year=20.0, run__days=15)
    table = compare(base, swap="Alpha=Beta", seeds=2).set_index("figure")
    beta = table[table.index.str.startswith("Beta: ")]
    alpha = table[table.index.str.startswith("Alpha: ")]
    assert len(beta) == len(alpha) > 0
    assert (beta.difference == 0).all() and (beta.low == 0).all() and (beta.high == 0).all()
    assert alpha.loc["Alpha: deductions per 1,000", "difference"] == 0  # both deduct per record
    assert alpha.loc["Alpha: refusals per 1,000", "difference"] > 0  # only Alpha refuses C
    assert table.attrs["b"] == "towns-Alpha-as-Beta"


def test_compare_swap_refuses_a_place_the_scenario_lacks() -> None:
    from scsim.experiments.compare import CompareError, compare

    with pytest.raises(CompareError, match="'Gamma' is not a place of towns"):
        compare(towns(), swap="Alpha=Gamma")
    with pytest.raises(CompareError, match="expected PLACE=DONOR"):
        compare(towns(), swap="Alpha")


def test_the_audit_and_report_set_places_side_by_side(tmp_path: Any) -> None:
    import scsim
    from scsim.report.html import write_report

    base = towns(behaviour__events__litter__per_year=20.0, run__days=10)
    result = scsim.run(base, tmp_path / "a")
    table = scsim.audit.places(result).set_index("place")
    assert list(table.index) == ["Here", "Alpha", "Beta"]
    assert table.loc["Alpha", "region"] == "Here" and table.loc["Alpha", "rulebook"]
    assert not table.loc["Here", "rulebook"]
    # every place records; only a place with a rulebook deducts, and only Alpha refuses grade C
    assert (table.records > 0).all()
    assert table.loc["Here", "deductions"] == 0 < table.loc["Beta", "deductions"]
    assert table.loc["Alpha", "refusals"] > 0 == table.loc["Beta", "refusals"]
    again = scsim.run(base, tmp_path / "b", seed=4)
    spread = scsim.audit.places_over_seeds([result, again]).set_index(["place", "measure"])
    low, high = spread.loc[("Alpha", "deductions"), ["low", "high"]]
    assert low <= spread.loc[("Alpha", "deductions"), "mean"] <= high
    page = write_report(result, tmp_path / "report.html").read_text()
    assert "Where you live decides" in page and "Alpha (Here)" in page


def test_a_region_scores_nothing_until_it_joins_the_rollout_and_then_does() -> None:
    from builders import scenario

    s = scenario(
        population={
            "regions": {
                "Here": {"share": 0.5, "urban_share": 1.0},
                "There": {"share": 0.5, "urban_share": 1.0},
            }
        },
        behaviour={"events": {"litter": {"per_year": 30.0}}},
        surveillance={"sensors": {"police": {"events": ["litter"], "detection": 1.0}}},
        rulebook={"rules": {"litter": {"points": -10}}},
        rollout={"There": 3},
        run={"days": 6},
    )
    model = Model.build(s)
    run_days(model, 6)
    pop, rows = model.params.host_pop, model.rows
    there = rows["entity"] >= pop.region_start[1]
    records = rows["kind"] == KIND["record"]
    assert set(rows["day"][records & there].tolist()) == {3, 4, 5}
    assert set(rows["day"][records & ~there].tolist()) == set(range(6))
    lo, hi = int(pop.region_start[1]), int(pop.region_start[2])
    assert (model.state.people.score[lo:hi] < 1000).any()


@pytest.mark.parametrize("name", ["pilots", "national-rollout"])
def test_places_and_a_rollout_run_sharded_to_the_single_process_bytes(name: str) -> None:
    """A place is whole regions, so a shard owns its people and its start; Weihai's starts on
    day 182 and national-rollout's waves on days 91, 182 and 274."""
    from test_shards import assert_shards_make_the_single_process

    from scsim.scenario import load_scenario

    s = load_scenario(name, overrides={"population.size": 100_000, "run.days": 190})
    totals = assert_shards_make_the_single_process(s, 3)
    assert name == "national-rollout" or totals["place_started"] > 0


def test_a_run_with_places_resumes_to_the_same_bytes(tmp_path: Any, monkeypatch: Any) -> None:
    from builders import assert_resumes_to_the_same_bytes

    s = towns(behaviour__events__litter__per_year=20.0, run__days=12, places__Alpha__start=6)
    assert_resumes_to_the_same_bytes(s, tmp_path, monkeypatch, killed_on=8, every=4)


def test_more_grades_than_a_byte_holds_are_refused() -> None:
    many = {f"g{i}": {"min": i, "max": i} for i in reversed(range(300))}
    book = {"scale": {"min": 0, "max": 299}, "base": 299, "tiers": many}
    with pytest.raises(ValueError, match="303 grades in all"):
        towns(places__Alpha__rulebook=book)
