"""Ethnic groups (2020 census aggregates, src/scsim/data/china-minorities-2020.csv): a person's
group follows from the id, as an income band does; a sensor may watch one group less than
another [U]; the audit's fairness table is cut by group.
"""

from __future__ import annotations

import csv
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from builders import run_days, scenario
from hand_records import ledger_rows, with_records

from scsim.audit import fairness, wrongful_by_mechanism, wrongful_sanctions
from scsim.audit.run import GroupError, open_run
from scsim.engine.groups import group_of, minority_starts
from scsim.engine.income import band_starts
from scsim.engine.model import Model
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario
from scsim.scenario.schema import Scenario
from scsim.simulation.run import simulate

HERE = {"share": 1.0, "urban_share": 1.0, "household_mean": 3.0, "minority_share": 0.3}
BANDS = {"poor": {"urban": 0.5, "rural": 0.5}, "rich": {"urban": 0.5, "rural": 0.5}}


def _scenario(size: int = 100, **camera: object) -> Scenario:
    return scenario(
        population={"size": size, "regions": {"Here": HERE}, "income": BANDS},
        behaviour={"events": {"theft": {"per_year": 0.0}}},
        surveillance={"sensors": {"cam": {"events": ["theft"], "detection": 1.0, **camera}}},
        rulebook={"rules": {"theft": {"points": -200}}},
    )


def _rows() -> dict[str, dict[str, str]]:
    table = files("scsim") / "data" / "china-minorities-2020.csv"
    with table.open(encoding="utf-8") as handle:
        return {row["code"]: row for row in csv.DictReader(handle)}


def minority_of(s: Scenario, ids: np.ndarray) -> np.ndarray:
    """Each id's ethnic group (1: the minority), as the engine gives it."""
    pop = Model.build(s).params.host_pop
    return group_of(minority_starts(s.population, pop), band_starts(s.population, pop), pop, ids)


def test_the_minority_of_each_income_band_is_its_last_ids() -> None:
    s = _scenario()
    model = Model.build(s)
    pop = model.params.host_pop
    bands = band_starts(s.population, pop)
    group = group_of(minority_starts(s.population, pop), bands, pop, np.arange(100))
    # two bands of 50 ids, the last 15 of each the minority
    expected = np.array(([0] * 35 + [1] * 15) * 2)
    assert bands[0].tolist() == [0, 50, 100] and group.tolist() == expected.tolist()


def test_a_sensor_that_does_not_watch_the_majority_records_only_the_minority() -> None:
    model = Model.build(_scenario(coverage_by_group={"majority": 0.0}))
    records = [(10, "theft", "cam", "detected"), (40, "theft", "cam", "detected")]
    rows = run_days(with_records(model, {0: records}), 1)
    assert ledger_rows(model, 10) == []
    assert ledger_rows(model, 40) == [
        (0, "record", "theft", -200, "cam", "detected", True),
        (0, "tier", "bad", 1, "", "score", True),
    ]
    assert rows[0]["records_unwatched_majority"] == 1
    assert rows[0]["records_unwatched_minority"] == 0


def test_intensity_by_group_needs_a_minority() -> None:
    raw = _scenario(coverage_by_group={"minority": 0.5}).model_dump(mode="json")
    raw["population"]["regions"]["Here"]["minority_share"] = 0.0
    with pytest.raises(ScenarioError, match="coverage_by_group: intensity by group needs"):
        load_scenario(Scenario.model_validate(raw))


def test_fairness_is_reported_by_ethnic_group(tmp_path: Path) -> None:
    s = _scenario(size=20_000, coverage_by_group={"majority": 0.5})
    raw = s.model_dump(mode="json")
    raw["behaviour"]["events"]["theft"]["per_year"] = 3.0
    raw["rulebook"]["services"] = {"loan": {"per_year": 50.0, "blocked_tiers": ["bad"]}}
    simulate(
        load_scenario(Scenario.model_validate(raw), overrides={"run.report": False}),
        tmp_path / "run",
    )
    table = fairness(tmp_path / "run").set_index(["dimension", "group"])
    assert table.loc[("ethnicity", "minority"), "people"] == 6_000
    assert table.loc[("ethnicity", "majority"), "people"] == 14_000
    # watched twice as closely, the minority is refused more often
    rate = table.sanction_rate
    assert rate[("ethnicity", "minority")] > 1.5 * rate[("ethnicity", "majority")]


def test_a_run_without_a_minority_refuses_the_grouping(tmp_path: Path) -> None:
    raw = _scenario(size=1_000).model_dump(mode="json")
    raw["population"]["regions"]["Here"]["minority_share"] = 0.0
    s = Scenario.model_validate(raw)
    simulate(load_scenario(s, overrides={"run.report": False, "run.days": 2}), tmp_path / "r")
    with pytest.raises(GroupError, match="no ethnic minority"):
        open_run(tmp_path / "r").group_column("ethnicity")


def _provinces() -> dict[str, dict[str, str]]:
    table = files("scsim") / "data" / "china-provinces-2020.csv"
    with table.open(encoding="utf-8") as handle:
        return {row["code"]: row for row in csv.DictReader(handle)}


# the 2,000,000 serving members of the armed forces count in the national total and in no
# province; their minority share is not published, so it is taken at the national rate [U]
ARMY_MINORITIES = round(2_000_000 * 125_467_390 / 1_411_778_724)


def _remainder(rows: dict[str, dict[str, str]], provinces: dict[str, dict[str, str]]) -> float:
    """The share the provinces without a published figure take: what the nation has left."""
    found = sum(int(rows[c]["minorities"]) for c in provinces if c in rows)
    missing = sum(int(p["population"]) for c, p in provinces.items() if c not in rows)
    return (125_467_390 - ARMY_MINORITIES - found) / missing


def test_the_census_shares_add_up() -> None:
    rows = _rows()
    for row in rows.values():
        assert float(row["minority_share"]) + float(row["han_share"]) == pytest.approx(1.0)
        share = int(row["minorities"]) / int(row["residents"])
        assert round(share, 4) == float(row["minority_share"])
    assert rows["CN"]["minorities"] == "125467390"


def test_each_province_row_is_of_the_census_residents() -> None:
    provinces = _provinces()
    rows = {c: r for c, r in _rows().items() if c != "CN"}
    assert len(rows) == 24
    for code, row in rows.items():
        assert row["residents"] == provinces[code]["population"]


def test_the_provinces_and_the_remainder_give_back_the_national_minorities() -> None:
    provinces, rows = _provinces(), _rows()
    rest = round(_remainder(rows, provinces), 4)
    total = sum(
        int(p["population"]) * (float(rows[c]["minority_share"]) if c in rows else rest)
        for c, p in provinces.items()
    )
    # rounding each share to 4 places moves a province by at most 0.00005 of its residents
    tolerance = 0.00005 * sum(int(p["population"]) for p in provinces.values())
    assert abs(total - (125_467_390 - ARMY_MINORITIES)) < tolerance


def test_national_score_takes_each_province_share_from_the_data_file() -> None:
    provinces, rows = _provinces(), _rows()
    rest = round(_remainder(rows, provinces), 4)
    regions = load_scenario("national-score").population.regions
    by_code = {p["code"]: p["name"].replace(" ", "_") for p in provinces.values()}
    assert set(by_code.values()) == set(regions)
    for code, name in by_code.items():
        expected = float(rows[code]["minority_share"]) if code in rows else rest
        assert regions[name].minority_share == expected, name


def test_national_rollout_has_national_score_s_groups() -> None:
    national = load_scenario("national-score").population.regions
    rollout = load_scenario("national-rollout").population.regions
    assert {n: r.minority_share for n, r in rollout.items()} == {
        n: r.minority_share for n, r in national.items()
    }


def test_wrongful_sanctions_by_mechanism_are_cut_by_ethnic_group(tmp_path: Path) -> None:
    """The wrongful sanctions' rows carry the strata's columns, not the ethnic group (which
    splits a stratum's ids): they are counted per cell and summed per group, every sanction in
    the group of its person's id."""
    s = _scenario(size=20_000, false_records_per_year=0.5)
    raw = s.model_dump(mode="json")
    raw["rulebook"]["services"] = {"loan": {"per_year": 50.0, "blocked_tiers": ["bad"]}}
    simulate(
        load_scenario(Scenario.model_validate(raw), overrides={"run.report": False}),
        tmp_path / "run",
    )
    everyone = wrongful_by_mechanism(tmp_path / "run")
    by_group = wrongful_by_mechanism(tmp_path / "run", by="ethnicity")
    assert set(by_group.group) == {"majority", "minority"}
    totals = by_group.groupby(["day", "mechanism"]).sanctions.sum()
    assert totals.to_dict() == everyone.set_index(["day", "mechanism"]).sanctions.to_dict()
    wrongful = wrongful_sanctions(tmp_path / "run")
    assert len(wrongful) > 100  # enough wrongful sanctions in both groups to count
    minority = int((minority_of(s, wrongful.person.to_numpy()) == 1).sum())
    assert 0 < minority < len(wrongful)
    assert by_group.query("group == 'minority'").sanctions.sum() == minority
