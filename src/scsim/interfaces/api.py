"""The Python API for notebooks: run a scenario, read its files as DataFrames."""

from __future__ import annotations

import atexit
import contextlib
import html
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from scsim.interfaces.progress import days_bar
from scsim.report import ReportIfPossible
from scsim.scenario import Scenario, load_scenario
from scsim.simulation.lock import writing
from scsim.simulation.run import OnDay, recorded_scenario, simulate
from scsim.simulation.run import resume as resume_run
from scsim.simulation.summary import summary_rows

SHORTCUTS = {"population": "population.size", "days": "run.days", "seed": "run.seed"}


@dataclass(frozen=True)
class Result:
    """A finished run directory; its files load lazily as pandas DataFrames."""

    path: Path

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / "run.json").read_text())

    @property
    def summary(self) -> dict[str, Any]:
        return self.manifest["summary"]

    @cached_property
    def metrics(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "metrics.parquet")

    @cached_property
    def ledger(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "ledger.parquet")

    @cached_property
    def people(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "people.parquet")

    def __repr__(self) -> str:
        """How a REPL, or a notebook without HTML, shows a result: its summary, as the
        terminal's table (it showed `Result(path=PosixPath(...))`, nothing of the run)."""
        rows = summary_rows(self.summary)
        width = max(len(figure) for figure, _ in rows)
        lines = [f"scsim run: {self.manifest['scenario']['name']} ({self.path})"]
        lines += [f"  {figure:<{width}}  {value}" for figure, value in rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """How a notebook shows a result: the terminal's summary table, and where the run and
        its report are (plots inline: `scsim.plots`)."""
        name = html.escape(self.manifest["scenario"]["name"])
        cells = "".join(
            f"<tr><td style='text-align:left'>{html.escape(figure)}</td><td>{html.escape(value)}"
            "</td></tr>"
            for figure, value in summary_rows(self.summary)
        )
        report = self.path / "report.html"
        where = f"run directory <code>{html.escape(str(self.path))}</code>"
        if report.is_file():
            where += f"; report <a href='{html.escape(report.as_uri())}'>report.html</a>"
        return f"<b>scsim run: {name}</b><table>{cells}</table><p>{where}</p>"


def run(
    scenario: str | Path | Scenario,
    out: str | Path | None = None,
    *,
    force: bool = False,
    backend: str = "numpy",
    on_day: OnDay | None = None,
    overrides: dict[str, Any] | None = None,
    checkpoint_every: int | None = None,
    progress: bool = False,
    profile: bool = False,
    **shortcuts: int,
) -> Result:
    """Run a built-in name, a scenario file or a `Scenario`; `population=`, `days=` and
    `seed=` override those fields, `overrides` any dotted field path. With
    `checkpoint_every`, the state is saved every that many days, so that a run killed in a
    notebook (a kernel restart) can be finished by `resume(out)`, as `scsim run --resume`.
    `progress` shows a bar of the days (in a notebook, under the cell), as the CLI does;
    `profile` records each component's time per day in run.json (`profile`).
    Without `out`, the run is written to a temporary folder removed when Python exits (the
    kernel stops or restarts): pass `out` to keep it, or to resume it."""
    if checkpoint_every is not None and out is None:
        raise ValueError("checkpoint_every needs out: a run without out is gone when Python exits")
    changes = dict(overrides or {})
    for name, value in shortcuts.items():
        if name not in SHORTCUTS:
            raise TypeError(f"unknown override {name!r}; expected one of {sorted(SHORTCUTS)}")
        changes[SHORTCUTS[name]] = value
    named = {SHORTCUTS[name]: f"{name} =" for name in shortcuts}  # "population = 0: ..."
    resolved = load_scenario(scenario, overrides=changes, names=named)
    target = Path(out) if out is not None else _temporary_folder() / resolved.name
    report = ReportIfPossible()
    with writing(target), _days(resolved.name, resolved.run.days, on_day, progress) as each_day:
        simulate(
            resolved,
            target,
            force=force,
            backend=backend,
            on_day=each_day,
            checkpoint_every=checkpoint_every,
            finish=report,
            profile=profile,
        )
    _warn_without_report(report, target)
    return Result(target)


def _temporary_folder() -> Path:
    """A folder for a run given no `out`, removed when Python exits (a notebook's kernel
    stops or restarts): such runs filled /tmp, 5 MB each at 100,000 people, and more at
    larger sizes, and nothing ever removed them."""
    folder, owner = Path(tempfile.mkdtemp(prefix="scsim-")), os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not a forked child's exit: the folder is its parent's
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return folder


def resume(
    out: str | Path,
    *,
    force: bool = False,
    backend: str | None = None,
    on_day: OnDay | None = None,
    checkpoint_every: int | None = None,
    progress: bool = False,
) -> Result:
    """Finish the interrupted run that was writing `out` from its last checkpoint: the files
    are those of an uninterrupted run. `backend` defaults to the run's own; `progress` as for
    `run`."""
    recorded = recorded_scenario(Path(out)) if progress else None  # the bar's name and days
    name, days = (recorded.name, recorded.run.days) if recorded else (Path(out).name, None)
    report = ReportIfPossible()
    with writing(Path(out)), _days(name, days, on_day, progress) as each_day:
        resume_run(
            Path(out),
            backend=backend,
            force=force,
            on_day=each_day,
            checkpoint_every=checkpoint_every,
            finish=report,
        )
    _warn_without_report(report, Path(out))
    return Result(Path(out))


def _warn_without_report(report: ReportIfPossible, run: Path) -> None:
    """A run kept without its report (a full disk, too little audit memory): a warning that
    says how to write it, the run's files being whole."""
    note = report.note(run)
    if note is not None:
        warnings.warn(note.removeprefix("note: "), RuntimeWarning, stacklevel=3)


@contextlib.contextmanager
def _days(
    name: str, days: int | None, on_day: OnDay | None, progress: bool
) -> Iterator[OnDay | None]:
    """The `on_day` a run calls: the caller's, and a progress bar's where asked."""
    if not progress:
        yield on_day
        return
    with days_bar(name, days, Console(stderr=True), disable=False) as advance:

        def each_day(day: int, row: dict[str, Any]) -> None:
            advance(day, row)
            if on_day is not None:
                on_day(day, row)

        yield each_day
