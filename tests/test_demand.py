"""Requests for list-only services are drawn from the lists: the same process, at list cost."""

from __future__ import annotations

import math

import numpy as np
from bounds import within_poisson
from builders import run_days, scenario

from scsim.engine.components.demand import from_members
from scsim.engine.ledger import KIND
from scsim.engine.model import Model

DAYS, RATE = 100, 0.1  # requests per person-day


# three towns of 5,000, 3,000 and 2,000 people
TOWNS = {
    "Here": {"share": 0.5},
    "There": {"share": 0.3, "urban_share": 1.0, "household_mean": 3.0},
    "Far": {"share": 0.2, "urban_share": 1.0, "household_mean": 3.0},
}


def _model(
    tiers: bool = False,
    members: tuple[np.ndarray, np.ndarray] = (np.arange(0, 1000), np.arange(500, 1500)),
    regions: dict | None = None,
    give_up: float = 0.0,
    feedback: bool = True,
) -> Model:
    flight = {"per_year": RATE * 365, "blocked_lists": ["a", "b"], "retry": 0.0}
    flight["give_up"] = give_up
    if tiers:
        flight["blocked_tiers"] = ["bad"]
    model = Model.build(
        scenario(
            population={"regions": regions or {}},
            behaviour={"events": {"defy": {"per_year": 0.0}}, "feedback": feedback},
            rulebook={
                "lists": {"a": {"term_days": 0}, "b": {"term_days": 0}},
                "services": {"flight": flight},
            },
            run={"days": DAYS},
        )
    )
    for index, ids in enumerate(members):  # by default 500 on both
        model.state.people.flags[ids] |= 1 << index
        n = ids.size
        model.state.rosters[index].add(
            ids, 0, np.full(n, 10**6), np.zeros(n, np.uint8), np.zeros(n, bool)
        )
    return model


def test_listed_people_ask_at_the_services_rate_once_whatever_their_lists() -> None:
    model = _model()
    assert from_members(model.rules.host_plan, model.params.rostered).tolist() == [True]
    rows = run_days(model, DAYS)
    blocked = model.rows["entity"][model.rows["kind"] == KIND["blocked"]]
    per_group = [
        int(((blocked >= lo) & (blocked < hi)).sum()) for lo, hi in ((0, 500), (500, 1000))
    ]
    expected = 500 * RATE * DAYS  # Poisson: variance = mean
    for count in per_group:  # one list or two: the same rate
        assert abs(count - expected) <= 5 * math.sqrt(expected), per_group
    total = 1500 * RATE * DAYS
    assert abs(sum(r["flight_blocked"] for r in rows) - total) <= 5 * math.sqrt(total)
    attempts = 10_000 * RATE * DAYS  # everyone asks, listed or not
    assert abs(sum(r["flight_attempts"] for r in rows) - attempts) <= 5 * math.sqrt(attempts)


def test_holders_of_a_refused_grade_ask_at_the_services_rate_once_whatever_their_lists() -> None:
    """A service that refuses grade "bad" (nobody's starting grade, so it keeps a roster)
    draws its requests from the grade's holders and the lists' members: 1,000 holders, half of
    them also listed, and 1,000 listed people in the good grade ask at the service's rate,
    once each whatever their lists, and everyone's requests are counted."""
    model = _model(tiers=True, feedback=False)  # grades held fixed: no records, no refusals felt
    assert model.params.rostered.tolist() == [False, True]
    assert from_members(model.rules.host_plan, model.params.rostered).tolist() == [True]
    holders = np.arange(1000, 2000)  # lists: 0-999 on a, 500-1499 on b
    model.state.people.score[holders] = 500
    model.state.people.tier[holders] = 1
    model.state.members.touch(holders)
    rows = run_days(model, DAYS)
    blocked = model.rows["entity"][model.rows["kind"] == KIND["blocked"]]
    for lo, hi in ((0, 500), (500, 1000), (1000, 1500), (1500, 2000)):
        within_poisson(int(((blocked >= lo) & (blocked < hi)).sum()), 500 * RATE * DAYS)
    assert not (blocked >= 2000).any()  # nobody else is drawn
    attempts = 10_000 * RATE * DAYS  # everyone asks, listed, graded or not
    within_poisson(sum(r["flight_attempts"] for r in rows), attempts)


def test_a_service_acting_on_a_starting_grade_is_drawn_from_everyone() -> None:
    """A grade everyone starts in keeps no roster (it would be the population): a service
    that rewards it draws its requests among everyone, as before rosters."""
    flight = {"per_year": RATE * 365, "reward_tiers": ["good"], "blocked_tiers": ["bad"]}
    model = Model.build(
        scenario(
            behaviour={"events": {"defy": {"per_year": 0.0}}},
            rulebook={"services": {"flight": flight}},
            run={"days": DAYS},
        )
    )
    assert model.params.rostered.tolist() == [False, True]
    assert from_members(model.rules.host_plan, model.params.rostered).tolist() == [False]
    rows = run_days(model, DAYS)
    attempts = sum(r["flight_attempts"] for r in rows)
    within_poisson(attempts, 10_000 * RATE * DAYS)
    # every request drawn, none counted: each one rewarded (good) or refused (bad)
    assert sum(r["flight_rewards"] + r["flight_blocked"] for r in rows) == attempts


def test_listed_people_of_every_town_ask_at_the_services_rate() -> None:
    """Requests are drawn town by town, each from the town's slice of a roster: in every town
    the listed ask at the service's rate, once whatever their lists, and everyone is counted."""
    on_a = np.arange(0, 10_000, 10)  # 100 listed in every 1,000 people, across the towns
    on_b = np.concatenate([on_a[::2], np.arange(5, 10_000, 20)])  # half of them on a too
    model = _model(members=(on_a, on_b), regions=TOWNS)
    assert model.params.host_pop.region_start.tolist() == [0, 5000, 8000, 10_000]
    rows = run_days(model, DAYS)
    blocked = model.rows["entity"][model.rows["kind"] == KIND["blocked"]]
    listed = np.union1d(on_a, on_b)
    for lo, hi in ((0, 5000), (5000, 8000), (8000, 10_000)):
        mine = listed[(listed >= lo) & (listed < hi)]
        for group in (np.intersect1d(mine, on_b[:500]), np.setdiff1d(mine, on_b[:500])):
            count = int(np.isin(blocked[(blocked >= lo) & (blocked < hi)], group).sum())
            expected = group.size * RATE * DAYS
            assert abs(count - expected) <= 5 * math.sqrt(expected), (lo, group.size, count)
    attempts = 10_000 * RATE * DAYS  # everyone asks, listed or not, in every town
    assert abs(sum(r["flight_attempts"] for r in rows) - attempts) <= 5 * math.sqrt(attempts)


def test_people_refused_before_ask_less_by_give_up_per_refusal_suffered() -> None:
    """A listed person's new requests are kept with chance (1 - give_up) ** wariness: with
    wariness held fixed (feedback off), those who suffered 3 refusals ask at 0.7 ** 3 of the
    rate, the others at the full rate; give_up 0 keeps every request."""
    for give_up in (0.0, 0.3):
        model = _model(
            members=(np.arange(0, 1000), np.arange(0, 0)), give_up=give_up, feedback=False
        )
        model.state.people.wariness[500:1000] = 3
        run_days(model, DAYS)
        blocked = model.rows["entity"][model.rows["kind"] == KIND["blocked"]]
        within_poisson(int((blocked < 500).sum()), 500 * RATE * DAYS)
        within_poisson(int((blocked >= 500).sum()), 500 * RATE * DAYS * (1 - give_up) ** 3)


def test_each_refusal_makes_a_person_warier_when_demand_gives_up() -> None:
    """Without deterrence, wariness still counts the refusals once a service gives up with
    them, and a listed person's requests fall with each: the refusals per person follow the
    chain in which a person refused k times asks Poisson(rate x 0.5 ** k) times a day, all
    refused (its distribution after 100 days computed exactly, day by day)."""
    give_up, people = 0.5, 1000
    model = _model(members=(np.arange(0, people), np.arange(0, 0)), give_up=give_up)
    run_days(model, DAYS)
    blocked = model.rows["entity"][model.rows["kind"] == KIND["blocked"]]
    refusals = np.bincount(blocked, minlength=people)[:people]
    assert (model.state.people.wariness[:people] == np.minimum(refusals, 255)).all()
    top = 60
    p = np.zeros(top)
    p[0] = 1.0
    for _ in range(DAYS):
        nxt = np.zeros(top)
        for k in np.flatnonzero(p > 1e-15):
            lam = RATE * (1 - give_up) ** k
            n = np.arange(top - k)
            pmf = np.exp(-lam + n * math.log(lam) - np.array([math.lgamma(x + 1) for x in n]))
            nxt[k : k + n.size] += p[k] * pmf
        p = nxt
    k = np.arange(top)
    mean, var = float((k * p).sum()), float((k * k * p).sum() - (k * p).sum() ** 2)
    sd = math.sqrt(var / people)
    assert abs(refusals.mean() - mean) <= 4 * sd, (refusals.mean(), mean, sd)
    assert mean < 0.5 * RATE * DAYS  # far fewer than without giving up


def test_a_holders_requests_do_not_depend_on_who_else_holds_the_grade() -> None:
    """Each holder's count is drawn from their own id: two runs that put different people
    beside them in the refused grade refuse them on the same days."""
    refused = []
    for others in (np.arange(2000, 3000), np.arange(5000, 9000)):
        model = _model(tiers=True, feedback=False, members=(np.arange(0), np.arange(0)))
        holders = np.concatenate([np.arange(1000, 1500), others])
        model.state.people.score[holders] = 500
        model.state.people.tier[holders] = 1
        model.state.members.touch(holders)
        run_days(model, DAYS)
        rows = model.rows
        mine = (
            (rows["kind"] == KIND["blocked"]) & (rows["entity"] >= 1000) & (rows["entity"] < 1500)
        )
        refused.append((rows["day"][mine], rows["entity"][mine]))
    assert refused[0][0].size > 1000
    for a, b in zip(*refused, strict=True):
        np.testing.assert_array_equal(a, b)
