"""The gray market in points (docs/sources.md, Side effects, source 000) and the income bands it
buys by. Off by default: switched off it leaves no trace; switched on, people in the buyer
grades buy at their band's rate and some purchases are detected and fined, within bounds
derived from the Poisson and binomial variances (fixed seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bounds import within_binomial, within_poisson
from builders import run_days, scenario
from pydantic import ValidationError

from scsim.audit import fairness
from scsim.audit.run import open_run
from scsim.engine.income import band_of, band_starts
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.engine.state import TAINTED
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario
from scsim.simulation.run import simulate

BANDS = {"poor": {"urban": 0.3, "rural": 0.7}, "rich": {"urban": 0.7, "rural": 0.3}}
MARKET = {
    "per_year": 24.0,
    "by_income": {"poor": 1.0, "rich": 4.0},
    "buyer_tiers": ["good", "bad"],
    "points": 20,
    "detection": 0.25,
    "penalty": -50,
}
THEFT = {"events": {"theft": {"per_year": 2.0}}}
CAMERA = {"sensors": {"cam": {"events": ["theft"], "detection": 1.0}}}


def _model(market: dict | None, size: int = 20_000, theft: float = 2.0, **sections: dict) -> Model:
    behaviour = {
        "events": {"theft": {"per_year": theft}},
        **({"gray_market": market} if market is not None else {}),
    }
    return Model.build(
        scenario(
            population={
                "size": size,
                "income": BANDS,
                "regions": {"Here": {"urban_share": 0.5}},
            },
            behaviour=behaviour,
            surveillance=CAMERA,
            rulebook={"rules": {"theft": {"points": -200}}},
            **sections,
        )
    )


def _rows(model: Model, origin: str) -> dict[str, np.ndarray]:
    keep = (model.rows["kind"] == KIND["record"]) & (model.rows["origin"] == ORIGIN[origin])
    return {k: v[keep] for k, v in model.rows.items()}


# ---------------------------------------------------------------- income bands


def test_income_bands_cut_every_stratum_into_contiguous_ranges_by_area() -> None:
    model = _model(None, size=100_000)
    pop, spec = model.params.host_pop, model.params.scenario.population
    starts = band_starts(spec, pop)
    assert (starts[:, 0] == pop.stratum_start[:-1]).all()
    assert (starts[:, -1] == pop.stratum_start[1:]).all()
    for s in range(pop.n_strata):
        share = np.diff(starts[s]) / pop.stratum_size[s]
        expected = [0.3, 0.7] if pop.stratum_urban[s] else [0.7, 0.3]
        assert np.allclose(share, expected, atol=1 / pop.stratum_size[s])
    ids = np.arange(pop.size)
    band = band_of(starts, pop, ids)
    assert (np.diff(band)[np.diff(pop.stratum_of(ids)) == 0] >= 0).all()  # poorest first
    assert np.bincount(band).sum() == pop.size


def test_a_population_without_income_bands_is_one_band() -> None:
    model = Model.build(scenario(behaviour=THEFT))
    starts = band_starts(model.params.scenario.population, model.params.host_pop)
    assert starts.shape == (model.params.host_pop.n_strata, 2)
    assert (band_of(starts, model.params.host_pop, np.arange(100)) == 0).all()


def test_income_shares_must_sum_to_one_and_bands_must_be_known() -> None:
    with pytest.raises(ValidationError, match=r"urban shares of population\.income must sum to 1"):
        scenario(population={"income": {"a": {"urban": 0.5, "rural": 1.0}}}, behaviour=THEFT)
    with pytest.raises(ScenarioError, match="unknown income band 'median'"):
        load_scenario(
            "national-score",
            overrides={"behaviour.gray_market.by_income": {"median": 2.0}},
        )


# ---------------------------------------------------------------- the market


def test_without_a_gray_market_nobody_buys_points() -> None:
    off, on = _model(None), _model(MARKET)
    off_rows, on_rows = run_days(off, 10), run_days(on, 10)
    assert not (off.rows["origin"] == ORIGIN["purchased"]).any()
    assert not any(key.startswith("gray_market") for key in off_rows[0])
    assert "gray_market" not in off.params.codes.vocabulary.names
    assert sum(row["gray_market_purchases"] for row in on_rows) > 0
    # a market with no rate is no market: the same ledger, row for row
    idle = _model({**MARKET, "per_year": 0.0})
    run_days(idle, 10)
    for column in off.rows:
        assert np.array_equal(off.rows[column], idle.rows[column])


def test_points_are_bought_at_each_bands_rate_and_detected_at_the_configured_rate() -> None:
    days = 20
    model = _model(MARKET, theft=0.0)
    before = model.state.score_sum
    rows = run_days(model, days)
    bought, fined = _rows(model, "purchased"), _rows(model, "detected")
    starts = band_starts(model.params.scenario.population, model.params.host_pop)
    people = np.bincount(
        np.tile(np.arange(2), model.params.host_pop.n_strata),
        weights=np.diff(starts, axis=1).ravel(),
    )
    band = band_of(starts, model.params.host_pop, bought["entity"])
    for b, name in enumerate(("poor", "rich")):
        mean = people[b] * MARKET["per_year"] * MARKET["by_income"][name] * days / 365
        within_poisson(int((band == b).sum()), mean)
        assert sum(row[f"gray_market_purchases_{name}"] for row in rows) == (band == b).sum()
    within_binomial(fined["entity"].size, bought["entity"].size, MARKET["detection"])
    assert (bought["delta"] == 20).all() and (~bought["truth"]).all()
    assert (fined["delta"] == -50).all() and fined["truth"].all()
    assert model.state.score_sum - before == 20 * bought["entity"].size - 50 * fined["entity"].size
    assert sum(row["gray_market_detected"] for row in rows) == fined["entity"].size


def test_holders_of_a_buying_grade_buy_at_their_bands_rate_and_nobody_else_does() -> None:
    """A buying grade that is nobody's starting grade keeps a roster (`scsim.engine.members`):
    purchases are drawn among its holders, per stratum and income band, at the band's rate."""
    days, market = 20, {**MARKET, "buyer_tiers": ["bad"]}
    model = _model(market, theft=0.0)
    assert model.params.rostered.tolist() == [False, True]
    holders = np.arange(0, 20_000, 10)
    model.state.people.score[holders] = 0  # 20 points a purchase: still bad after 20 days
    model.state.people.tier[holders] = 1
    model.state.members.touch(holders)
    rows = run_days(model, days)
    bought = _rows(model, "purchased")
    assert np.isin(bought["entity"], holders).all()
    starts = band_starts(model.params.scenario.population, model.params.host_pop)
    band = band_of(starts, model.params.host_pop, bought["entity"])
    held = np.bincount(band_of(starts, model.params.host_pop, holders), minlength=2)
    for b, name in enumerate(("poor", "rich")):
        mean = held[b] * market["per_year"] * market["by_income"][name] * days / 365
        within_poisson(int((band == b).sum()), mean)
        assert sum(row[f"gray_market_purchases_{name}"] for row in rows) == (band == b).sum()
    within_binomial(_rows(model, "detected")["entity"].size, band.size, market["detection"])


def test_only_people_in_the_buyer_grades_buy() -> None:
    idle = _model({**MARKET, "buyer_tiers": ["bad"]}, theft=0.0)
    assert sum(row["gray_market_purchases"] for row in run_days(idle, 10)) == 0
    model = _model({**MARKET, "buyer_tiers": ["bad"]})
    run_days(model, 20)
    bought, thefts = _rows(model, "purchased"), _rows(model, "detected")
    thefts = {k: v[thefts["delta"] == -200] for k, v in thefts.items()}
    assert bought["entity"].size > 100
    first_theft = {}
    for person, day in zip(thefts["entity"].tolist(), thefts["day"].tolist(), strict=True):
        first_theft.setdefault(person, day)
    assert all(
        person in first_theft and first_theft[person] <= day
        for person, day in zip(bought["entity"].tolist(), bought["day"].tolist(), strict=True)
    )


def test_bought_points_are_not_earned_but_wrong_no_one() -> None:
    model = _model(MARKET, theft=0.0)
    run_days(model, 10)
    bought = _rows(model, "purchased")
    assert bought["entity"].size > 100
    assert (model.state.people.flags & TAINTED == 0).all()
    assert model.state.tainted == 0
    assert (model.state.people.false_points[np.unique(bought["entity"])] > 0).all()


def test_the_audit_groups_by_income_band(tmp_path: Path) -> None:
    s = _model(MARKET, size=5_000).params.scenario
    s = load_scenario(
        s,
        overrides={
            "run.days": 10,
            "run.report": False,
            "rulebook.services": {"loan": {"per_year": 20.0, "blocked_tiers": ["bad"]}},
        },
    )
    simulate(s, tmp_path / "run")
    audit = open_run(tmp_path / "run")
    groups = audit.groups("income")
    assert groups.group.tolist() == ["poor", "rich"] and groups.people.sum() == 5_000
    table = fairness(tmp_path / "run").query("dimension == 'income'")
    assert table.group.tolist() == ["poor", "rich"]
    assert (
        table.sanctions.sum()
        == fairness(tmp_path / "run").query("dimension == 'all'").sanctions.item()
    )
