"""What a comparison of two scenarios reads from their runs: each run's headline figures, the
paired differences over seeds with their 95% t-intervals, and the chilling effect.

The runs themselves are made by `scsim.experiments.compare`; this module only reads them.

    >>> figures = headline("runs/a-seed-1")     # {"true events": ..., "blocked: flight": ...}
    >>> table = paired_differences(pairs)               # figure, a, b, difference, low, high
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from scsim.audit.run import graded_lists, open_run

# The chilling effect is this figure's paired difference (issue 4: the rate of critical speech
# against the same population with no system). Critical speech is the events the scenario's
# `behaviour.self_censorship.events` names, counted as spoken (the `speech` metric).
SPEECH_RATE = "critical speech per 1,000 people a year"


def headline(
    run: Any, services: tuple[str, ...] | None = None, graded: tuple[str, ...] | None = None
) -> dict[str, float]:
    """A run's headline figures, from its daily metrics (so a sample in people.parquet does
    not matter): flows summed over the run, stocks at its end. Requests blocked are given for
    `services` (default: those the run's scenario restricts), people taken in by grade for the
    lists `graded` (default: those its scenario fills by grade; 0 where this run does not)."""
    audit = open_run(run)
    services = audit.restricted_services if services is None else services
    graded = graded_lists(audit.scenario) if graded is None else graded
    m = audit.sql("select * from metrics order by day").df()
    figures: dict[str, float] = {
        "true events": int(m.true_events.sum()),
        "records": int(m.records.sum()),
        "false records": int(m.records_false.sum()),
    }
    for name in audit.lists:
        figures[f"listing entries: {name}"] = int(m[f"{name}_entries"].sum())
        # what a reform that lets people off early, or never lists them, changes (issue 25)
        figures[f"person-years listed: {name}"] = float(m[f"{name}_size"].sum()) / 365
        figures[f"wrongful listing entries: {name}"] = int(m[f"{name}_entries_wrongful"].sum())
        if name in graded:  # taken in for a grade, on no record
            column = f"{name}_entries_by_grade"
            figures[f"entries by grade: {name}"] = int(m[column].sum()) if column in m else 0
    for name in (s for s in services if s in audit.services):
        figures[f"blocked: {name}"] = int(m[f"{name}_blocked"].sum())
    firms = audit.scenario.companies
    for name in firms.measures if firms is not None else ():
        figures[f"company sanctions: {name}"] = int(m[f"company_{name}_sanctions"].sum())
    figures["sanctions on people with a false record"] = int(
        m.sanctions_on_false_record_holders.sum()
    )
    figures["wrongful sanctions"] = int(m.sanctions_wrongful.sum())
    if "speech" in m.columns:  # critical speech, against the same people with no system
        figures["critical speech"] = int(m.speech.sum())
        person_years = audit.size * len(m) / 365
        figures[SPEECH_RATE] = 1000 * int(m.speech.sum()) / person_years
    figures["people with a false record"] = int(m.tainted_people.iloc[-1])
    figures["mean final score"] = float(m.score_mean.iloc[-1])
    return figures


def chilling_effect(table: pd.DataFrame) -> dict[str, float] | None:
    """The chilling effect of a comparison whose scenarios both count critical speech: the
    paired difference A - B in its rate (per 1,000 people a year) with its 95% interval, and
    the same relative to B (the mean over seeds of A / B - 1, with its own interval). Negative
    where people speak less under A. None where the scenarios mark no speech.

    Keys: rate_a, rate_b, difference, low, high, relative, relative_low, relative_high."""
    found = table[table.figure == SPEECH_RATE]
    if found.empty:
        return None
    row = found.iloc[0]
    ratios = [
        p["a"][SPEECH_RATE] / p["b"][SPEECH_RATE] - 1 if p["b"][SPEECH_RATE] else math.nan
        for p in table.attrs["per_seed"]
    ]
    relative, low, high = t_interval(np.array(ratios, dtype=np.float64))
    return {
        "rate_a": float(row.a),
        "rate_b": float(row.b),
        "difference": float(row.difference),
        "low": float(row.low),
        "high": float(row.high),
        "relative": relative,
        "relative_low": low,
        "relative_high": high,
    }


def paired_differences(pairs: list[dict[str, Any]]) -> pd.DataFrame:
    """Per figure: mean of A, mean of B, mean difference A - B and its 95% t-interval."""
    rows = []
    for figure in pairs[0]["a"]:
        a = np.array([p["a"][figure] for p in pairs], dtype=np.float64)
        b = np.array([p["b"][figure] for p in pairs], dtype=np.float64)
        mean, low, high = t_interval(a - b)
        rows.append(
            {"figure": figure, "a": a.mean(), "b": b.mean(), "difference": mean}
            | {"low": low, "high": high}
        )
    return pd.DataFrame(rows)


NO_PERCENTAGE = "B is 0: no percentage of nothing"


def with_percentages(table: pd.DataFrame) -> pd.DataFrame:
    """The table with the difference as a percentage of B (`percent_of_b`, with its interval
    `percent_low`, `percent_high`) and, where that cannot be, why (`percent_note`): a figure
    that B never counted (0) has no relative change, only its difference."""
    out = table.copy()
    scale = 100 / table.b.abs().where(table.b != 0)
    out["percent_of_b"] = table.difference * scale
    out["percent_low"] = table.low * scale
    out["percent_high"] = table.high * scale
    out["percent_note"] = np.where(table.b == 0, NO_PERCENTAGE, "")
    return out


def t_interval(differences: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t-interval of paired differences; NaN bounds for a single pair."""
    n = differences.size
    mean = float(differences.mean())
    if n < 2:
        return mean, float("nan"), float("nan")
    half = t_quantile(level, n - 1) * float(differences.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def t_quantile(level: float, df: int) -> float:
    """The t such that P(|T| <= t) = level for Student's t with `df` degrees of freedom, by
    bisection on the exact finite series of Abramowitz and Stegun 26.7.3 (integer df)."""
    low, high = 0.0, 1.0
    while _t_central(high, df) < level:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if _t_central(middle, df) < level:
            low = middle
        else:
            high = middle
        if high - low < 1e-13 * high:
            break
    return (low + high) / 2


def _t_central(t: float, df: int) -> float:
    """P(|T| <= t), Abramowitz and Stegun 26.7.3."""
    theta = math.atan(t / math.sqrt(df))
    c2, s = math.cos(theta) ** 2, math.sin(theta)
    if df % 2:
        term = total = math.cos(theta)
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        return 2 / math.pi * (theta + (s * total if df > 1 else 0.0))
    term = total = 1.0
    for k in range(1, df // 2):
        term *= c2 * (2 * k - 1) / (2 * k)
        total += term
    return s * total
