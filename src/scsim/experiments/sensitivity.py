"""Sobol sensitivity of the headline metrics to chosen parameters, on a sweep (SALib).

The design is Saltelli's scheme over a scrambled Sobol' sequence (SALib's `sample.sobol`,
Saltelli 2002; Saltelli et al. 2010): N base samples of D parameters make N * (D + 2) runs,
each run as a sweep runs it (Ray tasks, resumable). Each metric's first-order index S1 (the
share of its variance a parameter explains alone) and total index ST (alone and with every
other) come with 95% bootstrap intervals (`analyze.sobol`). With several seeds, a design
point's metric is the mean over its seeds, on the same seeds at every point (common random
numbers), so the indices measure the parameters, not the noise between seeds.

    runs/<name>/
      sensitivity.parquet   one row per (metric, parameter): S1, S1_conf, ST, ST_conf
      results.parquet       the sweep's table, one row per run
      runs/<run_id>/        each run's directory

    >>> outcome = run_sensitivity(design(Path("examples/sensitivity.toml")), Path("runs/s"))
    >>> outcome.indices.sort_values("ST", ascending=False).groupby("metric").head(1)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import RenderableType

from scsim.experiments.sweep import (
    RESULTS,
    OnRun,
    SweepOutcome,
    run_sweep,
    write_sweep_manifest,
    write_table,
)
from scsim.experiments.sweepfile import Sweep, expand, load_sensitivity
from scsim.report.terminal import fitted
from scsim.simulation.lock import writing

INDICES = "sensitivity.parquet"
DESIGN_SEED = 0  # the scramble of the Sobol' sequence and the bootstrap: fixed, so reruns resume
CONSTANT = ("people", "days")  # set by the scenario, never by the parameters


@dataclass(frozen=True)
class Design:
    """A sensitivity file's Sobol design: the sweep that runs it, SALib's problem, the seeds."""

    sweep: Sweep
    problem: dict[str, Any]
    seeds: int


@dataclass(frozen=True)
class SensitivityOutcome:
    sweep: SweepOutcome
    indices: pd.DataFrame


def design(file: Path) -> Design:
    """Read a sensitivity file and draw its design; every run's scenario is validated."""
    from SALib.sample import sobol as sobol_sample

    spec = load_sensitivity(file)
    ranges = spec.sensitivity.parameters
    problem = {
        "num_vars": len(ranges),
        "names": list(ranges),
        "bounds": [
            [low, high + 1 if _integer(low, high) else high] for low, high in ranges.values()
        ],
    }
    points = sobol_sample.sample(
        problem, spec.sensitivity.samples, calc_second_order=False, seed=DESIGN_SEED
    )
    combos = [
        {path: _value(x, *ranges[path]) for path, x in zip(ranges, point, strict=True)}
        for point in points.tolist()
    ]
    tables = dict.fromkeys(ranges, "sensitivity.parameters")
    return Design(expand(file, spec, combos, tables), problem, spec.seeds)


def run_sensitivity(
    plan: Design,
    out: Path,
    *,
    ray_address: str | None = None,
    workers: int | None = None,
    force: bool = False,
    on_run: OnRun | None = None,
) -> SensitivityOutcome:
    """Run the design as a sweep into `out`; write and return the indices."""
    outcome = run_sweep(
        plan.sweep, out, ray_address=ray_address, workers=workers, force=force, on_run=on_run
    )
    indices = sobol_indices(plan.problem, outcome.table, plan.seeds)
    with writing(outcome.path):  # the indices join the table in sweep.json, for verify
        write_table(indices, outcome.path / INDICES)
        write_sweep_manifest(plan.sweep, outcome.path, (RESULTS, INDICES))
    return SensitivityOutcome(outcome, indices)


def sobol_indices(problem: dict[str, Any], table: pd.DataFrame, seeds: int) -> pd.DataFrame:
    """S1 and ST of every headline metric, per parameter; NaN for a metric that never moves."""
    from SALib.analyze import sobol

    rows = []
    for metric in headline_metrics(table, problem["names"]):
        y = table[metric].to_numpy(dtype=np.float64).reshape(-1, seeds).mean(axis=1)
        if np.ptp(y) == 0:
            found = {key: [math.nan] * problem["num_vars"] for key in _KEYS}
        else:
            with warnings.catch_warnings():  # SALib warns of negative estimates; we report them
                warnings.simplefilter("ignore")
                found = sobol.analyze(problem, y, calc_second_order=False, seed=DESIGN_SEED)
        for i, name in enumerate(problem["names"]):
            rows.append(
                {"metric": metric, "parameter": name, **{k: float(found[k][i]) for k in _KEYS}}
            )
    return pd.DataFrame(rows)


def headline_metrics(table: pd.DataFrame, parameters: list[str]) -> list[str]:
    """The numeric columns of a sweep's table that a parameter could move."""
    fixed = {"run_id", "seed", *CONSTANT, *parameters}
    return [
        name
        for name in table.columns
        if name not in fixed and pd.api.types.is_numeric_dtype(table[name])
    ]


_KEYS = ("S1", "S1_conf", "ST", "ST_conf")


def _integer(low: float, high: float) -> bool:
    return isinstance(low, int) and isinstance(high, int)


def _value(x: float, low: float, high: float) -> int | float:
    """An integer parameter takes each of low..high with equal chance (x spans [low, high + 1))."""
    return min(math.floor(x), high) if _integer(low, high) else x


def indices_table(indices: pd.DataFrame, width: int | None = None) -> RenderableType:
    """The indices for a terminal: per metric, its parameters from the strongest driver down;
    wrapped by rows where `width` is too narrow for the table (80 columns, piped)."""
    rows = []
    for metric, group in indices.groupby("metric", sort=False):
        if group["ST"].isna().all():
            rows.append([str(metric), "(the same in every run)", "", ""])
            continue
        for i, row in enumerate(group.sort_values("ST", ascending=False).itertuples()):
            rows.append(
                [
                    str(metric) if i == 0 else "",
                    str(row.parameter),
                    f"{row.S1:.2f} ± {row.S1_conf:.2f}",
                    f"{row.ST:.2f} ± {row.ST_conf:.2f}",
                ]
            )
    headers = ["metric", "parameter", "S1 alone", "ST with the others"]
    title = "Sobol indices (95% intervals)"
    return fitted(title, headers, rows, labels=2, width=width, sections=True)
