"""One what-if, as a worker process runs it: the run directory, the comparison, the page's results.

A job's folder holds the scenario of the page's settings (`scenario.toml`, which the loader reads
back to the same scenario), the run (`run/`, an ordinary run directory that `scsim verify`
accepts), `progress.json` (polled by the page) and, when done, `results.json` (what the page
shows: the report's opening summary, its main plots, the audit's tables and the comparison).

    >>> run_job(Path("explorer/abc/run-1"), "rongcheng-what-if.toml", "none", 1)
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scsim.errors import UserError
from scsim.experiments.compare import compare
from scsim.interfaces.explore.results import comparison_result, run_results
from scsim.report import ReportIfPossible
from scsim.scenario import load_scenario
from scsim.simulation.run import simulate

SCENARIO, RUN, PROGRESS, RESULTS = "scenario.toml", "run", "progress.json", "results.json"
AGAINST = ("none", "unchanged", "no-system")  # what the run is compared with


def run_job(folder: Path, base: str, against: str, seeds: int) -> None:
    """Run the scenario in `folder/scenario.toml`, compare it as asked (with `base`, the scenario
    the page started from, unchanged, or with no system), and write the results. A failure is
    written as the job's state, never raised into the server: the page shows its one line."""
    try:
        scenario = load_scenario(folder / SCENARIO)
        runs = 1 + (2 * seeds if against != "none" else 0)
        write_progress(folder, "running", 0, runs, 0, scenario.run.days)
        simulate(
            scenario,
            folder / RUN,
            finish=ReportIfPossible(),
            on_day=progress_of_days(folder, runs, scenario.run.days),
        )
        results = run_results(folder / RUN)
        if against != "none":
            results["comparison"] = _compared(folder, scenario, base, against, seeds, runs)
        write_json(folder / RESULTS, results)
        write_progress(folder, "done", runs, runs, scenario.run.days, scenario.run.days)
    except UserError as exc:
        write_progress(folder, "failed", 0, 1, 0, 1, message=str(exc))
    except Exception as exc:  # a bug: the page says so in a line, the trace stays in the folder
        (folder / "error.txt").write_text(traceback.format_exc())
        write_progress(folder, "failed", 0, 1, 0, 1, message=f"internal error: {exc!r}")


def _compared(
    folder: Path, scenario: Any, base: str, against: str, seeds: int, runs: int
) -> dict[str, Any]:
    """The paired comparison over `seeds` seeds from the run's, with its intervals."""
    done = [1]

    def on_run(name: str, seed: int) -> None:
        write_progress(folder, "comparing", done[0], runs, 0, 1)
        done[0] += 1

    size, days = scenario.population.size, scenario.run.days
    unchanged = load_scenario(base) if against == "unchanged" else None
    table = compare(
        scenario,
        unchanged,
        seeds=seeds,
        seed=scenario.run.seed,
        population=size,
        days=days,
        against_none=against == "no-system",
        on_run=on_run,
    )
    return comparison_result(table)


def progress_of_days(folder: Path, runs: int, days: int) -> Callable[[int, dict[str, Any]], None]:
    """The run's `on_day`: the progress file, rewritten about 50 times a run, not every day."""
    every = max(1, days // 50)

    def on_day(day: int, row: dict[str, Any]) -> None:
        if day + 1 == days:  # the report and the audit's tables come next
            write_progress(folder, "auditing", 0, runs, days, days)
        elif (day + 1) % every == 0:
            write_progress(folder, "running", 0, runs, day + 1, days)

    return on_day


def write_progress(
    folder: Path, state: str, run: int, runs: int, day: int, days: int, message: str = ""
) -> None:
    """The job's state for the page: queued, running (day of days of the first run), auditing
    (its report and tables), comparing (run of runs), done or failed (with its one line)."""
    document = {"state": state, "run": run, "runs": runs, "day": day, "days": days}
    if message:
        document["message"] = message
    write_json(folder / PROGRESS, document)


def read_progress(folder: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((folder / PROGRESS).read_text()))
    except (OSError, ValueError):
        return {"state": "queued", "run": 0, "runs": 1, "day": 0, "days": 1}


def read_results(folder: Path) -> dict[str, Any]:
    """What a finished job shows (`run_results`, and the comparison where asked)."""
    return dict(json.loads((folder / RESULTS).read_text()))


def write_json(path: Path, document: Any) -> None:
    """Write whole or not at all: the page may read it at any moment."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(document))
    partial.replace(path)
