"""The NumPy reference and the compiled path (`--backend numba`) stepped in one process, day
by day in turn, each component timed: a comparison that a machine's changing load hits alike.

    python benchmarks/backends.py                                    # national-score, 3e7 x 25
    python benchmarks/backends.py --scenario rongcheng --population 1e7 --days 40 --threads 2

Both models are built first; the first --warm days are left out of the figures (the draws
made ahead and Numba's first calls, which load its compiled kernels). Run wall times
(`benchmarks/run.py`) count the start, which this leaves out; compare them within one
invocation too.
"""

from __future__ import annotations

import argparse
import time

import numba
from rich.console import Console
from rich.table import Table

from scsim.engine import kernels
from scsim.engine.model import Model
from scsim.scenario import load_scenario

BACKENDS = ("numpy", "numba")


def step_in_turn(models: dict[str, Model], days: int, warm: int) -> dict[str, float]:
    """Step every model through `days` days in turn; each one's seconds after `warm` days,
    and each component's in its day's `seconds` (reset when the warm days end)."""
    total = dict.fromkeys(models, 0.0)
    for day in range(days):
        for backend, model in models.items():
            kernels.switch(backend == "numba")  # the process's switch, as `load` sets it
            if day == warm:
                model.day.seconds = {c.name: 0.0 for c in model.day.components}
            started = time.perf_counter()
            model.step(day)
            model.ledger.drain()
            if day >= warm:
                total[backend] += time.perf_counter() - started
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="national-score")
    parser.add_argument("--population", type=float, default=3e7)
    parser.add_argument("--days", type=int, default=25)
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="numba.set_num_threads")
    args = parser.parse_args()
    numba.set_num_threads(args.threads)
    scenario = load_scenario(args.scenario, overrides={"population.size": int(args.population)})
    models = {b: Model.build(scenario, backend=b) for b in BACKENDS}
    total = step_in_turn(models, args.days, args.warm)
    days = args.days - args.warm
    table = Table(
        title=f"{args.scenario}: {int(args.population):,} people, days {args.warm} to "
        f"{args.days}, {args.threads} thread(s): ms per day"
    )
    for column in ("component", *BACKENDS, "numpy / numba"):
        table.add_column(column, justify="right")
    seconds = {b: models[b].day.seconds or {} for b in BACKENDS}
    for name in sorted(seconds["numpy"], key=seconds["numpy"].__getitem__, reverse=True):
        a, b = seconds["numpy"][name], seconds["numba"][name]
        table.add_row(name, f"{1e3 * a / days:.2f}", f"{1e3 * b / days:.2f}", f"{a / b:.2f}x")
    a, b = total["numpy"], total["numba"]
    table.add_row("the day", f"{1e3 * a / days:.2f}", f"{1e3 * b / days:.2f}", f"{a / b:.2f}x")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
