"""The court list's full calibration: fit, table over seeds, and the fit confirmed at national
scale; prints each step's figures and wall time (docs/validation.md holds the last results).

    python benchmarks/court_list_fit.py                      # refine 2 from the built-in, ~15 min
    python benchmarks/court_list_fit.py --trials 150 --refine 3   # TPE first, then refine
    python benchmarks/court_list_fit.py --refine 0 --national 0   # no fit: the built-in's values

Not a test: it takes half an hour on two cores. The fitted scenario is written to --out; to
ship it, copy its values into src/scsim/scenario/builtins/court-list-history.toml.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from rich.console import Console

from scsim.experiments.calibration.fit import evaluate, fit, refine, write_fitted
from scsim.report.terminal import calibration_table_view
from scsim.scenario import load_scenario

NATION = 1_409_778_724


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="court-list-history")
    parser.add_argument("--trials", type=int, default=0, help="Optuna TPE trials first")
    parser.add_argument("--refine", type=int, default=2, help="coordinate-search rounds after")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per trial")
    parser.add_argument("--table-seeds", type=int, default=5)
    parser.add_argument("--national", type=int, default=NATION, help="0: no national run")
    parser.add_argument("--out", type=Path, default=Path("court-list-history-fitted.toml"))
    args = parser.parse_args()
    console = Console(width=110)
    s = load_scenario(args.scenario)
    if args.trials or args.refine:
        started = time.perf_counter()
        fitted = fit(s, trials=args.trials, seeds=args.seeds) if args.trials else None
        if args.refine:
            fitted = refine(s, rounds=args.refine, seeds=args.seeds, after=fitted)
        write_fitted(args.scenario, s, fitted, args.out)
        console.print(
            f"fit: {fitted.trials} trials, loss {fitted.start_loss:.4f} -> {fitted.best_loss:.4f}"
            f" in {time.perf_counter() - started:.0f} s; written to {args.out}"
        )
        for name, value in fitted.values.items():
            console.print(f"  {name} = {value:.6g}")
        s = fitted.scenario
    started = time.perf_counter()
    table, value = evaluate(s, args.table_seeds)
    console.print(calibration_table_view(table, f"{s.name}, {args.table_seeds} seeds"))
    console.print(
        f"loss {value:.4f}; {int(table.within.sum())} of {len(table)} targets within tolerance;"
        f" {time.perf_counter() - started:.0f} s"
    )
    if args.national:
        started = time.perf_counter()
        nation = load_scenario(s, overrides={"population.size": args.national})
        table, value = evaluate(nation, 1)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        console.print(calibration_table_view(table, f"{s.name} at {args.national:,} people"))
        console.print(
            f"loss {value:.4f}; {int(table.within.sum())} of {len(table)} within tolerance; "
            f"{time.perf_counter() - started:.0f} s, peak memory {peak:.1f} GiB"
        )


if __name__ == "__main__":
    main()
