"""How far a run's day is from the limits of the machine it runs on.

    python benchmarks/limits.py                                   # rongcheng, 100,000 x 365
    python benchmarks/limits.py --scenario national-score --population 1.409778724e9 --days 10

Runs the scenario (its simulated days alone, from run.json) and counts what those days touched:
true events, the service requests acted on (refused, rewarded, slipped through: the others are
counted, not touched) and ledger rows. Each is at least one read or write of a person's
state at a place nothing before it predicted, so a day cannot cost less than that many random
accesses. Then measures, on this machine, in this process, at this population:

- random access: a gather and a scatter per touch on an int16 array the population's size (the
  score), with the day's number of touches at random places: the floor of an O(events) day;
- a pass over the state: the 8 bytes a person may hold, read and written once (what a day that
  visited everyone would cost at memory bandwidth; docs/architecture.md keeps it out of the day);
- a NumPy call: one ufunc on a few hundred elements, the unit of an array program's fixed cost
  (`python benchmarks/stages.py` counts the calls of a day).

It prints the day beside each, and the day over the random-access floor: how far the engine is
from what the machine could do with the same events. Then, per component (`--profile`'s times),
the people it must visit at least once a day, counted from the metrics (`COMPONENT_TOUCHES`),
its floor (that many random touches) and how far it is from it; a component whose count the
metrics do not give is shown without a floor. Figures hold for this machine only;
compare them as ratios within one invocation.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

import scsim

STATE_BYTES = 8  # docs/architecture.md: at most 8 bytes of mutable state per person

COMPONENT_TOUCHES: dict[str, tuple[str, ...]] = {
    "behave": ("true_events",),  # each true event is drawn for one person
    "observe": ("true_events",),  # each is looked at by the sensors
    "score": ("records", "association_rows", "reversed_rows"),  # each point row's person
}
"""Metrics columns whose day's sum is the people a component must touch at least once (a
column starting with "_" stands for every column ending with it). `sanction` must touch each
request it acts on, refused, rewarded or slipping through with another document (each
service's `_blocked`, `_rewards` and `_evaded`): the requests it only counts (a person in no
acting grade and on no list: granted, no row) touch nobody. `speak` reads each true
event's person and their friends (`FRIENDS_READ`); `trade` reads the grade of every candidate
its draws bring (the people of a range at the highest rate, most of them not in a buying grade),
which no metric counts, so it has no floor here."""

FRIENDS_READ = ("speak", "true_events")  # touches: these events x (1 + friends a person)


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The fastest of a few timings: the machine's rate, not the noise of whoever shares it."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def day_touches(run: Path, services: list[str]) -> dict[str, float]:
    """What a simulated day touched, on average over the run: the requests acted on
    (`acted_on`), not those only counted."""
    metrics = pq.read_table(run / "metrics.parquet").to_pandas()
    days = len(metrics)
    rows = pq.ParquetFile(run / "ledger.parquet").metadata.num_rows
    return {
        "true events": float(metrics["true_events"].sum()) / days,
        "service requests acted on": acted_on(metrics, services) / days,
        "ledger rows": rows / days,
    }


def acted_on(metrics: pd.DataFrame, services: list[str]) -> float:
    """The requests the services refused, rewarded or let slip through with another document,
    over the run: the ones a day must touch (the others are counted in their regions)."""
    acted = [f"{v}_{what}" for v in services for what in ("blocked", "rewards", "evaded")]
    return float(metrics[[c for c in acted if c in metrics.columns]].to_numpy().sum())


def component_touches(run: Path, friends: int, services: list[str]) -> dict[str, float]:
    """Per component of COMPONENT_TOUCHES (and FRIENDS_READ, and `sanction` for `services`),
    the people it touched a day, on average."""
    metrics = pq.read_table(run / "metrics.parquet").to_pandas()
    component, column = FRIENDS_READ
    touches = {component: float(metrics[column].sum()) * (1 + friends) / len(metrics)}
    if services:
        touches["sanction"] = acted_on(metrics, services) / len(metrics)
    for component, columns in COMPONENT_TOUCHES.items():
        names = [
            c
            for c in metrics.columns
            if c in columns or any(n.startswith("_") and c.endswith(n) for n in columns)
        ]
        if names:
            touches[component] = float(metrics[names].to_numpy().sum()) / len(metrics)
    return touches


def component_table(
    ms_per_day: dict[str, float], touches: dict[str, float], touch_seconds: float
) -> Table:
    """Each component's time a day beside its floor: its touches at the random-access rate."""
    table = Table(title="per component: time a day against its own floor")
    for column in ("component", "ms a day", "touches a day", "floor ms", "x floor"):
        table.add_column(column, justify="right")
    for name in sorted(ms_per_day, key=ms_per_day.__getitem__, reverse=True):
        ms = ms_per_day[name]
        if name not in touches:
            table.add_row(name, f"{ms:.3f}", "", "", "")
            continue
        floor = 1e3 * touches[name] * touch_seconds
        ratio = f"{ms / floor:,.1f}x" if floor > 0 else ""
        table.add_row(name, f"{ms:.3f}", f"{touches[name]:,.0f}", f"{floor:.3f}", ratio)
    return table


def random_access_seconds(people: int, touches: int, rng: np.random.Generator) -> float:
    """One gather and one scatter per touch at random places of an int16 array of `people`."""
    score = np.zeros(people, dtype=np.int16)
    where = rng.integers(0, people, size=touches)

    def touch() -> None:
        score[where] = score[where] + np.int16(1)

    return best_of(5, touch)


def pass_seconds(people: int) -> float:
    """Read and write every person's state once: int16 columns making up STATE_BYTES a person,
    timed on one column and scaled (one column of a 1.4e9 nation is 2.8 GB; four would not fit
    beside the run's own memory on a 24 GB machine)."""
    column = np.zeros(people, dtype=np.int16)
    one = best_of(3, lambda: np.add(column, np.int16(1), out=column))
    return one * STATE_BYTES / column.itemsize


def call_seconds(elements: int = 300) -> float:
    """One NumPy ufunc call on a few hundred elements: the cost that does not shrink with them."""
    small = np.zeros(elements, dtype=np.int64)
    calls = 10_000

    def many() -> None:
        for _ in range(calls):
            np.add(small, 1, out=small)

    return best_of(3, many) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--population", type=float, default=1e5)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--backend", default="numpy", help="numpy (the reference), numba or gpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "numba":  # load the compiled kernels before the timed run's day 0
            scsim.run(
                args.scenario,
                Path(tmp) / "warm",
                population=10_000,
                days=2,
                overrides={"run.people": "none", "run.report": False},
                backend=args.backend,
            )
        result = scsim.run(
            args.scenario,
            Path(tmp) / "run",
            population=int(args.population),
            days=args.days,
            overrides={"run.people": "none", "run.report": False},
            backend=args.backend,
            profile=True,
        )
        run = Path(result.path)
        manifest = json.loads((run / "run.json").read_text())
        day = manifest["timings_seconds"]["days"] / args.days
        people = int(manifest["summary"]["people"])
        scenario = manifest["scenario"]
        services = list(scenario["rulebook"]["services"])
        touched = day_touches(run, services)
        by_component = component_touches(run, int(scenario["population"]["friends"]), services)
        ms_per_day = manifest["profile"]["ms_per_day"]
        del result
    touches = max(1, round(sum(touched.values())))
    rng = np.random.default_rng(0)
    access = random_access_seconds(people, touches, rng)
    state_pass = pass_seconds(people)
    call = call_seconds()

    table = Table(title=f"{args.scenario}: {people:,} people x {args.days} days, a day's limits")
    for column in ("figure", "per day", "note"):
        table.add_column(column, justify="right")
    table.add_row("the engine's day", f"{1e3 * day:.3f} ms", "run.json, days only")
    for name, count in touched.items():
        table.add_row(name, f"{count:,.0f}", "metrics / ledger")
    table.add_row("touches", f"{touches:,}", "each at least one random access")
    table.add_row(
        "random-access floor",
        f"{1e3 * access:.3f} ms",
        f"{1e9 * access / touches:.1f} ns a touch; the day is {day / access:,.0f}x it",
    )
    table.add_row(
        "one pass over the state",
        f"{1e3 * state_pass:.3f} ms",
        f"{STATE_BYTES * people / state_pass / 1e9:.1f} GB/s; the day is {day / state_pass:.2f}x",
    )
    table.add_row(
        "one NumPy call",
        f"{1e6 * call:.2f} us",
        f"the day is {day / call:,.0f} calls' worth",
    )
    console = Console(width=120)
    console.print(table)
    console.print(component_table(ms_per_day, by_component, access / touches))


if __name__ == "__main__":
    main()
