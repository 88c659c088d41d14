"""Rewards that happen (issue 24, item 3): services reward by list (a redlist's green channel)
as they refuse by list, and every reward, by list or by grade, is a ledger row of kind
`reward` that the audit counts beside the punishments, per grade or list and per group."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bounds import total, within_poisson
from builders import run_days, scenario

from scsim.audit import balance, balance_by_cause, dossier, fairness
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.errors import ScenarioError
from scsim.report.html import write_report
from scsim.scenario import load_scenario
from scsim.simulation.run import simulate

SIZE = 20_000
PER_YEAR = 36.5  # a request every ten days


def _scenario(misattribution: float = 0.0, **services: dict) -> object:
    """A good deed, recorded at once, puts its doer on the redlist `red` for good; theft costs
    200 points (grade bad for 5 days) and lists its doer on `black` for 10 days."""
    return scenario(
        population={"size": SIZE},
        behaviour={
            "events": {"deed": {"per_year": 10.0, "offence": False}, "theft": {"per_year": 5.0}}
        },
        surveillance={
            "sensors": {
                "cam": {"events": ["deed", "theft"], "detection": 1.0},
                "ears": {"events": ["deed"], "detection": 0.0, "misattribution": misattribution},
            }
        },
        rulebook={
            "rules": {
                "deed": {"points": 0, "enter_list": "red"},
                "theft": {"points": -200, "expires_after_days": 5, "enter_list": "black"},
            },
            "lists": {
                "red": {"kind": "red", "term_days": 0},
                "black": {"term_days": 10},
            },
            "services": services,
        },
    )


def _rows(model: Model, kind: str) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND[kind]
    return {k: v[keep] for k, v in model.rows.items()}


def test_a_redlisted_persons_granted_request_is_a_reward_row_naming_the_list() -> None:
    # The green channel `hall` rewards the members of `red`. Given the day's list sizes its
    # requests are Poisson at the service's rate from the members
    # (`scsim.engine.components.demand`), so its rewards are Poisson with mean
    # sum over days of (red members) x rate.
    days = 10
    model = Model.build(_scenario(hall={"per_year": PER_YEAR, "reward_lists": ["red"]}))
    rows = run_days(model, days)
    rewards, entries = _rows(model, "reward"), _rows(model, "list_entry")
    red, hall = model.params.codes.lists[0], model.params.codes.services[0]
    assert rewards["entity"].size == total(rows, "hall_rewards") > 1000
    assert (rewards["rule"] == hall).all() and (rewards["source"] == red).all()
    assert (rewards["origin"] == ORIGIN["list"]).all() and rewards["truth"].all()
    # each rewarded person entered the redlist on or before the day of the reward
    entered: dict[int, int] = {}
    for who, day, rule in zip(entries["entity"], entries["day"], entries["rule"], strict=True):
        if rule == red:
            entered.setdefault(int(who), int(day))
    assert all(entered[int(w)] <= d for w, d in zip(rewards["entity"], rewards["day"], strict=True))
    within_poisson(total(rows, "hall_rewards"), sum(r["red_size"] for r in rows) * PER_YEAR / 365)


def test_a_request_refused_by_a_blacklist_is_not_rewarded_by_a_redlist() -> None:
    # `gate` rewards `red` and refuses `black`: nobody on black that day is rewarded.
    model = Model.build(
        _scenario(gate={"per_year": PER_YEAR, "reward_lists": ["red"], "blocked_lists": ["black"]})
    )
    run_days(model, 10)
    black = model.params.codes.lists[1]
    on_black = np.zeros((SIZE, 10), dtype=bool)  # who is on black at each day's end
    moves = model.rows["kind"] == KIND["list_entry"]
    moves |= model.rows["kind"] == KIND["list_exit"]
    moves &= model.rows["rule"] == black
    for who, day, kind in zip(
        *(model.rows[c][moves] for c in ("entity", "day", "kind")), strict=True
    ):
        on_black[who, day:] = kind == KIND["list_entry"]  # rows in day order
    rewards, refusals = _rows(model, "reward"), _rows(model, "blocked")
    assert refusals["entity"].size > 200 and rewards["entity"].size > 1000
    assert not on_black[rewards["entity"], rewards["day"]].any()
    assert on_black[refusals["entity"], refusals["day"]].all()


def _pair(model: Model, kind: str) -> tuple[np.ndarray, np.ndarray]:
    rows = _rows(model, kind)
    return rows["entity"], rows["day"]


def test_a_reward_by_grade_is_a_row_naming_the_grade() -> None:
    model = Model.build(_scenario(bonus={"per_year": PER_YEAR, "reward_tiers": ["good"]}))
    rows = run_days(model, 5)
    rewards = _rows(model, "reward")
    good = model.params.codes.tiers[0]
    assert rewards["entity"].size == total(rows, "bonus_rewards") > 1000
    assert (rewards["source"] == good).all() and (rewards["origin"] == ORIGIN["tier"]).all()


def test_a_reward_on_a_redlisting_that_rests_on_a_false_record_is_unearned() -> None:
    # Every deed is seen only by `ears`, which charges it to someone else: the red list holds
    # only people put there by another's deed, and their green-channel rewards are unearned.
    s = _scenario(misattribution=1.0, hall={"per_year": PER_YEAR, "reward_lists": ["red"]})
    raw = s.model_dump(mode="json", exclude_none=True)
    raw["surveillance"]["sensors"]["cam"]["events"] = ["theft"]
    raw["surveillance"]["sensors"]["ears"]["detection"] = 1.0
    model = Model.build(type(s).model_validate(raw))
    run_days(model, 5)
    rewards = _rows(model, "reward")
    assert rewards["entity"].size > 500 and not rewards["truth"].any()


def test_reward_lists_name_known_lists() -> None:
    with pytest.raises(ScenarioError, match="reward_lists: unknown list 'gold'"):
        load_scenario("rongcheng", overrides={"rulebook.services.flight.reward_lists": ["gold"]})


def test_the_audit_sets_rewards_beside_punishments_per_cause_and_group(tmp_path: Path) -> None:
    s = load_scenario(
        _scenario(
            hall={"per_year": PER_YEAR, "reward_lists": ["red"], "blocked_lists": ["black"]},
            bonus={"per_year": PER_YEAR, "reward_tiers": ["good"], "blocked_tiers": ["bad"]},
        ),
        overrides={"run.days": 8},
    )
    simulate(s, tmp_path / "run")
    ledger = pd.read_parquet(tmp_path / "run" / "ledger.parquet")
    causes = balance_by_cause(tmp_path / "run").set_index("cause")
    counted = ledger[ledger.kind.isin(["reward", "blocked"])].groupby(["source", "kind"]).size()
    assert causes.loc["red", "rewards"] == counted["red", "reward"] > 0
    assert causes.loc["good", "rewards"] == counted["good", "reward"] > 0
    assert causes.loc["bad", "refusals"] == counted["bad", "blocked"] > 0
    assert causes.loc["black", "refusals"] == counted["black", "blocked"] > 0
    assert list(causes.kind[["good", "bad", "red", "black"]]) == ["grade", "grade", "list", "list"]
    everyone = balance(tmp_path / "run").iloc[0]
    assert everyone.rewards == (ledger.kind == "reward").sum()
    assert everyone.refusals == (ledger.kind == "blocked").sum()
    assert everyone.rewarded == ledger.entity[ledger.kind == "reward"].nunique()
    table = fairness(tmp_path / "run")
    assert table.query("dimension == 'all'").rewards.iloc[0] == everyone.rewards
    person = int(ledger.entity[(ledger.kind == "reward") & (ledger.source == "red")].iloc[0])
    what = dossier(tmp_path / "run", person).query("kind == 'reward'").what
    assert what.str.contains("rewarded with hall: on red").any()
    report = write_report(tmp_path / "run").read_text()
    assert "Rewards and punishments" in report and "rewards granted" in report


def test_the_green_channels_of_the_builtins_reward_their_members() -> None:
    for name, service, listed in (
        ("rongcheng", "approvals_green_channel", "green_channel"),
        ("national-score", "public_housing", "redlist"),
    ):
        book = load_scenario(name).rulebook
        assert listed in book.services[service].reward_lists
