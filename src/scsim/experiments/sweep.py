"""Sweeps on Ray: every run of a sweep file as a Ray task, and one results table.

    runs/<sweep>/
      results.parquet     one row per run: run_id, seed, the parameters that vary, headline
                          metrics (the run's summary in run.json, less its wall time)
      sweep.json          results.parquet's sha256 and the runs, sealed (`scsim verify`)
      runs/<run_id>/      each run's directory, exactly as `scsim run` writes it

A sweep started again skips every run whose directory `scsim verify` accepts and whose
run.json holds the same scenario; the rest run again. A task whose worker dies is retried
(Ray's `max_retries`); a run directory appears whole or not at all (scsim.simulation.rundir), and
the table is built from the run directories in the sweep's order, so no run is lost or
counted twice, whatever the order in which tasks finish or fail.

    >>> outcome = run_sweep(load_sweep(Path("examples/sweep.toml")), Path("runs/sweep"))
    >>> outcome.table[["run_id", "seed", "wrongful_sanctions"]]
"""

from __future__ import annotations

import glob
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scsim.errors import Interrupted, RunDirectoryError
from scsim.experiments.sweepfile import RunSpec, Sweep
from scsim.report import ReportIfPossible
from scsim.scenario import Scenario
from scsim.simulation.cluster import ClusterError, check_address, connect, unwrap
from scsim.simulation.lock import writing
from scsim.simulation.provenance import other_code
from scsim.simulation.run import simulate
from scsim.simulation.rundir import (
    MANIFEST,
    check_parent,
    sha256,
    write_atomically,
    write_manifest,
)
from scsim.simulation.verify import verify
from scsim.version import __version__

RESULTS = "results.parquet"
SWEEP_MANIFEST = "sweep.json"
MAX_RETRIES = 3  # a run whose worker dies is started again, up to this many times
UNMEASURED = ("wall_seconds",)  # a timing, not a result: the table stays the same run to run

OnRun = Callable[[RunSpec, bool], None]  # (the run, whether it was skipped as complete)


@dataclass(frozen=True)
class SweepOutcome:
    path: Path
    table: pd.DataFrame
    ran: int
    skipped: int


def run_sweep(
    sweep: Sweep,
    out: Path,
    *,
    ray_address: str | None = None,
    workers: int | None = None,
    force: bool = False,
    on_run: OnRun | None = None,
) -> SweepOutcome:
    """Run every run of `sweep` not already complete in `out`; write and return the table."""
    if ray_address is not None:
        check_address(ray_address)  # before anything else: even a finished sweep says so
    out = Path(out).absolute()
    with writing(out):  # one sweep writes one folder at a time
        return _swept(sweep, out, ray_address, workers, force, on_run)


def _swept(
    sweep: Sweep,
    out: Path,
    ray_address: str | None,
    workers: int | None,
    force: bool,
    on_run: OnRun | None,
) -> SweepOutcome:
    """Run what is not complete in `out` (its lock held), then write the table."""
    runs_dir = out / "runs"
    check_parent(runs_dir)  # a file on the way, no permission, /proc: a line, not a traceback
    runs_dir.mkdir(parents=True, exist_ok=True)
    todo = []
    for spec in sweep.runs:
        if not force and is_complete(runs_dir / spec.run_id, spec.scenario):
            if on_run is not None:
                on_run(spec, True)
        else:
            todo.append(spec)
    if todo:
        _run_on_ray(todo, runs_dir, ray_address, workers, on_run)
    table = results_table(sweep, runs_dir)
    write_table(table, out / RESULTS)
    write_sweep_manifest(sweep, out)
    return SweepOutcome(out, table, ran=len(todo), skipped=len(sweep.runs) - len(todo))


def is_complete(run_dir: Path, scenario: Scenario) -> bool:
    """Whether `run_dir` is a finished run of `scenario` by this scsim code (`engine_sha256`:
    a sweep started again after an upgrade runs again) whose files `scsim verify` accepts."""
    try:
        checks = verify(run_dir)
        manifest = json.loads((run_dir / MANIFEST).read_text())
    except (RunDirectoryError, OSError, ValueError):
        return False
    same = manifest.get("scenario") == scenario.model_dump(mode="json", exclude_none=True)
    same_code = other_code(manifest.get("engine_sha256")) is None
    return same and same_code and all(check.ok for check in checks)


def results_table(sweep: Sweep, runs_dir: Path) -> pd.DataFrame:
    """One row per run, in the sweep's order, read back from each run's run.json; refused if
    a run was made by other scsim code (a cluster node with another install) than this one's."""
    rows = []
    for spec in sweep.runs:
        manifest = json.loads((runs_dir / spec.run_id / MANIFEST).read_text())
        why = other_code(manifest.get("engine_sha256"))
        if why is not None:
            raise ClusterError(
                f"{runs_dir / spec.run_id}: made by other scsim code ({why}): install the "
                "same scsim on every node, then start the sweep again"
            )
        rows.append(result_row(spec, manifest["summary"]))
    table = pd.DataFrame(rows)
    for name in {key for spec in sweep.runs for key in spec.parameters}:
        kinds = {type(v) for v in table[name] if v is not None and v == v}
        if len(kinds) > 1 and not kinds <= {int, float}:
            table[name] = table[name].astype(str)  # a column Parquet can hold: one type
    return table


def result_row(spec: RunSpec, summary: dict[str, Any]) -> dict[str, Any]:
    """The table's row for one run: its name, seed, parameters and headline metrics."""
    row = {"run_id": spec.run_id, "seed": spec.seed, **spec.parameters}
    for key, value in summary.items():
        if key in UNMEASURED:
            continue
        if isinstance(value, dict):
            row.update({f"{key}.{name}": inner for name, inner in value.items()})
        else:
            row[key] = value
    return row


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write the table as Parquet, whole or not at all."""
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), buffer, compression="zstd")
    write_atomically(path, buffer.getvalue())


def write_sweep_manifest(sweep: Sweep, out: Path, files: tuple[str, ...] = (RESULTS,)) -> None:
    """sweep.json: the checksums of the sweep's tables (`files`) and its runs, sealed, so that
    `scsim verify` checks a sweep folder (its tables, and each run under runs/) as a run."""
    write_manifest(
        out / SWEEP_MANIFEST,
        {
            "scsim_version": __version__,
            "sweep": sweep.name,
            "runs": [spec.run_id for spec in sweep.runs],
            "files": {
                name: {"sha256": sha256(out / name), "bytes": (out / name).stat().st_size}
                for name in files
            },
        },
    )


# ---------------------------------------------------------------- on Ray


def _run_on_ray(
    todo: list[RunSpec],
    runs_dir: Path,
    address: str | None,
    workers: int | None,
    on_run: OnRun | None,
) -> None:
    with connect(address, workers) as ray:
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(run_one)
        pending = {task.remote(spec.scenario, str(runs_dir / spec.run_id)): spec for spec in todo}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                spec = pending.pop(ready[0])
                ray.get(ready[0])
                if on_run is not None:
                    on_run(spec, False)
        except KeyboardInterrupt:
            done = len(todo) - len(pending)
            raise Interrupted(
                f"interrupted: the {done} runs finished are kept; the same command finishes "
                "the sweep"
            ) from None
        except Exception as exc:
            for ref in pending:
                ray.cancel(ref)
            raise unwrap(exc) from None


def run_one(scenario: Scenario, out: str) -> str:
    """One run of a sweep, on a worker. Safe to repeat: a run that a worker finished before
    it died is kept, and a partial directory that a dead worker left behind is removed."""
    target = Path(out)
    if not is_complete(target, scenario):
        for stale in target.parent.glob(f".{glob.escape(target.name)}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        simulate(scenario, target, force=True, finish=ReportIfPossible())
    return out
