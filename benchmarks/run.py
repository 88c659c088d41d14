"""Throughput and peak memory of whole runs, each in a fresh process, printed as one table.

    python benchmarks/run.py                       # default scenario 1 M and 10 M x 365, Mesa peer
    python benchmarks/run.py --sizes 1e5 1e8 --days 30 --backend gpu
    python benchmarks/run.py --sizes 1e5 1e6 --backend numpy numba   # both beside one peer
    python benchmarks/run.py --scenario national-score --sizes 1.409778724e9 --mesa-days 0
    python benchmarks/run.py --scenario national-score pilots --sizes 1e6 --mesa-days 0

Several scenarios run one after another at every size, in one invocation, so that their
figures compare (`pilots` beside `national-score`: the cost of local rulebooks); the
columns "ms/day" (wall time over days) and "bytes/person" (peak memory over people) are the
budgets a scenario is held to beside another.

Every scsim run writes its full run directory into a temporary folder, so its figures include
building the population and writing the files. The Mesa peer (benchmarks/peers) runs the same
scenario at 100,000 people, one agent object per person, for --mesa-days days (its cost per
day does not change over a run, so its person-days per second over a few days is its rate
over a year); the ratio column is scsim's person-days per second over the peer's, both
measured in this invocation; "days only" sets scsim's simulated days alone (run.json's
`timings_seconds.days`, without building the population and writing the files) beside the
peer's, which never counts building its agents. Peak memory is each child's maximum resident
set size. Compare figures within one invocation; across machines compare ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

PEER_PEOPLE = 100_000
SMALL_PEOPLE = 10_000  # with PEER_PEOPLE: a day's fixed cost and its cost per person
SCSIM_CHILD = """
import json, resource, sys, time
import scsim
size, days, scenario, out, backend = sys.argv[1:6]
t = time.perf_counter()
result = scsim.run(scenario, out, population=int(size), days=int(days), backend=backend,
                   overrides={"run.people": "none", "run.report": False})
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "events": result.summary["true_events"],
                  "days": result.manifest["timings_seconds"]["days"],
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""
MESA_CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[4])
from peers.mesa_model import SocialCreditModel
from scsim.scenario import load_scenario
size, days, scenario = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
model = SocialCreditModel(load_scenario(scenario, overrides={"population.size": size}))
t = time.perf_counter()
events = 0
for _ in range(days):
    model.step()
    events += model.true_events
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "events": events, "days": wall,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def child(code: str, *args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def day_split(small: dict[str, float], large: dict[str, float], days: int, peer: dict) -> str:
    """Where a 100,000-person day goes, from the simulated days at 10,000 and 100,000 people:
    a cost that does not grow with the population (the day's NumPy and Python calls, each on a
    few hundred rows) and one per person-day; and the ratio to the peer a day without the
    fixed part would reach."""
    per_day = {n: r["days"] / days for n, r in ((SMALL_PEOPLE, small), (PEER_PEOPLE, large))}
    slope = (per_day[PEER_PEOPLE] - per_day[SMALL_PEOPLE]) / (PEER_PEOPLE - SMALL_PEOPLE)
    fixed = per_day[SMALL_PEOPLE] - slope * SMALL_PEOPLE
    peer_day = peer["wall"] / peer["days_run"]
    variable = slope * PEER_PEOPLE
    bound = f"{peer_day / variable:,.0f}x" if variable > 0 else "unbounded"
    return (
        f"scsim's {PEER_PEOPLE:,}-person day: {per_day[PEER_PEOPLE] * 1e3:.2f} ms = "
        f"{fixed * 1e3:.2f} ms that does not grow with the population (its calls) + "
        f"{slope * 1e9:.1f} ns per person-day; the peer's day {peer_day * 1e3:.0f} ms. A day of "
        f"the per-person part alone would be {bound} the peer."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", nargs="+", default=["rongcheng"])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--backend", nargs="+", default=["numpy"], help="one or more: numpy, numba, gpu"
    )
    parser.add_argument("--mesa-days", type=int, default=10, help="0 skips the Mesa peer")
    args = parser.parse_args()
    rows = []
    peer_rate = None
    if args.mesa_days:
        peer = child(
            MESA_CHILD,
            str(PEER_PEOPLE),
            str(args.mesa_days),
            args.scenario[0],
            str(Path(__file__).parent),
        )
        peer_rate = PEER_PEOPLE * args.mesa_days / peer["wall"]
        peer["days_run"] = args.mesa_days
        rows.append(("mesa peer", args.scenario[0], PEER_PEOPLE, args.mesa_days, peer))
    sizes = [int(s) for s in args.sizes]
    if args.mesa_days and PEER_PEOPLE not in sizes:
        sizes.insert(0, PEER_PEOPLE)
    if args.mesa_days and SMALL_PEOPLE not in sizes:  # for the split of a day's cost below
        sizes.insert(0, SMALL_PEOPLE)
    with tempfile.TemporaryDirectory() as tmp:
        for scenario, backend in [(s, b) for s in args.scenario for b in args.backend]:
            for size in sizes:
                result = child(
                    SCSIM_CHILD,
                    str(size),
                    str(args.days),
                    scenario,
                    f"{tmp}/run-{scenario}-{backend}-{size}",
                    backend,
                )
                rows.append((f"scsim {backend}", scenario, size, args.days, result))
    table = Table(title=f"scsim benchmark: {', '.join(args.scenario)}")
    for column in (
        "model",
        "scenario",
        "people",
        "days",
        "wall s",
        "person-days/s",
        "events/s",
        "peak memory",
        "ms/day",
        "bytes/person",
        "x Mesa peer",
        "x Mesa, days only",
    ):
        table.add_column(column, justify="right")
    for name, scenario, size, days, r in rows:
        rate = size * days / r["wall"]
        ratio = f"{rate / peer_rate:,.0f}" if peer_rate else "-"
        stepping = f"{size * days / r['days'] / peer_rate:,.0f}" if peer_rate else "-"
        table.add_row(
            name,
            scenario,
            f"{size:,}",
            str(days),
            f"{r['wall']:.2f}",
            f"{rate:.3g}",
            f"{r['events'] / r['wall']:.3g}",
            f"{r['peak'] / 2**30:.2f} GiB",
            f"{r['wall'] / days * 1e3:,.1f}",
            f"{r['peak'] / size:,.1f}",
            ratio,
            stepping,
        )
    console = Console(width=180)
    console.print(table)
    first = (f"scsim {args.backend[0]}", args.scenario[0])  # the day's split, of the first
    measured = {size: r for name, sc, size, _, r in rows if (name, sc) == first}
    if peer_rate and {SMALL_PEOPLE, PEER_PEOPLE} <= set(measured):
        console.print(day_split(measured[SMALL_PEOPLE], measured[PEER_PEOPLE], args.days, peer))


if __name__ == "__main__":
    main()
