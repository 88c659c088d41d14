"""A scenario run in memory, for calibration and prediction: the daily metrics, no files.

The ledger's rows are dropped unread each day, so memory stays that of the state. Seed k of a
set is `run.seed + k`; every trial of a fit uses the same seeds (common random numbers), so
the difference between two trials is the parameters', not the dice's.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from scsim.engine.model import Model
from scsim.errors import at_least
from scsim.scenario.schema import Scenario

Progress = Callable[[int], None]


def run_metrics(
    s: Scenario, *, backend: str = "numpy", on_day: Progress | None = None
) -> pd.DataFrame:
    """One run's daily metrics rows (as `metrics.parquet` holds them, without `_cum`)."""
    model = Model.build(s, backend=backend)
    rows = []
    for day, row in model.run(0, s.run.days):
        rows.append(row)
        model.ledger.discard()
        if on_day is not None:
            on_day(day)
    return pd.DataFrame(rows)


def seeded(s: Scenario, seeds: int) -> list[Scenario]:
    """The scenario with seeds run.seed, run.seed + 1, ... (none would make a table of blanks
    and an infinite loss, not an answer)."""
    at_least("--seeds", seeds)
    return [
        s.model_copy(update={"run": s.run.model_copy(update={"seed": s.run.seed + k})})
        for k in range(seeds)
    ]
