"""Gaming: acts done for the points (docs/sources.md, Apps, 000; volunteering and blood donation
earn points, 003). Off by default: switched off it leaves no trace; switched on, people act at
the configured rate up to the daily cap, more in the pressed grades and more for each sanction
suffered, within bounds derived from the binomial and Poisson variances (fixed seeds)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from bounds import within_binomial, within_variance
from builders import assert_resumes_to_the_same_bytes, run_days, scenario

from scsim.audit import dossier
from scsim.engine.components.gaming import RULE
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario
from scsim.simulation.run import simulate

SIZE = 20_000
DAILY = 0.4  # acts a person-day under no pressure
GAMING = {"per_year": DAILY * 365, "points": 2, "daily_cap": 1}


def _model(
    gaming: dict | None,
    base: int = 1000,
    theft: float = 0.0,
    feedback: bool = True,
    services: dict | None = None,
) -> Model:
    behaviour: dict = {"events": {"theft": {"per_year": theft}}, "feedback": feedback}
    if gaming is not None:
        behaviour["gaming"] = gaming
    return Model.build(
        scenario(
            population={"size": SIZE},
            behaviour=behaviour,
            surveillance={"sensors": {"cam": {"events": ["theft"], "detection": 1.0}}},
            rulebook={
                "base": base,
                "rules": {"theft": {"points": -200}},
                "services": services or {},
            },
        )
    )


def _gamed(model: Model, origin: str = "gamed") -> dict[str, np.ndarray]:
    keep = (
        (model.rows["kind"] == KIND["record"])
        & (model.rows["rule"] == model.params.codes.vocabulary.code(RULE))
        & (model.rows["origin"] == ORIGIN[origin])
    )
    return {k: v[keep] for k, v in model.rows.items()}


def _capped_poisson(mean: float, cap: int) -> tuple[float, float]:
    """Mean and variance of min(N, cap) for N ~ Poisson(mean): one person's acts in a day."""
    p = [math.exp(-mean) * mean**k / math.factorial(k) for k in range(cap)]
    values = [*range(cap), cap]
    probs = [*p, 1.0 - sum(p)]
    m = sum(v * q for v, q in zip(values, probs, strict=True))
    return m, sum(v * v * q for v, q in zip(values, probs, strict=True)) - m * m


def test_without_gaming_nobody_games() -> None:
    off = _model(None, theft=2.0)
    idle = _model({**GAMING, "per_year": 0.0, "pressed_tiers": ["bad"]}, theft=2.0)
    off_rows, idle_rows = run_days(off, 10), run_days(idle, 10)
    assert off.params.mechanisms.gaming is None and idle.params.mechanisms.gaming is None
    assert RULE not in off.params.codes.vocabulary.names
    assert not any(key.startswith("gaming") for key in off_rows[0])
    assert not (off.rows["origin"] == ORIGIN["gamed"]).any()
    assert off_rows == idle_rows
    for column in off.rows:  # a rate of 0 is no gaming: the same ledger, row for row
        assert np.array_equal(off.rows[column], idle.rows[column])
    on = _model(GAMING, theft=2.0)
    assert sum(row["gaming_acts"] for row in run_days(on, 10)) > 0


@pytest.mark.parametrize("cap", [1, 3])
def test_acts_come_at_the_configured_rate_up_to_the_daily_cap(cap: int) -> None:
    days, daily = 15, 1.5
    model = _model({**GAMING, "per_year": daily * 365, "daily_cap": cap})
    before = model.state.score_sum
    rows = run_days(model, days)
    gamed = _gamed(model)
    mean, variance = _capped_poisson(daily, cap)
    within_variance(gamed["entity"].size, SIZE * days * mean, SIZE * days * variance)
    person_day = gamed["day"].astype(np.int64) * SIZE + gamed["entity"]
    assert np.unique(person_day, return_counts=True)[1].max() == cap  # binds, never passed
    assert sum(row["gaming_acts"] for row in rows) == gamed["entity"].size
    assert sum(row["gaming_points"] for row in rows) == 2 * gamed["entity"].size
    assert (gamed["delta"] == 2).all() and gamed["truth"].all()
    assert model.state.score_sum - before == 2 * gamed["entity"].size
    assert (model.state.people.false_points == 0).all()  # earned: the audit's fair grade keeps them


def test_the_pressed_grades_game_at_their_multiplier() -> None:
    days, pressed = 15, 3.0
    spec = {**GAMING, "pressed_tiers": ["bad"], "pressed": pressed}
    good = _model(spec)  # base 1000: good, not pressed
    bad = _model(spec, base=500)  # bad all along: 15 days x 2 points stay below 900
    good_rows, bad_rows = run_days(good, days), run_days(bad, days)
    n = SIZE * days
    within_binomial(_gamed(good)["entity"].size, n, 1 - math.exp(-DAILY))
    within_binomial(_gamed(bad)["entity"].size, n, 1 - math.exp(-DAILY * pressed))
    assert sum(row["gaming_acts_pressed"] for row in good_rows) == 0
    assert sum(row["gaming_acts_pressed"] for row in bad_rows) == _gamed(bad)["entity"].size


@pytest.mark.parametrize("feedback", [True, False])
def test_each_sanction_suffered_raises_the_rate_unless_behaviour_is_frozen(feedback) -> None:
    days, per_sanction, wary = 15, 0.5, 4
    model = _model({**GAMING, "per_sanction": per_sanction}, feedback=feedback)
    model.state.people.wariness[: SIZE // 2] = wary  # as if four refusals or demotions each
    run_days(model, days)
    entity = _gamed(model)["entity"]
    factor = 1 + per_sanction * wary if feedback else 1.0
    n = SIZE // 2 * days
    within_binomial(int((entity < SIZE // 2).sum()), n, 1 - math.exp(-DAILY * factor))
    within_binomial(int((entity >= SIZE // 2).sum()), n, 1 - math.exp(-DAILY))


def test_refusals_make_people_wary_when_only_gaming_reads_wariness() -> None:
    refused = {"school": {"per_year": 20.0, "blocked_tiers": ["bad"]}}
    for per_sanction, grows in ((0.0, False), (1.0, True)):
        model = _model(
            {**GAMING, "per_sanction": per_sanction, "points": 1},
            base=500,
            services=refused,
        )
        rows = run_days(model, 5)
        blocked = sum(row["school_blocked"] for row in rows)
        assert blocked > 100
        assert int(model.state.people.wariness.astype(np.int64).sum()) == (blocked if grows else 0)


def test_gamed_points_fade_after_their_window() -> None:
    window, days = 3, 10
    model = _model({**GAMING, "expires_after_days": window})
    before = model.state.score_sum
    rows = run_days(model, days)
    faded = _gamed(model, "expiry")
    acts = [row["gaming_acts"] for row in rows]
    assert [row["gaming_points_faded"] for row in rows] == [0] * window + [
        2 * a for a in acts[:-window]
    ]
    assert (faded["delta"] == -2).all() and faded["truth"].all()
    assert model.state.score_sum - before == 2 * sum(acts[-window:])


def test_pressed_grades_must_be_known_and_builtins_game() -> None:
    with pytest.raises(ScenarioError, match="unknown tier 'Z'"):
        load_scenario("youth-app", overrides={"behaviour.gaming.pressed_tiers": ["Z"]})
    for name, on in (("youth-app", True), ("rongcheng", True), ("national-score", False)):
        assert (load_scenario(name).behaviour.gaming.per_year > 0) == on, name


def test_the_dossier_says_a_gamed_act_was_done_for_the_points(tmp_path: Path) -> None:
    s = load_scenario(
        _model(GAMING).params.scenario,
        overrides={"population.size": 2_000, "run.days": 3, "run.report": False},
    )
    simulate(s, tmp_path / "run")
    rows = dossier(tmp_path / "run", 0)  # 0.4 acts a day: person 0 acts in 3 days or not
    gamed = rows[rows.rule == RULE]
    assert gamed.what.str.contains("done for the points").all()
    assert (gamed.delta == 2).all()


def test_a_run_with_gamed_points_pending_reversal_resumes_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = {**GAMING, "expires_after_days": 6, "pressed_tiers": ["bad"], "per_sanction": 0.5}
    s = load_scenario(
        _model(spec, theft=2.0).params.scenario,
        overrides={"population.size": 3_000, "run.days": 16, "run.report": False},
    )
    assert_resumes_to_the_same_bytes(s, tmp_path, monkeypatch, killed_on=11, every=4)
