"""The model against analytical expectations, with tolerances derived from the variance.

With behaviour feedback off, no spill-over, no expiry within the horizon and a scale wide
enough never to clip, a person's score change over D days is a sum of independent Poisson
counts: for event e with daily rate r_e, recording chance p_e and delta d_e, the count of its
records is Poisson(D r_e p_e). So the change has cumulants k_n = D sum_e r_e p_e d_e^n: mean
k_1, variance k_2, and the sample variance of N people has variance (k_4 + 2 k_2^2) / N.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import scenario

from scsim.engine.model import Model

DAYS = 120
PEOPLE = 200_000
EVENTS = {  # name: (per year, detection, points)
    "jaywalking": (2.0, 0.3, -5),
    "volunteering": (0.5, 0.7, 10),
    "fraud": (0.1, 0.9, -50),
}
COVERAGE = 0.8
FALSE_PER_YEAR = 0.05  # false matches, charged as jaywalking


def _scenario(seed: int):  # type: ignore[no-untyped-def]
    sensors = {
        f"sensor_{name}": {
            "events": [name],
            "detection": det,
            "coverage_urban": COVERAGE,
            "false_records_per_year": FALSE_PER_YEAR if name == "jaywalking" else 0,
        }
        for name, (_, det, _) in EVENTS.items()
    }
    return scenario(
        population={"size": PEOPLE},
        behaviour={"events": {n: {"per_year": r} for n, (r, _, _) in EVENTS.items()}},
        surveillance={"sensors": sensors},
        rulebook={"rules": {n: {"points": d} for n, (_, _, d) in EVENTS.items()}},
        run={"days": DAYS, "seed": seed},
    )


def _cumulant(n: int) -> float:
    total = sum(r * COVERAGE * p * d**n for r, p, d in EVENTS.values())
    total += FALSE_PER_YEAR * COVERAGE * EVENTS["jaywalking"][2] ** n
    return DAYS / 365.0 * total


@pytest.mark.parametrize("seed", [1, 2])
def test_score_change_matches_compound_poisson_mean_and_variance(seed: int) -> None:
    model = Model.build(_scenario(seed))
    for day in range(DAYS):
        model.step(day)
        model.ledger.drain()
    change = model.state.people.score.astype(np.float64) - 1000
    k1, k2, k4 = _cumulant(1), _cumulant(2), _cumulant(4)
    mean_bound = 5 * math.sqrt(k2 / PEOPLE)
    var_bound = 5 * math.sqrt((k4 + 2 * k2**2) / PEOPLE)
    assert abs(change.mean() - k1) < mean_bound
    assert abs(change.var(ddof=1) - k2) < var_bound


def test_daily_true_events_are_poisson_with_the_configured_rate() -> None:
    model = Model.build(_scenario(3))
    counts = []
    for day in range(DAYS):
        counts.append(model.step(day)["true_events"])
        model.ledger.drain()
    expected = PEOPLE * sum(r for r, _, _ in EVENTS.values()) / 365.0
    counts = np.array(counts, dtype=np.float64)
    assert abs(counts.mean() - expected) < 5 * math.sqrt(expected / DAYS)
    # the variance of a Poisson count equals its mean; the sample variance's sd is about
    # mean * sqrt(2 / (DAYS - 1)) for large means
    assert abs(counts.var(ddof=1) - expected) < 5 * expected * math.sqrt(2 / (DAYS - 1))
