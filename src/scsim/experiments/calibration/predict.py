"""The calibrated scenario run past its record: every series at chosen dates, over seeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from scsim.audit.published import interval
from scsim.audit.series import scale, series_values
from scsim.errors import UserError
from scsim.experiments.calibration.runs import run_metrics, seeded
from scsim.scenario import load_scenario
from scsim.scenario.schema import MAX_DAYS, Scenario, Series

ORDERS = "restriction_orders"  # the counter of consumption-restriction orders issued


def predict(
    s: Scenario,
    dates: list[dt.date],
    *,
    seeds: int = 1,
    on_run: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """One record per date: each calibration series (national, scaled) with `<key>_lo` and
    `<key>_hi`, a 95% interval for its mean over seeds, each rounded to a whole count (a
    reduced population's counts scaled up carry no fractions of people worth printing); None
    where there is no value (one seed has no interval). The run is extended to the last date."""
    if s.calibration is None or not s.calibration.series:
        raise UserError(f"{s.name}: the scenario defines no calibration series to predict")
    if s.run.start is None:
        raise UserError(f"{s.name}: prediction at dates needs run.start, the date of day 0")
    days = [s.day_of(d) for d in dates]
    early = [d for d, day in zip(dates, days, strict=True) if day < 0]
    if early:
        raise UserError(f"--at {early[0]} is before the scenario's start, {s.run.start}")
    if max(days) >= MAX_DAYS:
        last = s.run.start + dt.timedelta(days=MAX_DAYS - 1)
        raise UserError(
            f"--at {dates[days.index(max(days))]} is past {last}, the last day a run of {s.name} "
            f"can reach (run.days is at most {MAX_DAYS:,})"
        )
    longer = load_scenario(s, overrides={"run.days": max(max(days) + 1, 1)})
    counters = counted(s)
    values: dict[str, list[np.ndarray]] = {name: [] for name in counters}
    for k, x in enumerate(seeded(longer, seeds)):
        metrics = run_metrics(x)
        for name, series in counters.items():
            values[name].append(series_values(metrics, name, series) * scale(s))
        if on_run is not None:
            on_run(k)
    records = []
    for date, day in zip(dates, days, strict=True):
        record: dict[str, Any] = {"date": date.isoformat()}
        for name, runs in values.items():
            mean, lo, hi = (_whole(v) for v in interval(np.array([run[day] for run in runs])))
            record[name], record[f"{name}_lo"], record[f"{name}_hi"] = mean, lo, hi
        records.append(record)
    return records


def counted(s: Scenario) -> dict[str, Series]:
    """The series a prediction gives: the scenario's calibration series, and `restriction_orders`
    (orders issued, cumulative) where some version of its rulebook issues consumption-
    restriction orders and the scenario does not count them itself. A scenario without orders
    has no such counter: a column of zeros would read as a finding that none were issued."""
    assert s.calibration is not None
    series = dict(s.calibration.series)
    ordering = [name for name in s.rulebook.lists if _orders_in_some_version(s, name)]
    if ordering and ORDERS not in series:
        series[ORDERS] = Series(
            columns=[f"{name}_orders" for name in ordering],
            description="consumption-restriction orders issued, cumulative",
        )
    return series


def _orders_in_some_version(s: Scenario, name: str) -> bool:
    return any(book.lists[name].order_share > 0 for _, book in s.rulebook.versions(s.run.start))


def _whole(value: float) -> int | None:
    """A count rounded to a whole number; None where there is none (a series not reached, the
    interval of one seed), which JSON writes as null (json.dumps writes nan as NaN, which
    strict readers such as jq refuse)."""
    return round(value) if np.isfinite(value) else None
