"""Requests for list-only services are drawn from the lists: the same process, at list cost."""

from __future__ import annotations

import math

import numpy as np
from builders import run_days, scenario

from scsim.ledger import KIND
from scsim.model import Model
from scsim.pipeline.demand import list_only

DAYS, RATE = 100, 0.1  # requests per person-day


def _model(tiers: bool = False) -> Model:
    flight = {"per_year": RATE * 365, "blocked_lists": ["a", "b"], "retry": 0.0}
    if tiers:
        flight["blocked_tiers"] = ["bad"]
    model = Model.build(
        scenario(
            behaviour={"events": {"defy": {"per_year": 0.0}}},
            rulebook={
                "lists": {"a": {"term_days": 0}, "b": {"term_days": 0}},
                "services": {"flight": flight},
            },
            run={"days": DAYS},
        )
    )
    for index, ids in enumerate((np.arange(0, 1000), np.arange(500, 1500))):  # 500 on both
        model.people.flags[ids] |= 1 << index
        n = ids.size
        model.rosters[index].add(
            ids, 0, np.full(n, 10**6), np.zeros(n, np.uint8), np.zeros(n, bool)
        )
    return model


def test_listed_people_ask_at_the_services_rate_once_whatever_their_lists() -> None:
    model = _model()
    assert list_only(model.host_plan).tolist() == [True]
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


def test_a_service_graded_by_tier_is_still_drawn_from_everyone() -> None:
    model = _model(tiers=True)
    assert list_only(model.host_plan).tolist() == [False]
    rows = run_days(model, DAYS)
    total = 1500 * RATE * DAYS
    assert abs(sum(r["flight_blocked"] for r in rows) - total) <= 5 * math.sqrt(total)
