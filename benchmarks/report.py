"""Wall time and peak memory of a run's report, out of core, printed as one table.

    python benchmarks/report.py --population 20000000 --days 365     # national-score, 20 M x 365
    python benchmarks/report.py --run runs/nation --memory 2GB        # an existing run directory

The run is made first in a child process with its report off (or `--run` names one), then
the report is written in a fresh child process, so that its peak memory (maximum resident
set size) is the report's alone: DuckDB under its memory limit (`--memory`, else
SCSIM_AUDIT_MEMORY, else half the memory available) plus the Python around it. Temporary
files DuckDB spills go to SCSIM_AUDIT_TEMP (default: the system's temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

RUN_CHILD = """
import sys, scsim
scenario, out, size, days = sys.argv[1:5]
scsim.run(scenario, out, population=int(size), days=int(days), overrides={"run.report": False})
"""
REPORT_CHILD = """
import sys
from scsim.report import write_report
write_report(sys.argv[1], sys.argv[2], memory=sys.argv[3] or None)
"""


def child(code: str, *args: str) -> tuple[float, int]:
    """Run `code` in a fresh Python; its wall seconds and peak resident set size in bytes."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code, *args])
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed with {os.waitstatus_to_exitcode(status)}: {args}")
    return wall, usage.ru_maxrss * 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="national-score")
    parser.add_argument("--population", type=float, default=20_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--run", type=Path, help="report this run directory instead of a new run")
    parser.add_argument("--memory", default="", help='DuckDB memory limit, e.g. "2GB"')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scsim-bench-report-") as folder:
        run_dir = args.run
        run_wall = None
        if run_dir is None:
            run_dir = Path(folder) / "run"
            size = str(int(args.population))
            run_wall, _ = child(RUN_CHILD, args.scenario, str(run_dir), size, str(args.days))
        manifest = json.loads((run_dir / "run.json").read_text())
        page = str(Path(folder) / "report.html")
        wall, peak = child(REPORT_CHILD, str(run_dir), page, args.memory)
        ledger = (run_dir / "ledger.parquet").stat().st_size
    scenario = manifest["scenario"]
    table = Table(title=f"scsim report, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for column in ("scenario", "people", "days", "ledger rows", "ledger.parquet", "run"):
        table.add_column(column, justify="right")
    for column in ("report wall", "report peak RSS", "DuckDB limit"):
        table.add_column(column, justify="right")
    table.add_row(
        scenario["name"],
        f"{scenario['population']['size']:,}",
        f"{scenario['run']['days']:,}",
        f"{manifest['ledger_rows']:,}",
        f"{ledger / 2**20:,.0f} MiB",
        "given" if run_wall is None else f"{run_wall:,.1f} s",
        f"{wall:,.1f} s",
        f"{peak / 2**20:,.0f} MiB",
        args.memory or os.environ.get("SCSIM_AUDIT_MEMORY", "half available"),
    )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
