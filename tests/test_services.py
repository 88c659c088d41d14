"""What services do beyond refusing and rewarding (docs/sources.md, Consequences and Lists):
restrictions that reach the households of the listed (children kept out of schools), premiums
instead of refusals (dearer loans), and lists entered by grade (redlists of the trusted). Each
is off by default: switched off it leaves no trace; switched on it acts at the configured rate,
within bounds derived from the Poisson variance (fixed seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bounds import total, within_binomial, within_poisson, within_variance
from builders import run_days, scenario

from scsim.audit import dossier, wrongful_by_mechanism, wrongful_sanctions
from scsim.engine.components.services import household_refusals
from scsim.engine.ledger import KIND, ORIGIN, ORIGINS
from scsim.engine.model import Model
from scsim.engine.state import list_bit
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario
from scsim.simulation.run import simulate

SIZE = 20_000


def _model(services: dict, lists: dict | None = None, **camera: object) -> Model:
    return Model.build(
        scenario(
            population={"size": SIZE},
            behaviour={"events": {"theft": {"per_year": 2.0}}},
            surveillance={"sensors": {"cam": {"events": ["theft"], "detection": 1.0, **camera}}},
            rulebook={
                "rules": {
                    "theft": {"points": -200, "enter_list": "black", "expires_after_days": 5}
                },
                "lists": {"black": {"term_days": 10}, **(lists or {})},
                "services": services,
            },
        )
    )


def _rows(model: Model, kind: str) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND[kind]
    return {k: v[keep] for k, v in model.rows.items()}


SCHOOL = {"per_year": 5.0, "blocked_lists": ["black"]}


def test_without_the_service_rules_nothing_changes() -> None:
    plain = _model({"school": SCHOOL, "loan": {"per_year": 5.0}})
    idle = _model(
        {"school": {**SCHOOL, "household_lists": []}, "loan": {"per_year": 5.0, "premium_bp": 300}},
        lists={"red": {"kind": "red"}},
    )
    rows, idle_rows = run_days(plain, 10), run_days(idle, 10)
    assert plain.params.mechanisms.services is None and idle.params.mechanisms.services is None
    assert not any(k.endswith(("_household_blocked", "_premiums")) for k in rows[0])
    assert not (plain.rows["origin"] == ORIGIN["household"]).any()
    assert _rows(plain, "burden")["entity"].size == 0
    assert [r["school_blocked"] for r in rows] == [r["school_blocked"] for r in idle_rows]


def test_a_listed_persons_household_is_refused_the_service() -> None:
    model = _model({"school": {**SCHOOL, "household_lists": ["black"]}})
    rows = run_days(model, 10)
    assert sum(row["school_household_blocked"] for row in rows) > 100
    # every request from a household with a listed member is refused: check everyone, today
    person = np.arange(SIZE, dtype=np.int64)
    refused, _, _ = household_refusals(model, person, np.zeros(SIZE, dtype=np.int64))
    listed = (model.state.people.flags & list_bit(0)) != 0
    members, owner = model.params.pop.household_members(person)
    expected = np.zeros(SIZE, dtype=bool)
    expected[owner[listed[members]]] = True
    assert np.array_equal(refused, expected) and expected.sum() > 100
    household = _rows(model, "blocked")["origin"] == ORIGIN["household"]
    assert household.sum() > 100


def test_a_household_refusal_on_a_false_listing_is_wrongful() -> None:
    model = _model({"school": {**SCHOOL, "household_lists": ["black"]}}, misattribution=1.0)
    run_days(model, 10)
    blocked = _rows(model, "blocked")
    household = blocked["origin"] == ORIGIN["household"]
    assert household.sum() > 100
    assert not blocked["truth"][household].any()


def test_a_premium_is_charged_on_each_request_of_the_grades_that_pay_it() -> None:
    rate, bp = 20.0, 250
    model = _model({"loan": {"per_year": rate, "premium_tiers": ["bad"], "premium_bp": bp}})
    rows = run_days(model, 20)
    premiums = sum(row["loan_premiums"] for row in rows)
    mean = sum(row["tier_bad"] for row in rows) * rate / 365  # grades at request time
    within_poisson(premiums, mean)
    burdens = _rows(model, "burden")
    assert burdens["entity"].size == premiums
    assert (burdens["delta"] == bp).all() and burdens["truth"].all()
    assert (burdens["rule"] == model.params.codes.services[0]).all()


def test_a_list_entered_by_grade_holds_exactly_the_holders_of_that_grade() -> None:
    model = _model({}, lists={"watch": {"kind": "black", "term_days": 0, "enter_tiers": ["bad"]}})
    rows = run_days(model, 15)
    assert all(row["watch_size"] == row["tier_bad"] for row in rows)
    assert sum(row["watch_entries_by_grade"] for row in rows) > 100
    assert sum(row["watch_exits_by_grade"] for row in rows) > 100  # deductions expire
    entries = _rows(model, "list_entry")
    by_grade = entries["origin"] == ORIGIN["grade"]
    assert by_grade.sum() == sum(row["watch_entries_by_grade"] for row in rows)
    assert entries["truth"][by_grade].all()


def test_a_list_entered_by_grade_on_false_records_is_entered_wrongly() -> None:
    model = _model(
        {}, lists={"watch": {"term_days": 0, "enter_tiers": ["bad"]}}, misattribution=1.0
    )
    rows = run_days(model, 5)
    entries = _rows(model, "list_entry")
    by_grade = entries["origin"] == ORIGIN["grade"]
    assert by_grade.sum() > 100 and not entries["truth"][by_grade].any()
    assert rows[-1]["watch_size_wrongful"] == rows[-1]["watch_size"]


def test_the_service_rules_name_known_lists_and_grades_and_stay_fixed() -> None:
    with pytest.raises(ScenarioError, match="unknown tier 'Z'"):
        load_scenario("national-score", overrides={"rulebook.services.loan.premium_tiers": ["Z"]})
    with pytest.raises(ScenarioError, match="fixed for the whole run"):
        load_scenario(
            "national-score",
            overrides={"rulebook.changes": [{"day": 5, "services": {"loan": {"premium_bp": 9}}}]},
        )


def test_the_audit_traces_household_refusals_and_explains_premiums(tmp_path: Path) -> None:
    services = {
        "school": {**SCHOOL, "household_lists": ["black"]},
        "loan": {"per_year": 20.0, "premium_tiers": ["bad"], "premium_bp": 250},
    }
    s = load_scenario(
        _model(services, misattribution=1.0).params.scenario,
        overrides={"run.days": 12, "run.report": False},
    )
    simulate(s, tmp_path / "run")
    rows = wrongful_sanctions(tmp_path / "run")
    household = rows[rows.reason == "household"]
    assert len(household) > 50 and set(household.mechanism) == {"household"}
    daily = wrongful_by_mechanism(tmp_path / "run")
    assert daily.query("mechanism == 'household'").sanctions.sum() == len(household)
    burdens = _rows_of(tmp_path / "run", "burden")
    person = int(burdens[0])
    what = dossier(tmp_path / "run", person).query("kind == 'burden'").what
    assert what.str.contains("at a premium of 250 basis points").all()


def _rows_of(run: Path, kind: str) -> list[int]:
    ledger = pd.read_parquet(run / "ledger.parquet")
    return ledger.entity[ledger.kind == kind].tolist()


@pytest.mark.parametrize("rewarded", [[], ["good"]])
def test_granted_requests_of_a_rewarded_grade_are_each_counted_as_a_reward(
    rewarded: list[str],
) -> None:
    # Theft puts its doers in grade bad for 5 days (about a quarter of the people at a time).
    # Everyone asks for a bonus, granted to all, rewarded to the holders of a rewarded grade;
    # and for a perk refused to grade good, so never granted there, rewarded or not. Requests
    # are a Poisson stream at the service's rate, so given the day's grade counts the bonus's
    # rewards are Poisson with mean sum over days of (good holders x per_year / 365).
    # Switched off, nothing is rewarded and the requests come at the same rate (a service no
    # grade acts on has its requests counted apart, `scsim.engine.components.demand`: other draws).
    days, per_year = 10, 36.5
    model = Model.build(
        scenario(
            population={"size": SIZE},
            behaviour={"events": {"theft": {"per_year": 20.0}}},
            surveillance={"sensors": {"cam": {"events": ["theft"], "detection": 1.0}}},
            rulebook={
                "rules": {"theft": {"points": -200, "expires_after_days": 5}},
                "services": {
                    "bonus": {"per_year": per_year, "reward_tiers": rewarded},
                    "perk": {
                        "per_year": per_year,
                        "blocked_tiers": ["good"],
                        "reward_tiers": rewarded,
                    },
                },
            },
        )
    )
    rows = run_days(model, days)
    assert total(rows, "perk_rewards") == 0
    assert total(rows, "perk_blocked") < total(rows, "perk_attempts")  # bad holders granted
    within_poisson(total(rows, "bonus_attempts"), SIZE * days * per_year / 365)
    if not rewarded:
        assert total(rows, "bonus_rewards") == 0
        return
    good_days = sum(r["tier_good"] for r in rows)
    assert good_days < 0.9 * days * SIZE
    within_poisson(total(rows, "bonus_rewards"), good_days * per_year / 365)


@pytest.mark.parametrize("retry", [0.0, 0.4])
def test_a_refused_person_tries_again_at_the_retry_chance_after_a_geometric_wait(
    retry: float,
) -> None:
    # Everyone is refused (grade good is blocked), and people ask only on day 0 (a change sets
    # the rate to 0 from day 1): every later refusal is a retry. Each refusal is retried with
    # chance `retry`, and a retry is refused again, so the retries of one day-0 refusal are
    # geometric: mean p / (1 - p), variance p / (1 - p)**2. The wait to a retry is geometric
    # on days 1, 2, ... with mean `retry_mean_days` m, variance m (m - 1); measured from the
    # people refused once on day 0 to their next refusal (40 days: no wait of m = 3 is cut).
    days, mean = 40, 3.0
    flight = {"per_year": 36.5, "blocked_tiers": ["good"], "retry": retry, "retry_mean_days": mean}
    model = Model.build(
        scenario(
            population={"size": SIZE},
            behaviour={"events": {"theft": {"per_year": 0.0}}},
            rulebook={
                "services": {"flight": flight},
                "changes": [{"day": 1, "services": {"flight": {"per_year": 0.0}}}],
            },
        )
    )
    run_days(model, days)
    blocked = _rows(model, "blocked")
    first, later = blocked["day"] == 0, blocked["day"] > 0
    refused = int(first.sum())
    assert refused > 1000
    if retry == 0.0:
        assert not later.any() and model.state.calendar.pending() == 0
        return
    p = retry
    within_variance(int(later.sum()), refused * p / (1 - p), refused * p / (1 - p) ** 2)
    people, times = np.unique(blocked["entity"][first], return_counts=True)
    once = people[times == 1]
    again = blocked["entity"][later], blocked["day"][later]
    order = np.lexsort((again[1], again[0]))
    who, when = again[0][order], again[1][order]
    firsts = np.concatenate([[True], who[1:] != who[:-1]])
    retried = np.isin(who[firsts], once)
    waits = when[firsts][retried]
    within_binomial(waits.size, once.size, p)
    within_variance(int(waits.sum()), waits.size * mean, waits.size * mean * (mean - 1))


def test_each_refusal_names_what_refused_it() -> None:
    """A refusal's `source` is the list that refused it (the person's, or a household member's)
    or the grade that did: every row names one the service heeds."""
    model = _model(
        {
            "school": {**SCHOOL, "household_lists": ["black"]},
            "loan": {"per_year": 5.0, "blocked_tiers": ["bad"]},
            "train": {"per_year": 5.0, "blocked_lists": ["black", "watch"]},
        },
        # off the blacklist after 2 days, on the watch list while the deduction lasts (5 days)
        lists={"black": {"term_days": 2}, "watch": {"term_days": 0, "enter_tiers": ["bad"]}},
    )
    run_days(model, 10)
    blocked = _rows(model, "blocked")
    codes = model.params.codes
    black, watch = codes.lists
    heeded = {  # (origin, service) -> the sources it may name
        ("list", 0): {black},
        ("household", 0): {black},
        ("tier", 1): {codes.tiers[model.rules.plan.tiers.index("bad")]},
        ("list", 2): {black, watch},
    }
    seen: dict[tuple[str, int], set[int]] = {}
    columns = (blocked[c] for c in ("origin", "rule", "source"))
    for origin, rule, source in zip(*columns, strict=True):
        key = (ORIGINS[origin], list(codes.services).index(rule))
        seen.setdefault(key, set()).add(int(source))
    assert set(seen) == set(heeded)
    for key, sources in seen.items():
        assert sources <= heeded[key], key
    assert seen[("list", 2)] == {black, watch}  # the watch list alone refuses some


def test_a_refusal_by_several_lists_names_the_first_in_the_scenarios_order() -> None:
    model = _model(
        {"train": {"per_year": 5.0, "blocked_lists": ["watch", "black"]}},
        lists={"watch": {"term_days": 0}},
    )
    black, watch = model.params.codes.lists
    first = model.params.codes.first_list
    assert first[0] == 0
    assert first[list_bit(0)] == black and first[list_bit(1)] == watch
    assert first[list_bit(0) | list_bit(1)] == black  # scenario order, not the service's
    assert all(
        first[b] == (black if b & list_bit(0) else watch if b & list_bit(1) else 0)
        for b in range(256)
    )
