"""Policy experiments on the fitted court-list history: each reform against the same history
without it, on the same seeds (paired differences, 95% intervals).

    python benchmarks/court_list_reforms.py                          # 1:1,000, 3 seeds, ~10 min
    python benchmarks/court_list_reforms.py --population 14097787 --seeds 5   # 1:100

`court-list-history` runs to the end of 2025 with the reforms after 2019 as dated changes
(docs/after-2018.md). This script compares it (A) with the same history without one reform (B):
no credit repair (2020 on), and no separation of the unable from the unwilling (2024 on). It is
`scsim compare` through the Python API, since each B is the built-in with overrides rather than
a file. Figures are national (scaled by the census population over the run's), summed over the
two parts of the list: people put on the list, person-years on it, wrongful listing entries (on
false records) and refused flight and rail purchases, over the whole run (the reforms act only
from their dates, so the differences are theirs).
"""

from __future__ import annotations

import argparse

import pandas as pd
from rich.console import Console
from rich.table import Table

from scsim.experiments.compare import compare
from scsim.scenario import Scenario, load_scenario

PARTS = ("court_list_until_performed", "court_list")
FIGURES = {
    "people put on the list": "listing entries: ",
    "person-years on the list": "person-years listed: ",
    "wrongful listing entries": "wrongful listing entries: ",
    "refused flight purchases": "blocked: flight",
    "refused rail purchases": "blocked: train",
}


def without(reform: str, population: int) -> tuple[Scenario, Scenario]:
    """The built-in (A) and the built-in without `reform` (B), at `population`."""
    sized = {"population.size": population}
    a = load_scenario("court-list-history", overrides=sized)
    overrides: dict[str, object] = dict(sized, name=f"court-list-history-no-{reform}")
    for i, change in enumerate(a.rulebook.changes):
        for part in PARTS:
            fields = change.lists.get(part, {})
            if reform == "credit-repair" and "credit_repair_per_year" in fields:
                overrides[f"rulebook.changes.{i}.lists.{part}.credit_repair_per_year"] = 0.0
            if reform == "unable" and "spare_unable" in fields:
                overrides[f"rulebook.changes.{i}.lists.{part}.spare_unable"] = False
    return a, load_scenario("court-list-history", overrides=overrides)


def summed(table: pd.DataFrame, scale: float) -> pd.DataFrame:
    """The figures of FIGURES, each summed over the list's two parts, scaled to the nation."""
    rows = []
    per_seed = table.attrs["per_seed"]
    for words, prefix in FIGURES.items():
        names = [
            f
            for f in table.figure
            if f == prefix or (prefix.endswith(": ") and any(f == prefix + part for part in PARTS))
        ]
        diffs = pd.Series([sum(p["a"][f] - p["b"][f] for f in names) for p in per_seed]) * scale
        a = sum(table.set_index("figure").loc[f, "a"] for f in names) * scale
        b = sum(table.set_index("figure").loc[f, "b"] for f in names) * scale
        mean, half = diffs.mean(), _half_width(diffs)
        rows.append({"figure": words, "a": a, "b": b, "a - b": mean, "+-": half})
    return pd.DataFrame(rows)


def _half_width(values: pd.Series) -> float:
    from scipy import stats

    if len(values) < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / len(values) ** 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1_409_778, help="default: 1:1,000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--days", type=int, help="default: the built-in's, to the end of 2025")
    args = parser.parse_args()
    console = Console(width=110)
    for reform in ("credit-repair", "unable"):
        a, b = without(reform, args.population)
        assert a.calibration is not None
        scale = a.calibration.population / args.population
        table = summed(compare(a, b, seeds=args.seeds, days=args.days), scale)
        view = Table(title=f"A: court-list-history; B: without {reform}")
        for column in table.columns:
            view.add_column(column, justify="left" if column == "figure" else "right")
        for row in table.itertuples(index=False):
            view.add_row(row[0], *(f"{v:,.0f}" for v in row[1:]))
        console.print(view)


if __name__ == "__main__":
    main()
