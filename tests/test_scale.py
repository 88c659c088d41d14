"""Results do not depend on the population size chosen: every built-in run at two sizes gives
the same rates per 1,000 people, within sampling error.

A count in a scenario that did not scale with the run (a camera cap of 100,000 records a day)
would bind at one size and not at the other: a scaled-down run would answer another question.
Every metrics column that counts people or events is compared per 1,000 people, summed over the
run (flows) and on its last day (stocks); a column that is a mean is compared as it is.

The test: `SMALL_SEEDS` runs of `SMALL` people and `LARGE_SEEDS` runs of `LARGE` = 4 x `SMALL`.
A rate per head from n people has a variance sigma^2 / n, so the large runs' variance is a
quarter of the small runs'; sigma^2 is estimated from both (pooled, the large runs' deviations
weighted by 4), and the difference of the two means is a Student t with SMALL_SEEDS +
LARGE_SEEDS - 2 degrees of freedom. A count's variance is taken as at least its Poisson
variance (a rare count, 0 in every small run and 1 in every large one, has a sample variance of
0 but is no evidence). A column fails where |t| passes the t quantile at
1 - ALPHA / (2 C), C the columns compared (Bonferroni): seeds are fixed, so a pass is
reproducible, and the chance that some column of some built-in fails by chance is below
ALPHA x the built-ins.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from scsim.engine.model import Model
from scsim.scenario import load_scenario
from scsim.scenario.loader import builtin_names

SMALL, LARGE = 6_000, 24_000
SMALL_SEEDS, LARGE_SEEDS = 5, 3
DAYS = 150
ALPHA = 1e-3
# A built-in whose record starts late is run from where it has something to count.
FIRST_DAY = {"court-list-history": 300}  # courts adopt the list over 2014 (run.start 2013)
# The mean score of a scenario with places averages scales of different places (0 where nobody
# is scored, about 1,000 in Suining, 650 in Xiamen): it measures who lives in a pilot city,
# whose share of a run of 6,000 people is the rounding of a few people (Rongcheng: 3). Every
# count per head is still compared.
NOT_COMPARED = {"pilots": ("score_mean (mean, last day)",)}


def _rates(name: str, size: int, seed: int) -> dict[str, float]:
    """Each column of a run: counts per 1,000 people (summed over the days, and on the last day),
    means as they are."""
    first = FIRST_DAY.get(name, 0)
    scenario = load_scenario(
        name,
        overrides={"population.size": size, "run.seed": seed, "run.days": first + DAYS},
    )
    model = Model.build(scenario)
    rows = [row for day, row in model.run(0, first + DAYS) if day >= first]
    rates: dict[str, float] = {}
    for column, value in rows[-1].items():
        if column in ("day", "date") or isinstance(value, str):
            continue
        if isinstance(value, float | np.floating):  # a mean or a share: no people in it
            rates[f"{column} (mean, last day)"] = float(value)
            continue
        total = sum(int(row[column]) for row in rows)
        rates[f"{column} (sum)"] = 1000 * total / size
        rates[f"{column} (last day)"] = 1000 * int(value) / size
    return rates


def _disagreeing(small: list[dict[str, float]], large: list[dict[str, float]]) -> list[str]:
    """The columns whose small and large means differ by more than sampling error allows."""
    compared: list[tuple[str, float]] = []
    for column in small[0]:
        x = np.array([run[column] for run in small])
        y = np.array([run[column] for run in large])
        pooled = (((x - x.mean()) ** 2).sum() + 4 * ((y - y.mean()) ** 2).sum()) / (
            x.size + y.size - 2
        )
        if "(mean" not in column:  # a count: at least its Poisson variance
            pooled = max(pooled, 1000 * (x.mean() + y.mean()) / 2 / SMALL)
        if pooled == 0:  # a mean, the same in every run: nothing to sample
            if x.mean() != y.mean():
                compared.append((column, math.inf))
            continue
        sd = math.sqrt(pooled / x.size + pooled / (4 * y.size))
        compared.append((column, (x.mean() - y.mean()) / sd))
    bound = stats.t.ppf(1 - ALPHA / (2 * max(len(compared), 1)), SMALL_SEEDS + LARGE_SEEDS - 2)
    return [f"{c}: t = {t:.1f} (bound {bound:.1f})" for c, t in compared if abs(t) > bound]


def _runs(name: str, size: int, seeds: int) -> list[dict[str, float]]:
    return [_rates(name, size, seed) for seed in range(1, seeds + 1)]


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_gives_the_same_rates_per_head_at_two_sizes(name: str) -> None:
    small, large = _runs(name, SMALL, SMALL_SEEDS), _runs(name, LARGE, LARGE_SEEDS)
    for column in NOT_COMPARED.get(name, ()):
        for run in small + large:
            del run[column]
    assert _disagreeing(small, large) == []


def test_a_cap_counted_in_records_not_per_head_would_be_found() -> None:
    """The check itself finds a count that does not scale: national-score's camera cap given
    as a fixed number of records a day, twice what the cameras record at the small size: it
    binds at the large size only."""
    cap = "surveillance.sensors.cameras.daily_capacity_per_million"

    def fixed(size: int, seed: int) -> dict[str, Any]:
        scenario = load_scenario(
            "national-score",
            overrides={
                "population.size": size,
                "run.seed": seed,
                "run.days": DAYS,
                cap: 2 * 1e6 / size,  # 2 records a day, whatever the size
            },
        )
        model = Model.build(scenario)
        rows = [row for _, row in model.run(0, DAYS)]
        return {"over (sum)": 1000 * sum(r["cameras_over_capacity"] for r in rows) / size}

    small = [fixed(SMALL, seed) for seed in range(1, SMALL_SEEDS + 1)]
    large = [fixed(LARGE, seed) for seed in range(1, LARGE_SEEDS + 1)]
    assert _disagreeing(small, large)
