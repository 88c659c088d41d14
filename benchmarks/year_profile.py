"""A whole year's day, part by part: how a component's cost grows as the year accumulates.

    python benchmarks/year_profile.py                                  # national-score, 1e8 x 364
    python benchmarks/year_profile.py --population 1e7 --parts 4 --backend numpy

The first days of a run say little of its last ones: locks, lists and the rosters of the
acting grades grow all year, and what keeps them costs more as they do. This steps one model
(no files) through the days, split into equal parts, and prints each part's day and its most
costly components (`--profile`'s timers), so that a year's total is not extrapolated from its
first days.
"""

from __future__ import annotations

import argparse
import time

import numba
from rich.console import Console
from rich.table import Table

from scsim.engine.model import Model
from scsim.scenario import load_scenario

SHOWN = 6  # components shown a part, the most costly first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="national-score")
    parser.add_argument("--population", type=float, default=1e8)
    parser.add_argument("--days", type=int, default=364)
    parser.add_argument("--parts", type=int, default=7)
    parser.add_argument("--backend", default="numba", help="numpy (the reference) or numba")
    parser.add_argument("--threads", type=int, default=2, help="numba.set_num_threads")
    args = parser.parse_args()
    numba.set_num_threads(args.threads)
    scenario = load_scenario(args.scenario, overrides={"population.size": int(args.population)})
    model = Model.build(scenario, backend=args.backend)
    model.day = type(model.day).of(model, profile=True)
    seconds = model.day.seconds
    assert seconds is not None
    per_part = args.days // args.parts
    table = Table(title=f"{args.scenario}: {int(args.population):,} people, {args.backend}")
    table.add_column("days", justify="right")
    table.add_column("ms a day", justify="right")
    table.add_column(f"its {SHOWN} most costly components (ms a day)")
    total = 0.0
    days = model.run(0, args.parts * per_part)  # the run's own loop (its allocator settings)
    for part in range(args.parts):
        before, started = dict(seconds), time.perf_counter()
        first = part * per_part
        for _ in range(per_part):
            next(days)
            model.ledger.discard()
        elapsed = time.perf_counter() - started
        total += elapsed
        ms = {name: 1000 * (seconds[name] - before[name]) / per_part for name in seconds}
        top = sorted(ms.items(), key=lambda item: -item[1])[:SHOWN]
        table.add_row(
            f"{first}-{first + per_part - 1}",
            f"{1000 * elapsed / per_part:.1f}",
            ", ".join(f"{name} {value:.1f}" for name, value in top),
        )
    Console(width=120).print(table)
    days = per_part * args.parts
    print(f"{days} days in {total:.1f} s: {1000 * total / days:.1f} ms a day on average")


if __name__ == "__main__":
    main()
