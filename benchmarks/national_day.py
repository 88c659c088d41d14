"""A nation's day, component by component, its simulated days alone: one model, no files.

    python benchmarks/national_day.py                                  # 1,409,778,724 x 3 days
    python benchmarks/national_day.py --backend numpy --days 35        # past a batch of counts

At a nation's size two models do not fit beside each other in 24 GB (`benchmarks/backends.py`
steps both paths in one process), and a whole run (`benchmarks/run.py`) spends most of a few
days building the population and writing files. This builds one model, runs day 0 apart (it
touches the state's pages for the first time, a one-off cost of the operating system), then
times each component over the next days and extrapolates a year from their rate. Counts are
drawn 32 days at a time (`scsim.engine.rng.COUNT_DAYS`): run past day 32 to include a batch.
"""

from __future__ import annotations

import argparse
import resource
import time

import numba
from rich.console import Console
from rich.table import Table

from scsim.engine.model import Model
from scsim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="national-score")
    parser.add_argument("--population", type=float, default=1.409778724e9)
    parser.add_argument("--days", type=int, default=3, help="timed days, after day 0")
    parser.add_argument("--backend", default="numba", help="numpy (the reference) or numba")
    parser.add_argument("--threads", type=int, default=2, help="numba.set_num_threads")
    args = parser.parse_args()
    numba.set_num_threads(args.threads)
    scenario = load_scenario(args.scenario, overrides={"population.size": int(args.population)})
    started = time.perf_counter()
    model = Model.build(scenario, backend=args.backend)
    built = time.perf_counter() - started
    started = time.perf_counter()
    days = model.run(0, args.days + 1)  # the run's own loop (its allocator settings included)
    next(days)
    model.ledger.drain()
    first = time.perf_counter() - started
    model.day.seconds = {c.name: 0.0 for c in model.day.components}
    started = time.perf_counter()
    for _ in days:
        model.ledger.drain()
    day = (time.perf_counter() - started) / args.days
    seconds = model.day.seconds or {}
    table = Table(
        title=f"{args.scenario}: {int(args.population):,} people, {args.backend}, days 1 to "
        f"{args.days}: {day:.2f} s a day; a year at that rate {365 * day / 60:.1f} min "
        f"(+ build {built:.1f} s, day 0 {first:.1f} s); peak "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB"
    )
    for column in ("component", "ms a day", "share"):
        table.add_column(column, justify="right")
    for name in sorted(seconds, key=seconds.__getitem__, reverse=True):
        spent = seconds[name] / args.days
        table.add_row(name, f"{1e3 * spent:,.1f}", f"{100 * spent / day:.1f} %")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
