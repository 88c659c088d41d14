"""Refine a scenario's free values on its record and print the fit and its table over seeds:
what the court-list scripts share (`court_list_holdout.py`, `court_list_restriction_kept.py`)."""

from __future__ import annotations

import time

import pandas as pd
from rich.console import Console

from scsim.experiments.calibration.fit import evaluate, refine
from scsim.report.terminal import calibration_table_view
from scsim.scenario import Scenario


def refine_and_tabulate(
    s: Scenario, rounds: int, table_seeds: int, label: str, title: str, console: Console
) -> tuple[pd.DataFrame, float]:
    """Refine `s` (one seed a run), print the loss before and after and the fitted values,
    then the table over `table_seeds` seeds; return the table and its loss."""
    started = time.perf_counter()
    fitted = refine(s, rounds=rounds, seeds=1)
    console.print(
        f"{label}: loss {fitted.start_loss:.4f} -> {fitted.best_loss:.4f} in {fitted.trials} "
        f"runs, {time.perf_counter() - started:.0f} s"
    )
    for name, value in fitted.values.items():
        console.print(f"  {name} = {value:.6g}")
    table, value = evaluate(fitted.scenario, table_seeds)
    console.print(calibration_table_view(table, title))
    return table, value
