"""Fitting a scenario's free rates to its published figures, with Optuna.

Each trial sets the free parameters (`calibration.free`: dotted paths, ranges, log scale),
runs the scenario over the same seeds, and scores the calibration table's loss. The first
trial is the scenario as given, so a fit never ends worse than its start. The sampler is
Optuna's multivariate TPE (the rates interact: detection and adoption share one series) with a
fixed seed: the same call gives the same fit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import tempfile
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from scsim.audit.published import calibration_table, loss
from scsim.audit.series import days_read, reached, target_days
from scsim.errors import UserError, at_least
from scsim.experiments.calibration.runs import seeded
from scsim.experiments.calibration.workers import Pending, Runs
from scsim.scenario import load_scenario
from scsim.scenario.schema import FreeParameter, Scenario

OnTrial = Callable[[int, float, float], None]  # trial number, its loss, the best so far


@dataclass(frozen=True)
class Fit:
    scenario: Scenario  # the fitted scenario
    values: dict[str, float]  # free parameter label -> fitted value
    start_loss: float
    best_loss: float
    trials: int
    history: pd.DataFrame  # one row per trial: number, loss, the parameters
    table: pd.DataFrame  # the fitted scenario's calibration table (its loss: best_loss)


def held_out(s: Scenario, until: dt.date) -> Scenario:
    """`s` with every target dated after `until` weighted 0: a fit made with it ignores the later
    record, which the table still shows, so that record tests a fit that never saw it."""
    if s.calibration is None:
        return s
    if s.run.start is None:
        raise UserError(f"--until {until}: {s.name} has no run.start to date its targets from")
    last = s.day_of(until)
    targets = [
        t if target_days(s, t)[0] <= last else t.model_copy(update={"weight": 0.0})
        for t in s.calibration.targets
    ]
    if all(t.weight == 0.0 for t in targets):
        raise UserError(f"--until {until}: no target of {s.name} is dated on or before it")
    calibration = s.calibration.model_copy(update={"targets": targets})
    return s.model_copy(update={"calibration": calibration})


def evaluate(
    s: Scenario, seeds: int, runs: Runs | None = None, base: Scenario | None = None
) -> tuple[pd.DataFrame, float]:
    """The calibration table of `s` over `seeds` seeds, and its loss (the seeds' runs by `runs`'
    workers, else here). A run that ends before every target is refused before it starts: its
    loss would be infinite, whatever the rates. `base`: the scenario `s` moves from, whose
    first days it shares (`prefixes`)."""
    return _answer(s, _ask(s, seeds, runs if runs is not None else Runs(), base))


def _ask(s: Scenario, seeds: int, runs: Runs, base: Scenario | None = None) -> list[Pending]:
    """The runs of `s` over `seeds` seeds, asked for (see `evaluate`), each to the last day a
    target reads (`days_read`): a run to 2025 fitted to the record to 2019 stops in 2019;
    each seed's run shares its first days with `base`'s run of that seed."""
    targets = s.calibration.targets if s.calibration is not None else []
    if targets and not any(reached(s, t) for t in targets):
        first = min(targets, key=lambda t: target_days(s, t)[0])
        raise UserError(
            f"{s.name}: the run's {s.run.days} days end before its first target "
            f"({first.date or f'day {first.day}'}); run it longer (--days)"
        )
    bases = seeded(base, seeds) if base is not None else [None] * seeds
    return [
        runs.submit(x, days=days_read(s), base=b)
        for x, b in zip(seeded(s, seeds), bases, strict=True)
    ]


def _answer(s: Scenario, pending: list[Pending]) -> tuple[pd.DataFrame, float]:
    table = calibration_table(s, [p.result() for p in pending])
    return table, loss(table)


def fit(
    s: Scenario,
    *,
    trials: int,
    seeds: int = 1,
    sampler_seed: int = 0,
    on_trial: OnTrial | None = None,
    runs: Runs | None = None,
) -> Fit:
    """Search the free parameters of `s` for the lowest loss over `trials` trials (one trial at
    a time, as TPE asks; `runs`' workers run its seeds at once)."""
    import optuna  # imported here: only a fit needs it

    at_least("--trials", trials)

    if s.calibration is None or not s.calibration.targets:
        raise UserError(f"{s.name}: the scenario has no calibration targets to fit")
    free = s.calibration.free
    if not free:
        raise UserError(f"{s.name}: calibration.free names no parameter to fit")
    start = {p.label: current_value(s, p) for p in free}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():  # multivariate TPE is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=sampler_seed, multivariate=True)
    study = optuna.create_study(sampler=sampler)
    study.enqueue_trial(_clipped(start, free))

    tables: dict[int, pd.DataFrame] = {}  # each trial's: the best one's is the fit's own

    def objective(trial: optuna.Trial) -> float:
        values = {p.label: _suggest(trial, p) for p in free}
        tables[trial.number], value = evaluate(with_values(s, free, values), seeds, runs)
        if on_trial is not None:
            best = min(value, study.best_value) if trial.number else value
            on_trial(trial.number, value, best)
        return value if math.isfinite(value) else 1e9

    study.optimize(objective, n_trials=trials)
    best = study.best_params
    start_loss = study.trials[0].value
    assert start_loss is not None  # optimize raises where a trial fails: every one has a value
    history = study.trials_dataframe(attrs=("number", "value", "params"))
    return Fit(
        scenario=with_values(s, free, best),
        values=best,
        start_loss=start_loss,
        best_loss=study.best_value,
        trials=len(study.trials),
        history=history,
        table=tables[study.best_trial.number],
    )


def refine(
    s: Scenario,
    *,
    rounds: int,
    seeds: int = 1,
    step: float = 0.15,
    on_trial: OnTrial | None = None,
    after: Fit | None = None,
    runs: Runs | None = None,
) -> Fit:
    """A coordinate search from the scenario's own values: TPE finds the basin, not its floor.

    Each round moves each free parameter one step up, else one step down (a factor 1 + `step`
    on a positive value; a `step` / 3 share of its range from 0), keeping a move that lowers
    the loss; the steps halve after each round. Deterministic: the same seeds every evaluation
    (common random numbers), so a move is kept for what it does, not for its noise. `after`, a
    fit of `s`: search from its best, and report the two searches as one (its start loss, the
    trials of both).

    With `runs`' workers, the candidates that follow are run ahead while one is scored, as if
    none were kept; a kept move drops those after it and the search goes on from the move. Each
    loss is read in the order of the search alone, so the fit, its history and its calls to
    `on_trial` are the same with any number of workers."""
    runs = runs if runs is not None else Runs()
    if after is not None:
        refined = refine(
            after.scenario, rounds=rounds, seeds=seeds, step=step, on_trial=on_trial, runs=runs
        )
        return dataclasses.replace(
            refined, start_loss=after.start_loss, trials=after.trials + refined.trials
        )
    at_least("--refine", rounds)
    if s.calibration is None or not s.calibration.free:
        raise UserError(f"{s.name}: calibration.free names no parameter to refine")
    free = s.calibration.free
    values = _clipped({p.label: current_value(s, p) for p in free}, free)
    base = with_values(s, free, values)
    # the start's runs are read once the first candidates are asked for, which run beside them
    begun: list[Pending] | None = _ask(base, seeds, runs, base)
    start = best = math.inf
    table, rows, steps = pd.DataFrame(), [{"number": 0, "value": start, **values}], 0

    def read_start() -> None:
        nonlocal begun, start, best, table
        if begun is not None:
            table, start = _answer(base, begun)
            best, begun, rows[0]["value"] = start, None, start

    ahead = max(1, -(-runs.workers // seeds))  # candidates in flight: the workers kept busy
    position: tuple[int, int] | None = (0, 0)  # the round and parameter the search goes on from
    while position is not None:
        path = _path(free, values, position, rounds, step)
        asked = _asked_ahead(s, free, path, seeds, runs, ahead, base)
        position = None
        for (r, i), candidate, scenario, pending in asked:
            read_start()
            candidate_table, value = _answer(scenario, pending)
            steps += 1
            rows.append({"number": steps, "value": value, **candidate})
            if on_trial is not None:
                on_trial(steps, value, min(value, best))
            if value < best:  # kept: the rest of the path assumed otherwise
                best, values, position = value, candidate, (r, i + 1)
                base, table = scenario, candidate_table
                asked.close()
                break
    read_start()  # where no move was left to try
    return Fit(
        scenario=with_values(s, free, values),
        values=values,
        start_loss=start,
        best_loss=best,
        trials=steps + 1,
        history=pd.DataFrame(rows),
        table=table,
    )


Candidate = tuple[tuple[int, int], dict[str, float]]  # (round, parameter index), the values


def _path(
    free: list[FreeParameter],
    values: dict[str, float],
    start: tuple[int, int],
    rounds: int,
    step: float,
) -> Iterator[Candidate]:
    """The moves `refine` tries from `start` (round, parameter) on while it keeps none: each
    parameter one step up, then down, the steps halved each round."""
    first_round, first = start
    for r in range(first_round, rounds):
        for i in range(first if r == first_round else 0, len(free)):
            p = free[i]
            for moved in _moves(p, values[p.label], step / 2**r):
                yield (r, i), {**values, p.label: moved}


def _asked_ahead(
    s: Scenario,
    free: list[FreeParameter],
    path: Iterator[Candidate],
    seeds: int,
    runs: Runs,
    ahead: int,
    base: Scenario,
) -> Generator[tuple[tuple[int, int], dict[str, float], Scenario, list[Pending]], None, None]:
    """The path's candidates with their runs, each asked for `ahead` candidates before it is
    given; those asked and never given (the search kept a move) are cancelled. Each moves from
    `base`, and shares its first days with it."""
    window: deque[tuple[tuple[int, int], dict[str, float], Scenario, list[Pending]]] = deque()
    try:
        for where, candidate in path:
            scenario = with_values(s, free, candidate)
            window.append((where, candidate, scenario, _ask(scenario, seeds, runs, base)))
            if len(window) >= ahead:
                yield window.popleft()
        while window:
            yield window.popleft()
    finally:
        for *_, pending in window:
            for run in pending:
                run.cancel()


def _moves(p: FreeParameter, value: float, step: float) -> list[float]:
    """One step up and one down, inside the range, rounded for integers; none that stay put."""
    if value > 0:
        up, down = value * (1 + step), value / (1 + step)
    else:
        up, down = value + step / 3 * (p.high - p.low), value - step / 3 * (p.high - p.low)
    out = []
    for x in (up, down):
        x = min(max(x, p.low), p.high)
        x = round(x) if p.integer else x
        if x != value:
            out.append(x)
    return out


def current_value(s: Scenario, p: FreeParameter) -> float:
    """The value the scenario gives the parameter's first path (a date counts as its day)."""
    node: Any = s
    for part in p.targets[0].split("."):
        if isinstance(node, list):  # an array's entry, by its index (a dated change)
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            raise UserError(f"calibration.free: {p.targets[0]!r} names no field of {s.name}")
    if isinstance(node, dt.date):
        return float(s.day_of(node))
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise UserError(f"calibration.free: {p.targets[0]!r} is not a number in {s.name}")
    return float(node)


def with_values(s: Scenario, free: list[FreeParameter], values: dict[str, float]) -> Scenario:
    """`s` with each free parameter set (to every one of its paths), validated again."""
    overrides = {
        path: _typed(p, values[p.label]) for p in free for path in p.targets if p.label in values
    }
    return load_scenario(s, overrides=overrides)


def fitted_overrides(s: Scenario, fitted: Fit) -> dict[str, Any]:
    assert s.calibration is not None
    return {
        path: _typed(p, fitted.values[p.label]) for p in s.calibration.free for path in p.targets
    }


def write_fitted(source: str, s: Scenario, fitted: Fit, out: Path) -> Path:
    """Write the fitted scenario as a file that extends `source` and sets the fitted values;
    written whole under a temporary name, then renamed, and loaded again to prove it valid."""
    tree: dict[str, Any] = {"extends": source}
    whole = fitted.scenario.model_dump(mode="json", exclude_none=True)
    for path, value in fitted_overrides(s, fitted).items():
        node, full = tree, whole
        *parents, leaf = path.split(".")
        for part, after in zip(parents, [*parents[1:], leaf], strict=True):
            full = full[part]
            if after.isdigit():  # `extends` replaces an array whole: write all of it, fitted
                node[part] = full
                break
            node = node.setdefault(part, {})
        else:
            node[leaf] = value
    header = (
        f"# {s.name} fitted by `scsim calibrate` on {dt.date.today()}: {fitted.trials} trials, "
        f"loss {fitted.start_loss:.4g} -> {fitted.best_loss:.4g}\n"
        "# (weighted mean squared log ratio of model to published figures; see calibration)\n"
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(header + tomli_w.dumps(tree))
        load_scenario(tmp)  # a written fit must load
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def _suggest(trial: Any, p: FreeParameter) -> float:
    if p.integer:
        return trial.suggest_int(p.label, math.ceil(p.low), math.floor(p.high), log=p.log)
    return trial.suggest_float(p.label, p.low, p.high, log=p.log)


def _typed(p: FreeParameter, value: float) -> int | float:
    return round(value) if p.integer else float(f"{value:.6g}")


def _clipped(values: dict[str, float], free: list[FreeParameter]) -> dict[str, float]:
    """The scenario's own values as the first trial, inside each parameter's range."""
    out: dict[str, float] = {}
    for p in free:
        value = min(max(values[p.label], p.low), p.high)
        out[p.label] = round(value) if p.integer else value
    return out
