"""Where a run's time goes: each component's time per day, building and writing beside.

    python benchmarks/stages.py                                   # rongcheng, 100,000 x 365
    python benchmarks/stages.py --scenario national-score --population 2e8 --days 10

Reads each component's time from run.json's `profile` (`scsim run --profile`: the day times its
own components), times the day's ledger hand-over to the writer, and reads the run's build and
write phases (run.json's timings), in one run of the full run directory. Also counts the Python
function calls per day (the steps of a second, profiled run of --profile-days days), which is
what a day costs at small populations, where each NumPy call handles a few hundred rows: that
count times the cost of a call is the floor of an array program's day, and the reason a
compiled kernel would be needed to go lower.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import scsim
import scsim.engine.model
import scsim.simulation.run


def timed(spent: dict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started

    return wrapper


def run(args: argparse.Namespace, out: Path, days: int) -> dict[str, Any]:
    """One run; its run.json (timings of the phases, and each component's `profile`)."""
    result = scsim.run(
        args.scenario,
        out,
        population=int(args.population),
        days=days,
        overrides={"run.people": "none", "run.report": False},
        backend=args.backend,
        profile=True,
    )
    return json.loads((Path(result.path) / "run.json").read_text())  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--population", type=float, default=1e5)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--backend", default="numpy", help="numpy (the reference), numba or gpu")
    parser.add_argument("--profile-days", type=int, default=30, help="0 skips the call count")
    args = parser.parse_args()
    spent: dict[str, float] = defaultdict(float)
    hand_over = scsim.simulation.run._day_ledger
    scsim.simulation.run._day_ledger = timed(spent, "ledger hand-over", hand_over)  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        manifest = run(args, Path(tmp) / "timed", args.days)
        phases = manifest["timings_seconds"]
        spent |= manifest["profile"]["seconds"]
        calls = 0.0
        if args.profile_days:  # the days only: each step profiled, the build and write not
            profile, step = cProfile.Profile(), scsim.engine.model.Model.step

            def profiled(model: scsim.engine.model.Model, day: int) -> dict[str, int | float]:
                return profile.runcall(step, model, day)

            scsim.engine.model.Model.step = profiled  # type: ignore[method-assign]
            run(args, Path(tmp) / "profiled", args.profile_days)
            total = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
            calls = total / args.profile_days
    table = Table(title=f"{args.scenario}: {int(args.population):,} people x {args.days} days")
    for column in ("part", "seconds", "ms per day", "share of the days"):
        table.add_column(column, justify="right")
    for name in sorted(spent, key=spent.__getitem__, reverse=True):
        ms = 1e3 * spent[name] / args.days
        table.add_row(
            name, f"{spent[name]:.3f}", f"{ms:.3f}", f"{spent[name] / phases['days']:.0%}"
        )
    table.add_row(
        "days, in all", f"{phases['days']:.3f}", f"{1e3 * phases['days'] / args.days:.3f}"
    )
    table.add_row("build", f"{phases['build']:.3f}", "")
    table.add_row("write", f"{phases['write']:.3f}", "")
    Console(width=120).print(table)
    if calls:
        print(f"Python function calls per day (cProfile, {args.profile_days} days): {calls:,.0f}")


if __name__ == "__main__":
    main()
