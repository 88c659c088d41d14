"""A roster's day of changes, the reference against the compiled path, at a list's sizes.

    python benchmarks/rosters.py                          # 20,000, 1 M and 15 M members
    python benchmarks/rosters.py --sizes 1e5 --changes 1000

A roster (`scsim.engine.state.Roster`) keeps its members sorted in five columns; a day adds a
few (`add`) and takes a few (`take`). A fit's court list holds tens of thousands, a nation's
locks 15 million. Each size is timed on both paths in one process, alternately, and the
medians printed with their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from scsim.engine import kernels
from scsim.engine.state import Roster


def roster_of(size: int, rng: np.random.Generator) -> Roster:
    ids = np.unique(rng.integers(0, 100 * size, size))
    roster = Roster()
    until = rng.integers(0, 1000, ids.size)
    roster.add(ids, 0, until, np.zeros(ids.size, np.uint8), np.zeros(ids.size, bool))
    return roster


def day(roster: Roster, changes: int, rng: np.random.Generator) -> tuple[float, float]:
    """Seconds to take `changes` members and add `changes` new ones."""
    mask = np.zeros(len(roster), dtype=bool)
    mask[rng.integers(0, len(roster), changes)] = True
    started = time.perf_counter()
    roster.take(mask)
    taken = time.perf_counter() - started
    new = np.setdiff1d(rng.integers(0, 100 * len(roster), changes), roster.ids)
    until = np.full(new.size, 9)
    started = time.perf_counter()
    roster.add(new, 1, until, np.zeros(new.size, np.uint8), np.zeros(new.size, bool))
    return taken, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[2e4, 1e6, 1.5e7])
    parser.add_argument("--changes", type=int, default=40, help="members taken and added a day")
    parser.add_argument("--repeats", type=int, default=0, help="days per size (0: by size)")
    args = parser.parse_args()
    kernels.load()
    rng = np.random.default_rng(1)
    table = Table(title=f"a roster's day: {args.changes} taken and {args.changes} added")
    for column in ("members", "path", "take", "add", "day vs reference"):
        table.add_column(column, justify="right")
    for size in (int(s) for s in args.sizes):
        base = roster_of(size, rng)
        repeats = args.repeats or max(3, min(200, 2 * 10**7 // size))
        medians: dict[bool, tuple[float, float]] = {}
        runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for _ in range(repeats + 1):  # the first of each path not counted (cached kernels)
            for on in (False, True):
                kernels.switch(on)
                roster = Roster.from_arrays(base.columns)
                runs[on].append(day(roster, args.changes, rng))
        kernels.switch(False)
        for on, timings in runs.items():
            taken, added = zip(*timings[1:], strict=True)
            medians[on] = statistics.median(taken), statistics.median(added)
        reference = sum(medians[False])
        for on, (taken, added) in medians.items():
            table.add_row(
                f"{len(base):,}",
                "compiled" if on else "reference",
                f"{1e6 * taken:,.0f} us",
                f"{1e6 * added:,.0f} us",
                f"{(taken + added) / reference:.2f}",
            )
    Console(width=100).print(table)


if __name__ == "__main__":
    main()
