"""Throughput and peak memory of whole runs, each in a fresh process, printed as one table.

    python benchmarks/run.py                      # the default scenario and 10 M x 365
    python benchmarks/run.py --sizes 1e6 1e7 1e8  # any populations
    python benchmarks/run.py --days 30 --sizes 1e5

Each run writes its full run directory (ledger, metrics, people) into a temporary folder, so
the figures include output. Peak memory is the child's maximum resident set size. Figures
from one invocation are comparable with each other; across machines compare ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

from rich.console import Console
from rich.table import Table

CHILD = """
import json, resource, sys, time
import scsim
size, days, scenario, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = time.perf_counter()
result = scsim.run(scenario, out, population=size, days=days)
wall = time.perf_counter() - t
s = result.summary
print(json.dumps({"wall": wall, "events": s["true_events"], "records": s["records"],
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "timings": result.manifest["timings_seconds"]}))
"""


def measure(scenario: str, size: int, days: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(size), str(days), scenario, f"{tmp}/run"],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    table = Table(title=f"scsim benchmark: {args.scenario}, backend numpy")
    for column in (
        "people",
        "days",
        "wall s",
        "stepping s",
        "person-days/s",
        "events/s",
        "peak memory",
    ):
        table.add_column(column, justify="right")
    for size in (int(s) for s in args.sizes):
        r = measure(args.scenario, size, args.days)
        table.add_row(
            f"{size:,}",
            str(args.days),
            f"{r['wall']:.1f}",
            f"{r['timings']['days']:.1f}",
            f"{size * args.days / r['wall']:.3g}",
            f"{r['events'] / r['wall']:.3g}",
            f"{r['peak'] / 2**30:.2f} GiB",
        )
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
