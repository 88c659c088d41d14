"""One run from start to finish: check resources, build, step every day, write the directory.

The engine never opens files itself (docs/architecture.md): each day's ledger rows go to the run
directory, which writes them whole or not at all. A failure or Ctrl-C removes what was
written and re-raises. A run with checkpoints (`checkpoint_every`) saves its whole state every
so many days instead (see `scsim.simulation.checkpoint`); after a failure, Ctrl-C or a kill,
`resume` finishes it, and its files are byte for byte those of a run that was never interrupted.

    >>> summary = simulate(load_scenario("rongcheng"), Path("runs/rongcheng"))
    >>> simulate(scenario, Path("runs/long"), checkpoint_every=30)   # killed on day 200 ...
    >>> summary = resume(Path("runs/long"))                          # ... and finished
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from scsim.engine.backend import load as load_backend
from scsim.engine.ledger import KINDS
from scsim.engine.model import Model
from scsim.engine.plan import compile_plan
from scsim.engine.population import Population
from scsim.errors import Interrupted, UserError
from scsim.scenario.schema import Scenario
from scsim.simulation import checkpoint, resources
from scsim.simulation.allocator import keep_freed_memory
from scsim.simulation.arrow import LedgerDays, ledger_schema, metrics_table, people_tables
from scsim.simulation.checkpoint import Checkpoints
from scsim.simulation.provenance import engine_sha256
from scsim.simulation.rundir import MANIFEST, Finish, RunDirectory, check_output_dir
from scsim.simulation.summary import summarize
from scsim.version import __version__

OnDay = Callable[[int, dict[str, Any]], None]
COMPANY_KIND_CODES = [code for code, kind in enumerate(KINDS) if kind.startswith("company")]


def simulate(
    scenario: Scenario,
    out: Path,
    *,
    force: bool = False,
    backend: str = "numpy",
    on_day: OnDay | None = None,
    checkpoint_every: int | None = None,
    finish: Finish | None = None,
    profile: bool = False,
) -> dict[str, Any]:
    """Run a scenario into the directory `out`; return the run's summary. With
    `checkpoint_every`, save the state every that many days, so that `resume` can finish it;
    with `profile`, record each component's seconds in run.json (`profile`)."""
    started, out = time.perf_counter(), Path(out)
    preflight(scenario, out, force=force, backend=backend)
    if checkpoint_every is not None and checkpoint_every < 1:
        raise UserError(
            f"--checkpoint-every must be a number of days, 1 or more, not {checkpoint_every}"
        )
    model = _build(
        scenario, out, backend, checkpointed=checkpoint_every is not None, profile=profile
    )
    if checkpoint_every is None:
        if force:
            checkpoint.discard_interrupted(out)
        return _run_whole(model, out, force=force, on_day=on_day, finish=finish, started=started)
    checkpoints = Checkpoints.begin(
        out, scenario, every=checkpoint_every, force=force, backend=backend
    )
    return _run_resumable(model, checkpoints, 0, [], on_day=on_day, finish=finish, started=started)


def resume(
    out: Path,
    *,
    scenario: Scenario | None = None,
    backend: str | None = None,
    force: bool = False,
    on_day: OnDay | None = None,
    checkpoint_every: int | None = None,
    finish: Finish | None = None,
) -> dict[str, Any]:
    """Finish the interrupted run that was writing `out`, from its last checkpoint. A
    `scenario`, if given, must be the one the run started with; `backend` defaults to its."""
    started, out = time.perf_counter(), Path(out)
    if checkpoint.publish_sealed(out, force=force, finish=finish):
        return json.loads((out / MANIFEST).read_text())["summary"]
    checkpoints = Checkpoints.reopen(out)
    try:
        if scenario is not None:
            checkpoints.check_same(scenario)
        if checkpoint_every is not None:
            checkpoints.every = checkpoint_every
        checkpoints.force = checkpoints.force or force
        backend = backend or checkpoints.backend
        preflight(
            checkpoints.scenario, out, force=checkpoints.force, backend=backend, resuming=True
        )
        model = _build(checkpoints.scenario, out, backend, checkpointed=True)
        day, rows = checkpoints.restore(model)
    except KeyboardInterrupt:
        checkpoints.release()
        raise Interrupted(f"interrupted: nothing changed; scsim run --resume {out}") from None
    except BaseException:
        checkpoints.release()
        raise
    return _run_resumable(
        model, checkpoints, day, rows, on_day=on_day, finish=finish, started=started
    )


def preflight(
    scenario: Scenario,
    out: Path,
    *,
    force: bool,
    backend: str = "numpy",
    resuming: bool = False,
) -> None:
    """The checks that need no population: run them before showing any progress."""
    check_output_dir(out, force=force)
    if not resuming:
        checkpoint.refuse_interrupted(out, force=force)
    load_backend(backend)
    resources.check_population_size(scenario.population.size)


def simulate_model(
    model: Model,
    out: Path,
    *,
    force: bool = False,
    on_day: OnDay | None = None,
    finish: Finish | None = None,
) -> dict[str, Any]:
    """Run a model built elsewhere into `out`, as `simulate` runs its own (the sharded model of
    `scsim.simulation.shards`, whose shards step the days); no checkpoints."""
    started, out = time.perf_counter(), Path(out)
    preflight(model.params.scenario, out, force=force, backend=model.params.backend)
    return _run_whole(model, out, force=force, on_day=on_day, finish=finish, started=started)


def in_region_order(columns: dict[str, np.ndarray], pop: Population) -> dict[str, np.ndarray]:
    """A day's ledger rows sorted by the region of their entity, stable: the order in which a
    sharded run can write them too (shards own whole regions), at the cost of a radix sort of
    the day's rows. A company's region is that of its id range."""
    if len(pop.region_start) <= 2:  # one region: every row's, companies' too, is region 0
        return columns
    entity, kind = columns["entity"], columns["kind"]
    region = pop.region_of(entity)
    company = np.isin(kind, COMPANY_KIND_CODES)
    if company.any():
        region[company] = np.searchsorted(pop.company_offset, entity[company], side="right") - 1
    if region.size < 2 or (region[1:] >= region[:-1]).all():
        return columns
    order = np.argsort(region.astype(np.int16), kind="stable")  # radix sort: O(rows)
    return {name: column[order] for name, column in columns.items()}


def recorded_scenario(out: Path) -> Scenario | None:
    """The scenario of the interrupted run that was writing `out`, if it can be read (for a
    progress bar before `resume`; `resume` itself checks everything)."""
    try:
        checkpoints = Checkpoints.reopen(Path(out))
    except UserError:
        return None
    checkpoints.release()
    return checkpoints.scenario


# ---------------------------------------------------------------- the two ways to run


def _build(
    scenario: Scenario, out: Path, backend: str, *, checkpointed: bool, profile: bool = False
) -> Model:
    keep_freed_memory()  # the days reuse the same large arrays: see scsim.simulation.allocator
    pop = Population.generate(scenario.population, seed=scenario.run.seed)
    plan = compile_plan(scenario, pop)
    # before the per-person state is allocated
    companies = pop.n_companies if scenario.companies is not None else 0
    resources.check(plan, pop, out, scenario.run.people, companies)
    if checkpointed:
        resources.check_checkpoints(plan, pop, out, scenario.run.people, companies)
    return Model(scenario, pop, plan, backend, profile=profile)


def _run_whole(
    model: Model,
    out: Path,
    *,
    force: bool,
    on_day: OnDay | None,
    finish: Finish | None,
    started: float,
) -> dict[str, Any]:
    """A run without checkpoints: the ledger goes straight to ledger.parquet."""
    built = time.perf_counter()
    names = model.params.codes.vocabulary.names
    directory = RunDirectory(out, force=force, ledger_schema=ledger_schema(names))
    try:
        rows, ledger = [], LedgerDays(names, directory.add_ledger)
        for day, row in model.run(0, model.params.scenario.run.days):
            rows.append(row)
            ledger.append(_day_ledger(model))
            if on_day is not None:
                on_day(day, row)
        ledger.flush()
        summary = _write(directory, model, rows, finish=finish, started=started, built=built)
        directory.publish()
    except BaseException:
        directory.abort()
        raise
    return summary


def _run_resumable(
    model: Model,
    checkpoints: Checkpoints,
    first_day: int,
    rows: list[dict[str, Any]],
    *,
    on_day: OnDay | None,
    finish: Finish | None,
    started: float,
) -> dict[str, Any]:
    """A run with checkpoints, from `first_day` on: the ledger waits in the checkpoints and is
    replayed into ledger.parquet at the end, day by day, as `_run_whole` would have written it."""
    built = time.perf_counter()
    names = model.params.codes.vocabulary.names
    directory = None
    try:
        for day, row in model.run(first_day, model.params.scenario.run.days):
            rows.append(row)
            checkpoints.record_ledger(day, _day_ledger(model))
            if on_day is not None:
                on_day(day, row)
            if checkpoints.due(day + 1, model.params.scenario.run.days):
                checkpoints.save(model, rows, day + 1)
        directory = RunDirectory(
            checkpoints.out,
            force=checkpoints.force,
            ledger_schema=ledger_schema(names),
            partial=checkpoints.partial,
        )
        ledger = LedgerDays(names, directory.add_ledger)
        for columns in checkpoints.ledger_days():
            ledger.append(columns)
        ledger.flush()
        summary = _write(directory, model, rows, finish=finish, started=started, built=built)
        checkpoints.retire()
        directory.publish()
    except BaseException as exc:
        if directory is not None:
            directory.abort()
        kept = checkpoints.abandon()
        if kept is not None:
            note = f"the checkpoint of day {kept} is kept: scsim run --resume {checkpoints.out}"
            if isinstance(exc, KeyboardInterrupt):
                raise Interrupted(f"interrupted: {note}") from None
            exc.add_note(note)
        raise
    finally:
        checkpoints.release()
    return summary


def _day_ledger(model: Model) -> dict[str, np.ndarray]:
    """The day's ledger rows as the writer takes them: in region order (see `in_region_order`)."""
    return in_region_order(model.ledger.drain(), model.params.host_pop)


def _write(
    directory: RunDirectory,
    model: Model,
    rows: list[dict[str, Any]],
    *,
    finish: Finish | None,
    started: float,
    built: float,
) -> dict[str, Any]:
    """Write metrics and people, and seal the directory with run.json; return the summary."""
    stepped = time.perf_counter()
    directory.write_table("metrics.parquet", metrics_table(rows, model.params.scenario.run.start))
    directory.write_chunks("people.parquet", people_tables(model))
    summary = summarize(rows, model, wall_seconds=time.perf_counter() - started)
    timings = {
        "build": built - started,
        "days": stepped - built,
        "write": time.perf_counter() - stepped,
    }
    directory.seal(_manifest(model, summary, directory.ledger_rows, timings))
    if finish is not None:
        finish(directory.partial)  # from the sealed files; it adds its own checksum
    return summary


def _manifest(
    model: Model,
    summary: dict[str, Any],
    ledger_rows: int,
    timings: dict[str, float],
) -> dict[str, Any]:
    scenario = model.params.scenario
    manifest = {
        "scsim_version": __version__,
        "engine_sha256": engine_sha256(),
        "scenario": scenario.model_dump(mode="json", exclude_none=True),
        "seed": scenario.run.seed,
        "backend": model.params.backend,
        "workers": 1,
        "python": platform.python_version(),
        "ledger_rows": ledger_rows,
        "summary": summary,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    seconds = model.day.seconds
    if seconds is not None:  # --profile: each component's time, over the days of this process
        days = model.day.stepped  # a resumed run's: the days since it resumed
        manifest["profile"] = {
            "days": days,
            "seconds": {name: round(s, 6) for name, s in seconds.items()},
            "ms_per_day": {name: round(1000 * s / max(days, 1), 4) for name, s in seconds.items()},
        }
    return manifest
