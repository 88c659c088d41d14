"""Sweep throughput on a local Ray with 1 and 2 workers (or more), printed as one table.

    python benchmarks/sweep.py                          # 8 runs of 100,000 x 60 days, 1 and 2
    python benchmarks/sweep.py --runs 16 --population 1e6 --days 90 --workers 1 2 4

Every worker count gets a fresh local Ray with that many CPUs; its workers are started and have
imported scsim before the clock starts, so the figure is the sweep's own (runs, their files,
the table), not Ray's start-up. Each sweep writes into a new temporary folder (no run is
skipped as complete). The ratio is runs per second over those of the first worker count;
compare it, not runs per second, across machines. On a machine whose cores other work shares,
the ratio falls short of the worker count by that much: the caption gives the load average.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import ray
from rich.console import Console
from rich.table import Table

from scsim.experiments.sweep import run_sweep
from scsim.experiments.sweepfile import load_sweep

SWEEP = """\
scenario = "{scenario}"
seeds = {seeds}
[overrides]
"population.size" = {population}
"run.days" = {days}
[grid]
"surveillance.sensors.cameras.misattribution" = [0.01, 0.05]
"""


@ray.remote(num_cpus=1)
def _warm(folder: str) -> int:
    """A tiny run on a worker: every module a run imports, imported (report.html's too)."""
    import scsim

    started = time.perf_counter()
    scsim.run("rongcheng", Path(folder) / f"warm-{os.getpid()}", population=1000, days=2)
    time.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))  # one for every worker
    return os.getpid()


def measure(file: Path, workers: int, folder: Path) -> float:
    """Seconds for one sweep of `file` on a fresh local Ray with `workers` CPUs."""
    sweep = load_sweep(file)
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        ray.get([_warm.remote(str(folder)) for _ in range(workers)])
        started = time.perf_counter()
        run_sweep(sweep, folder / f"workers-{workers}")
        return time.perf_counter() - started
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--runs", type=int, default=8, help="runs per sweep (even)")
    parser.add_argument("--population", type=float, default=1e5)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    table = Table(
        title=f"sweep throughput: {args.runs} runs of {args.scenario}", title_justify="left"
    )
    for column in ("workers", "runs", "people x days", "wall s", "runs/s", "ratio"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory(prefix="scsim-sweep-bench-") as tmp:
        file = Path(tmp) / "sweep.toml"
        file.write_text(
            SWEEP.format(
                scenario=args.scenario,
                seeds=max(args.runs // 2, 1),
                population=int(args.population),
                days=args.days,
            )
        )
        runs, first = len(load_sweep(file).runs), None
        for workers in args.workers:
            wall = measure(file, workers, Path(tmp))
            rate = runs / wall
            first = first or rate
            table.add_row(
                str(workers),
                str(runs),
                f"{int(args.population):,} x {args.days}",
                f"{wall:.1f}",
                f"{rate:.2f}",
                f"{rate / first:.2f}",
            )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    table.caption = f"{os.cpu_count()} CPUs here; load average {load} (1, 5, 15 min) at the end"
    Console().print(table)


if __name__ == "__main__":
    main()
