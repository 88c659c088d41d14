"""Wall time and peak memory of a run's report, out of core, printed as one table, with the
passes its queries make over the ledger and the statements that took longest.

    python benchmarks/report.py --population 20000000 --days 365     # national-score, 20 M x 365
    python benchmarks/report.py --run runs/nation --memory 2GB        # an existing run directory
    python benchmarks/report.py --run runs/nation --statements 12     # and its 12 slowest queries

The run is made first in a child process with its report off (or `--run` names one), then
the report is written in a fresh child process, so that its peak memory (maximum resident
set size) is the report's alone: DuckDB under its memory limit (`--memory`, else
SCSIM_AUDIT_MEMORY, else half the memory available) plus the Python around it. Temporary
files DuckDB spills go to SCSIM_AUDIT_TEMP (default: the system's temporary folder).

The child hands the audit a connection that times each statement it runs (a kept table when
it is made, a query when its rows are fetched) and counts the ledger's reads in its text
(`from ledger`, `join ledger`): each is a pass over the ledger file, which is what a report
of a nation's run pays for.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RUN_CHILD = """
import sys, scsim
scenario, out, size, days = sys.argv[1:5]
scsim.run(scenario, out, population=int(size), days=int(days), overrides={"run.report": False})
"""
REPORT_CHILD = """
import sys
sys.path.insert(0, sys.argv[4])
from report import timed_report
timed_report(*sys.argv[1:4], sys.argv[5])
"""
LEDGER_READ = re.compile(r"\b(?:from|join)\s+ledger\b", re.IGNORECASE)


class TimedConnection:
    """An audit's DuckDB connection that times every statement it is given: at once for
    `execute` (a kept table is made there), when the rows are fetched for `sql` (a relation
    runs only then)."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.statements: list[dict[str, Any]] = []

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        done = self.con.execute(query, *args, **kwargs)
        self._note(query, time.perf_counter() - started)
        return done

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return TimedRelation(self.con.sql(query, *args, **kwargs), query, self)

    def _note(self, query: str, seconds: float) -> None:
        text = " ".join(query.split())
        reads = len(LEDGER_READ.findall(text))
        self.statements.append({"seconds": seconds, "ledger_reads": reads, "query": text})

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


class TimedRelation:
    """A relation whose rows, when fetched, are timed on its connection."""

    def __init__(self, relation: Any, query: str, con: TimedConnection) -> None:
        self.relation, self.query, self.timed = relation, query, con

    def _fetch(self, how: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        rows = getattr(self.relation, how)(*args, **kwargs)
        self.timed._note(self.query, time.perf_counter() - started)
        return rows

    def df(self, *args: Any, **kwargs: Any) -> Any:
        return self._fetch("df", *args, **kwargs)

    def fetchall(self) -> Any:
        return self._fetch("fetchall")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.relation, name)


def timed_report(run: str, page: str, memory: str, statements: str) -> None:
    """Write `run`'s report to `page` with every audit statement timed, the times to
    `statements` (JSON)."""
    from scsim.audit.run import open_run
    from scsim.report import write_report

    audit = open_run(run)
    con = TimedConnection(audit.con)
    audit.__dict__["con"] = con  # the cached connection every audit query reads
    write_report(run, page, memory=memory or None)
    Path(statements).write_text(json.dumps(con.statements))


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
    parser.add_argument("--statements", type=int, default=8, help="slowest statements shown")
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
        timings = Path(folder) / "statements.json"
        here = str(Path(__file__).parent)
        wall, peak = child(REPORT_CHILD, str(run_dir), page, args.memory, here, str(timings))
        statements = json.loads(timings.read_text())
        ledger = (run_dir / "ledger.parquet").stat().st_size
    scenario = manifest["scenario"]
    table = Table(title=f"scsim report, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for column in ("scenario", "people", "days", "ledger rows", "ledger.parquet", "run"):
        table.add_column(column, justify="right")
    for column in ("report wall", "in queries", "ledger passes", "report peak RSS", "DuckDB limit"):
        table.add_column(column, justify="right")
    table.add_row(
        scenario["name"],
        f"{scenario['population']['size']:,}",
        f"{scenario['run']['days']:,}",
        f"{manifest['ledger_rows']:,}",
        f"{ledger / 2**20:,.0f} MiB",
        "given" if run_wall is None else f"{run_wall:,.1f} s",
        f"{wall:,.1f} s",
        f"{sum(s['seconds'] for s in statements):,.1f} s",
        f"{sum(s['ledger_reads'] for s in statements)}",
        f"{peak / 2**20:,.0f} MiB",
        args.memory or os.environ.get("SCSIM_AUDIT_MEMORY", "half available"),
    )
    console = Console(width=160)
    console.print(table)
    console.print(slowest(statements, args.statements))


def slowest(statements: list[dict[str, Any]], count: int) -> Table:
    """The `count` statements that took longest, with their passes over the ledger."""
    table = Table(title=f"the {count} slowest of {len(statements)} statements")
    table.add_column("seconds", justify="right")
    table.add_column("ledger passes", justify="right")
    table.add_column("statement")
    for s in sorted(statements, key=lambda s: -s["seconds"])[:count]:
        table.add_row(f"{s['seconds']:.2f}", str(s["ledger_reads"] or ""), s["query"][:110])
    return table


if __name__ == "__main__":
    main()
