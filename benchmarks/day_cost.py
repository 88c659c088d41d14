"""A small day's fixed cost: milliseconds and Python-level calls per day, per component.

    python benchmarks/day_cost.py rongcheng national-score --population 1e5 --days 365
    python benchmarks/day_cost.py court-list-history --population 3e5 --days 700 --calls

At 100,000 people a day is bound by the interpreter (each NumPy call costs about a
microsecond whatever its size), so its cost is counted in calls as well as in time: calls do
not depend on the machine's load, milliseconds do. Days are stepped as calibration steps them
(the ledger's rows dropped unread); `--drain` joins them into columns as a run that writes
them does. To compare two versions of the code, run each in turn a few times on the same
machine (`PYTHONPATH=other/src python benchmarks/day_cost.py ...`) and compare medians.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from scsim.engine.model import Model
from scsim.scenario import load_scenario


def step_days(model: Model, days: int, drain: bool) -> float:
    """Seconds to step days [0, days)."""
    started = time.perf_counter()
    for day in range(days):
        model.step(day)
        if drain:
            model.ledger.drain()
        else:
            model.ledger.discard()
    return time.perf_counter() - started


def calls_per_day(model: Model, days: int, drain: bool) -> float:
    profile = cProfile.Profile()
    profile.enable()
    step_days(model, days, drain)
    profile.disable()
    return pstats.Stats(profile).total_calls / days  # type: ignore[attr-defined, no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="+")
    parser.add_argument("--population", type=float, default=1e5)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--drain", action="store_true", help="join the ledger's rows each day")
    parser.add_argument("--calls", action="store_true", help="also count calls (cProfile)")
    args = parser.parse_args()
    for name in args.scenario:
        overrides = {"population.size": int(args.population), "run.days": args.days}
        scenario = load_scenario(name, overrides=overrides)
        model = Model.build(scenario)
        model.day.seconds = {c.name: 0.0 for c in model.day.components}
        seconds = step_days(model, args.days, args.drain)
        parts = sorted((model.day.seconds or {}).items(), key=lambda kv: -kv[1])
        line = f"{name}: {1e3 * seconds / args.days:.3f} ms/day"
        if args.calls:
            calls = calls_per_day(Model.build(scenario), args.days, args.drain)
            line += f", {calls:,.0f} calls/day"
        print(line)
        print("  " + ", ".join(f"{k} {1e6 * v / args.days:.0f}" for k, v in parts) + " (us/day)")


if __name__ == "__main__":
    main()
