"""The calibration table: each published figure beside the model's, and the loss a fit lowers.

The model's value is the mean over seeds with a 95% interval for that mean (Student t over
the seeds; a single seed gives no interval). Note that a run at a reduced population, scaled
up, has the seed-to-seed spread of that smaller population: the interval says how well the
seeds pin the model's mean, not how much a nation of 1.4 billion would vary.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from scsim.audit.series import target_days, target_value
from scsim.scenario.schema import Scenario

COLUMNS = [
    "date",
    "day",
    "series",
    "figure",
    "published",
    "model",
    "model_lo",
    "model_hi",
    "ratio",
    "tolerance",
    "within",
    "weight",
    "source",
    "note",
]


def calibration_table(s: Scenario, runs: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per target of `s.calibration` over the runs (one per seed)."""
    rows = []
    assert s.calibration is not None
    for target in s.calibration.targets:
        values = np.array([target_value(s, metrics, target) for metrics in runs])
        mean, lo, hi = interval(values)
        day, since = target_days(s, target)
        ratio = mean / target.value if math.isfinite(mean) else float("nan")
        figure = target.series if target.per is None else f"{target.series} / {target.per}"
        if since is not None:
            figure += f" since {target.since}"
        rows.append(
            {
                "date": str(target.date) if target.date is not None else "",
                "day": day,
                "series": target.series,
                "figure": figure,
                "published": target.value,
                "model": mean,
                "model_lo": lo,
                "model_hi": hi,
                "ratio": ratio,
                "tolerance": target.tolerance,
                "within": bool(abs(ratio - 1.0) <= target.tolerance),
                "weight": target.weight,
                "source": target.source,
                "note": target.note,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% interval for the mean over seeds (nan where a run did not reach). One seed
    has no interval (nan, nan): a width of 0 would claim a precision nobody measured. Counts
    and shares cannot be negative: the lower end of a symmetric t interval over few seeds
    can, and is clipped at 0."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (float("nan"),) * 3
    mean = float(values.mean())
    if values.size == 1:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    low = mean - float(half)
    return mean, max(low, 0.0) if values.min() >= 0 else low, mean + float(half)


def loss(table: pd.DataFrame) -> float:
    """Weighted mean squared log ratio over the targets the run reached (0 is a perfect fit).
    Logs make a factor of two too many cost what a factor of two too few costs, whatever the
    figure's size; a model value of 0 is floored at 1e-9 of the target, so that a run that
    lists nobody has a large but finite loss."""
    reached = table[np.isfinite(table.model)]
    if reached.empty:
        return float("inf")
    ratio = np.maximum(reached.model.to_numpy() / reached.published.to_numpy(), 1e-9)
    weights = reached.weight.to_numpy()
    return float(np.sum(weights * np.log(ratio) ** 2) / max(weights.sum(), 1e-12))
