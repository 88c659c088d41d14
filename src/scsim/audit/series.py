"""A published figure, counted from a run's daily metrics the way its source counts it.

docs/sources.md insists on the definitions: blocked purchases and listing entries are cumulative
flows since a start, the number on the list is a stock, a year's new debtors is the increase of
a cumulative count over that year, "about 20% of debtors" is a share. A count is scaled from
the run's population to the population the figure counts; a share is not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scsim.errors import UserError
from scsim.scenario.schema import Scenario, Series, Target


def series_values(metrics: pd.DataFrame, name: str, series: Series) -> np.ndarray:
    """The series on every day of the run (unscaled): a running sum of flows, or a stock."""
    missing = [c for c in series.columns if c not in metrics.columns]
    if missing:
        near = [c for c in metrics.columns if c.split("_")[0] == missing[0].split("_")[0]]
        hint = f"; columns like it: {', '.join(near[:8])}" if near else ""
        raise UserError(
            f"calibration.series.{name}: the run has no metrics column {missing[0]!r}{hint}"
        )
    daily = metrics[series.columns].to_numpy(dtype=np.float64).sum(axis=1)
    return np.cumsum(daily) if series.measure == "cumulative" else daily


def scale(s: Scenario) -> float:
    """How many people of the counted population each simulated person stands for."""
    assert s.calibration is not None
    return (s.calibration.population or s.population.size) / s.population.size


def target_days(s: Scenario, target: Target) -> tuple[int, int | None]:
    """The target's day, and the day its period starts after (a flow), from the run's start."""
    if target.date is not None:
        day = s.day_of(target.date)
    else:
        assert target.day is not None  # the schema holds a target to exactly one of the two
        day = target.day
    since = None if target.since is None else s.day_of(target.since)
    return day, since


def reached(s: Scenario, target: Target) -> bool:
    """Whether a run of `s` has a value for `target`: its day within the run, and its period
    (a flow) starting no earlier than the run."""
    day, since = target_days(s, target)
    return 0 <= day < s.run.days and (since is None or since >= 0)


def days_read(s: Scenario) -> int:
    """The days a run of `s` must step for the value of every target it reaches: one past the
    last such target's day (the run's own days where it reaches none). A day never depends on
    a later one, so a run stopped there gives those targets the values of the whole run."""
    assert s.calibration is not None
    days = [target_days(s, t)[0] for t in s.calibration.targets if reached(s, t)]
    return max(days) + 1 if days else s.run.days


def series_at(s: Scenario, metrics: pd.DataFrame, name: str, day: int) -> float:
    """The scaled value of series `name` at the end of `day`."""
    assert s.calibration is not None
    return float(series_values(metrics, name, s.calibration.series[name])[day]) * scale(s)


def target_value(s: Scenario, metrics: pd.DataFrame, target: Target) -> float:
    """What the run says for `target`, counted as the target counts (nan past the run's end)."""
    assert s.calibration is not None
    day, since = target_days(s, target)
    if day >= len(metrics) or day < 0 or (since is not None and since < 0):
        return float("nan")
    values = series_values(metrics, target.series, s.calibration.series[target.series])
    value = values[day] - (values[since] if since is not None else 0.0)
    if target.per is not None:
        per = series_values(metrics, target.per, s.calibration.series[target.per])
        denominator = per[day] - (per[since] if since is not None else 0.0)
        return float(value / denominator) if denominator else float("nan")
    return float(value) * scale(s)
