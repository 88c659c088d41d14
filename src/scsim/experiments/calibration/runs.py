"""A scenario run in memory, for calibration and prediction: the daily metrics, no files.

The ledger's rows are dropped unread each day, so memory stays that of the state. Seed k of a
set is `run.seed + k`; every trial of a fit uses the same seeds (common random numbers), so
the difference between two trials is the parameters', not the dice's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from scsim.engine.model import Model
from scsim.engine.plan import compile_plan
from scsim.engine.population import Population
from scsim.errors import at_least
from scsim.experiments.calibration import prefixes
from scsim.scenario.schema import Scenario

Progress = Callable[[int], None]


def run_metrics(
    s: Scenario,
    *,
    backend: str = "numpy",
    on_day: Progress | None = None,
    days: int | None = None,
    base: Scenario | None = None,
) -> pd.DataFrame:
    """One run's daily metrics rows (as `metrics.parquet` holds them, without `_cum`); with
    `days`, only the first `days` of them. The run is the scenario's all the same (its
    `run.days` still bounds what it bounds, an open-ended term's draws), stopped early: a day
    never depends on a later one, so its rows are the whole run's first rows, byte for byte,
    and a fit whose targets end years before the run does not pay for those years.

    `base`: the scenario a fit's candidate `s` moves from (`s` itself for the base's own run):
    the days `s` shares with it are resumed from the base's state where this process kept it,
    and the base's state is kept at the days its fit's free changes begin (`prefixes`)."""
    pop = population(s)
    model = Model(s, pop, compile_plan(s, pop), backend)
    stop = s.run.days if days is None else min(days, s.run.days)
    rows: list[dict[str, Any]] = []
    shared: dict[int, str] = {}  # mark -> key, where `s` shares its days before it with `base`
    if base is not None:
        sign = prefixes.signature(model)
        for mark in prefixes.marks(s, stop):
            k = prefixes.key(s, mark, backend, sign)
            if k == prefixes.key(base, mark, backend, sign):
                shared[mark] = k
    first = 0
    found = prefixes.HELD.find(list(shared.items()))
    if found is not None:
        rows, first = prefixes.resume(model, found), found.day
    for day, row in model.run(first, stop):
        if day == first and rows and row.keys() != rows[-1].keys():
            return run_metrics(s, backend=backend, on_day=on_day, days=days)  # see `prefixes`
        rows.append(row)
        model.ledger.discard()
        if on_day is not None:
            on_day(day)
        if day + 1 in shared:
            prefixes.HELD.keep(shared[day + 1], model, rows, day + 1)
    return pd.DataFrame(rows)


POPULATIONS = 8  # the populations a process keeps: a fit's seeds, each candidate's the same


def population(s: Scenario) -> Population:
    """The population of `s`, generated once in this process for each (population, seed): a
    fit's candidates change rates, never who lives where, so each of its runs would generate
    the same people again (half a second at 14 million). Only read by a run, never written."""
    key = (s.population.model_dump_json(), s.run.seed)
    pop = _populations.pop(key, None)
    if pop is None:
        pop = Population.generate(s.population, seed=s.run.seed)
    _populations[key] = pop  # the most recent last
    while len(_populations) > POPULATIONS:
        del _populations[next(iter(_populations))]
    return pop


_populations: dict[tuple[str, int], Population] = {}


def seeded(s: Scenario, seeds: int) -> list[Scenario]:
    """The scenario with seeds run.seed, run.seed + 1, ... (none would make a table of blanks
    and an infinite loss, not an answer)."""
    at_least("--seeds", seeds)
    return [
        s.model_copy(update={"run": s.run.model_copy(update={"seed": s.run.seed + k})})
        for k in range(seeds)
    ]
