"""A calibration fit's candidate run on each path, in one process: what a fit's time is made of.

    python benchmarks/fit_candidate.py                         # court-list-history, 2,108 days
    python benchmarks/fit_candidate.py --days 300 --repeats 1

A fit runs its scenario once per candidate in worker processes that live for the whole fit
(`scsim calibrate`, `Runs`): each imports Numba once, and from then on a day's small calls go
compiled (`scsim.engine.kernels.worth`). This does what a worker does, alternating the two
paths so that both see the same machine, and prints each run's CPU seconds and the ratio of
the best of each: the CPU a candidate costs, not the wall clock of a shared machine. A first
run on each path (not counted) loads the population and the cached kernels.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from scsim.engine import kernels
from scsim.experiments.calibration.runs import run_metrics
from scsim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="court-list-history")
    parser.add_argument("--days", type=int, default=2108, help="court-list-history's last target")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--population", type=float, default=0, help="0: the scenario's own")
    args = parser.parse_args()
    console = Console(width=100)
    sized = {"population.size": int(args.population)} if args.population else {}
    s = load_scenario(args.scenario, overrides=sized)
    kernels.load()  # as calibration's workers do
    for backend in ("numpy", "numba"):
        run_metrics(s, backend=backend, days=min(args.days, 30))
    seconds: dict[str, list[float]] = {"numpy": [], "numba": []}
    for _ in range(args.repeats):
        for backend in seconds:
            started = time.process_time()
            run_metrics(s, backend=backend, days=args.days)
            seconds[backend].append(time.process_time() - started)
    for backend, taken in seconds.items():
        runs = ", ".join(f"{t:.2f}" for t in taken)
        console.print(
            f"{backend}: {runs} s of CPU a candidate ({1e3 * min(taken) / args.days:.2f} ms a day)"
        )
    ratio = min(seconds["numba"]) / min(seconds["numpy"])
    console.print(f"compiled / reference, best of each: {ratio:.2f}")


if __name__ == "__main__":
    main()
