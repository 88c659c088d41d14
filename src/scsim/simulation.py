"""One run from start to finish: check resources, build, step every day, write the directory.

The engine never opens files itself (STYLE.md): each day's ledger rows go to the run
directory, which writes them whole or not at all. A failure or Ctrl-C removes what was
written and re-raises.

    >>> summary = simulate(load_scenario("rongcheng"), Path("runs/rongcheng"))
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scsim import __version__, resources
from scsim.backend import load as load_backend
from scsim.errors import OutputExistsError
from scsim.model import Model
from scsim.output.arrow import ledger_schema, ledger_table, metrics_table, people_tables
from scsim.output.rundir import RunDirectory
from scsim.plan import compile_plan
from scsim.population import Population
from scsim.scenario.schema import Scenario
from scsim.summary import summarize

OnDay = Callable[[int, dict[str, Any]], None]


def simulate(
    scenario: Scenario,
    out: Path,
    *,
    force: bool = False,
    backend: str = "numpy",
    on_day: OnDay | None = None,
) -> dict[str, Any]:
    """Run a scenario into the directory `out`; return the run's summary."""
    started = time.perf_counter()
    preflight(scenario, Path(out), force=force, backend=backend)
    pop = Population.generate(scenario.population, seed=scenario.run.seed)
    plan = compile_plan(scenario, pop)
    resources.check(plan, pop, Path(out), scenario.run.people)  # before the per-person state is allocated
    model = Model(scenario, pop, plan, backend)
    built = time.perf_counter()
    names = model.codes.vocabulary.names
    directory = RunDirectory(Path(out), force=force, ledger_schema=ledger_schema(names))
    try:
        rows = []
        for day in range(model.plan.days):
            row = model.step(day)
            rows.append(row)
            directory.add_ledger(ledger_table(model.ledger.drain(), names))
            if on_day is not None:
                on_day(day, row)
        stepped = time.perf_counter()
        directory.write_table("metrics.parquet", metrics_table(rows))
        directory.write_chunks("people.parquet", people_tables(model))
        summary = summarize(rows, model, wall_seconds=time.perf_counter() - started)
        directory.finish(
            _manifest(
                scenario,
                backend,
                summary,
                directory.ledger_rows,
                {
                    "build": built - started,
                    "days": stepped - built,
                    "write": time.perf_counter() - stepped,
                },
            )
        )
    except BaseException:
        directory.abort()
        raise
    return summary


def preflight(scenario: Scenario, out: Path, *, force: bool, backend: str = "numpy") -> None:
    """The checks that need no population: run them before showing any progress."""
    if out.exists() and not force:
        raise OutputExistsError(f"{out} exists; choose another --out or pass --force")
    load_backend(backend)
    resources.check_population_size(scenario.population.size)


def _manifest(
    scenario: Scenario,
    backend: str,
    summary: dict[str, Any],
    ledger_rows: int,
    timings: dict[str, float],
) -> dict[str, Any]:
    return {
        "scsim_version": __version__,
        "scenario": scenario.model_dump(mode="json", exclude_none=True),
        "seed": scenario.run.seed,
        "backend": backend,
        "workers": 1,
        "python": platform.python_version(),
        "ledger_rows": ledger_rows,
        "summary": summary,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
