"""Checkpoints: a run's whole state every N days, so that a killed run resumes to the same bytes.

A resumable run (`scsim run --checkpoint-every DAYS`) keeps, inside its partial directory
(`.NAME.partial`, see `scsim.simulation.rundir`):

    checkpoint/
      start.json          what was asked: the resolved scenario, backend, --force, the interval
      checkpoint.json     the last checkpoint: day reached, the files below with their sha256
      state-00030.bin     the state after 30 days, raw arrays laid out as checkpoint.json says
      ledger-00000.arrow  the ledger rows of days 0-29 as codes, one Arrow IPC batch per day
      ledger-00030.arrow  ...

checkpoint.json is the commit point. The files it names are written and flushed first, then it
is replaced in one rename; a file it does not name is a leftover of an interrupted save and is
removed. Both JSON files carry a sha256 of their own content, so a damaged or edited one is
refused rather than half-believed. The ledger waits here as Arrow files because a killed
ParquetWriter leaves an unreadable file: ledger.parquet is written only at the end, replayed
day by day through the same buffering as an uninterrupted run, so its bytes are the same.

    >>> checkpoints = Checkpoints.begin(out, scenario, every=30, force=False, backend="numpy")
    >>> checkpoints.record_ledger(day, model.ledger.drain())
    >>> checkpoints.save(model, rows, day + 1)                 # when checkpoints.due(day + 1)
    >>> day, rows = Checkpoints.reopen(out).restore(model)     # in a later process
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from scsim.engine.context import Context
from scsim.errors import CheckpointError, OutputExistsError
from scsim.scenario.schema import Scenario
from scsim.simulation.checkpoint_files import (
    LedgerPart,
    check_file,
    damaged,
    digest,
    hold,
    ledger_days,
    plain,
    plain_name,
    read_arrays,
    seal,
    unseal,
    write_arrays,
)
from scsim.simulation.provenance import engine_sha256, other_code
from scsim.simulation.rundir import (
    MANIFEST,
    Finish,
    check_output_dir,
    publish,
    resumable_partial,
    write_atomically,
)
from scsim.version import __version__

# 2: the state frame saved field by field (`State.capture`: rosters0.*, kept_entries, ...)
FORMAT = 2
FOLDER = "checkpoint"
START = "start.json"
LATEST = "checkpoint.json"


def scenario_sha256(scenario: Scenario) -> str:
    """The sha256 of the resolved scenario as canonical JSON (sorted keys, no spaces)."""
    return digest(scenario.model_dump(mode="json", exclude_none=True))


def refuse_interrupted(out: Path, *, force: bool) -> None:
    """A new run into `out` must not silently bury an interrupted one that can be resumed."""
    if not force and (resumable_partial(out) / FOLDER / START).exists():
        raise OutputExistsError(
            f"{out} has an interrupted run; finish it with `scsim run --resume {out}`, "
            "or pass --force to start over"
        )


def discard_interrupted(out: Path) -> None:
    """Remove an interrupted run's partial directory (the user said --force)."""
    partial = resumable_partial(out)
    if partial.is_symlink() or partial.is_file():  # not ours, but in the way of the run
        partial.unlink()
    elif partial.exists():
        lock = hold(partial)
        try:
            shutil.rmtree(partial)
        finally:
            os.close(lock)


def publish_sealed(out: Path, *, force: bool, finish: Finish | None = None) -> bool:
    """Finish a run killed after its run.json was written: drop the checkpoint, rename the
    directory in place. False if there is no such run."""
    partial = resumable_partial(out)
    if not (partial / MANIFEST).is_file():
        return False
    lock = hold(partial)
    try:
        # start.json may have gone with the checkpoint: then only --force may replace `out`
        with contextlib.suppress(CheckpointError, KeyError, TypeError):
            force = force or bool(unseal(partial / FOLDER / START)["force"])
        if out.exists() and not force:
            raise OutputExistsError(
                f"{out} exists; pass --force to replace it with the resumed run"
            )
        check_output_dir(out, force=True)
        _remove_checkpoint_folder(partial)
        if finish is not None:  # it comes after run.json: a kill may have cut it short
            finish(partial)
        publish(partial, out)
    finally:
        os.close(lock)
    return True


class Checkpoints:
    """The checkpoints of one resumable run, held (locked) by this process while it works."""

    def __init__(self, out: Path, start: dict[str, Any], scenario: Scenario, lock: int) -> None:
        self.out, self.partial = out, resumable_partial(out)
        self.folder = self.partial / FOLDER
        self.scenario, self.digest = scenario, start["scenario_sha256"]
        self.every, self.force, self.backend = start["every"], start["force"], start["backend"]
        if not (
            isinstance(self.every, int)
            and self.every > 0
            and isinstance(self.force, bool)
            and isinstance(self.backend, str)
        ):
            raise damaged(self.folder / START, "its options are not valid")
        self.day = 0  # days the last committed checkpoint holds
        self._lock: int | None = lock
        self._parts: list[dict[str, Any]] = []
        self._ledger_rows = 0
        self._writer: LedgerPart | None = None

    # ---------------------------------------------------------------- opening
    @classmethod
    def begin(
        cls, out: Path, scenario: Scenario, *, every: int, force: bool, backend: str
    ) -> Checkpoints:
        """Start the checkpoints of a new run (an interrupted one there is discarded)."""
        discard_interrupted(out)
        partial = resumable_partial(out)
        partial.mkdir(parents=True)
        lock = hold(partial)
        try:
            start = {
                "format": FORMAT,
                "scsim_version": __version__,
                "engine_sha256": engine_sha256(),
                "scenario": scenario.model_dump(mode="json", exclude_none=True),
                "scenario_sha256": scenario_sha256(scenario),
                "seed": scenario.run.seed,
                "every": every,
                "force": force,
                "backend": backend,
            }
            (partial / FOLDER).mkdir()
            write_atomically(partial / FOLDER / START, seal(start))
        except BaseException:
            os.close(lock)
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return cls(out, start, scenario, lock)

    @classmethod
    def reopen(cls, out: Path) -> Checkpoints:
        """The checkpoints of the interrupted run that was writing `out`."""
        partial = resumable_partial(out)
        path = partial / FOLDER / START
        if not path.is_file():
            if (out / MANIFEST).is_file():
                raise CheckpointError(f"{out} is a finished run; there is nothing to resume")
            raise CheckpointError(
                f"{out}: no interrupted run to resume (nothing at {partial}); "
                "only a run started with --checkpoint-every can be resumed"
            )
        lock = hold(partial)
        try:
            start = unseal(path)
            _check_version(path, start)
            scenario = _scenario_of(path, start)
            return cls(out, start, scenario, lock)
        except KeyError as exc:
            os.close(lock)
            raise damaged(path, f"{exc} is missing") from None
        except BaseException:
            os.close(lock)
            raise

    def check_same(self, scenario: Scenario) -> None:
        """Refuse to resume with a scenario (or seed) other than the one the run started with."""
        if scenario.run.seed != self.scenario.run.seed or scenario_sha256(scenario) != self.digest:
            raise CheckpointError(
                f"{self.folder / START}: the interrupted run is of another scenario or seed "
                f"({self.scenario.name}, seed {self.scenario.run.seed}; asked: "
                f"{scenario.name}, seed {scenario.run.seed}); resume without naming a scenario"
            )

    # ---------------------------------------------------------------- the run
    def due(self, day: int, days: int) -> bool:
        """Whether a checkpoint is due once `day` days are done (always after the last day)."""
        return day % self.every == 0 or day == days

    def record_ledger(self, day: int, columns: dict[str, np.ndarray]) -> None:
        """Keep one day's ledger rows (codes, host arrays) in the current interval's file."""
        if self._writer is None:
            self._writer = LedgerPart(self.folder / f"ledger-{day:05d}.arrow", first_day=day)
        self._writer.add(columns)

    def save(self, model: Context, rows: list[dict[str, Any]], day: int) -> None:
        """Commit a checkpoint of the state after `day` days, with the metrics rows so far."""
        if self._writer is not None:
            part, self._writer = self._writer.close(), None
            self._parts.append(part)
            self._ledger_rows += part["rows"]
        arrays, scalars = model.state.capture()
        # the rows' key order is the metrics file's column order: never sort it
        text = json.dumps(rows, default=plain).encode()
        arrays["metrics.rows"] = np.frombuffer(text, dtype=np.uint8)
        state = self.folder / f"state-{day:05d}.bin"
        layout, size, sha = write_arrays(state, arrays)
        manifest = {
            "format": FORMAT,
            "scsim_version": __version__,
            "engine_sha256": engine_sha256(),
            "scenario_sha256": self.digest,
            "seed": self.scenario.run.seed,
            "day": day,
            "days": self.scenario.run.days,
            "state": {"file": state.name, "bytes": size, "sha256": sha},
            "arrays": layout,
            "scalars": scalars,
            "ledger": self._parts,
            "ledger_rows": self._ledger_rows,
        }
        write_atomically(self.folder / LATEST, seal(manifest))
        self.day = day
        self._discard_uncommitted(manifest)

    def restore(self, model: Context) -> tuple[int, list[dict[str, Any]]]:
        """Load the last checkpoint into a freshly built model: (days done, metrics rows)."""
        path = self.folder / LATEST
        if not path.is_file():  # killed before its first checkpoint: start from day 0
            self._discard_uncommitted()
            return 0, []
        manifest = unseal(path)
        _check_version(path, manifest)
        self._check_owner(path, manifest)
        try:
            rows = self._load(path, manifest, model)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise damaged(path, f"unexpected content: {exc}") from None
        self.day, self._parts = manifest["day"], list(manifest["ledger"])
        self._ledger_rows = manifest["ledger_rows"]
        self._discard_uncommitted()
        return self.day, rows

    def ledger_days(self) -> Iterator[dict[str, np.ndarray]]:
        """Each day's ledger rows (codes, host arrays), in day order, from the saved files."""
        for part in self._parts:
            yield from ledger_days(self.folder / part["file"])

    # ---------------------------------------------------------------- the end
    def retire(self) -> None:
        """The run is sealed (run.json written): its checkpoints are no longer needed."""
        _remove_checkpoint_folder(self.partial)

    def abandon(self) -> int | None:
        """After a failure or Ctrl-C: keep the last checkpoint and return its day, or remove
        the partial directory when there is no checkpoint to keep."""
        if self._writer is not None:
            self._writer.discard()
            self._writer = None
        if (self.partial / MANIFEST).is_file():
            return self.scenario.run.days  # sealed: `--resume` only has to publish it
        if not (self.folder / LATEST).is_file():
            shutil.rmtree(self.partial, ignore_errors=True)
            return None
        self._discard_uncommitted()
        return self.day

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    # ---------------------------------------------------------------- details
    def _check_owner(self, path: Path, manifest: dict[str, Any]) -> None:
        if manifest.get("scenario_sha256") != self.digest or manifest.get("seed") != (
            self.scenario.run.seed
        ):
            raise CheckpointError(
                f"{path}: the checkpoint belongs to another run (seed {manifest.get('seed')}, "
                f"scenario sha256 {str(manifest.get('scenario_sha256'))[:12]}; this run: "
                f"seed {self.scenario.run.seed}, scenario sha256 {self.digest[:12]}); "
                "it cannot be resumed"
            )

    def _load(self, path: Path, manifest: dict[str, Any], model: Context) -> list[dict[str, Any]]:
        day = manifest["day"]
        if not (isinstance(day, int) and 0 < day <= self.scenario.run.days):
            raise damaged(path, f"day {day!r} is outside the run")
        for entry in [manifest["state"], *manifest["ledger"]]:
            check_file(path, self.folder / plain_name(entry["file"]), entry)
        state = self.folder / manifest["state"]["file"]
        arrays = read_arrays(state, manifest["arrays"], manifest["state"]["bytes"])
        rows = json.loads(arrays.pop("metrics.rows").tobytes())
        if not (isinstance(rows, list) and len(rows) == day):
            raise damaged(path, f"{len(rows)} rows of metrics for {day} days")
        model.state.restore(arrays, manifest["scalars"], model.xp)
        return rows

    def _discard_uncommitted(self, manifest: dict[str, Any] | None = None) -> None:
        """Remove what the committed checkpoint.json (read again unless given) does not name:
        an interrupted save, an interval's ledger being written, older states."""
        keep = {START, LATEST}
        latest = self.folder / LATEST
        if manifest is not None or latest.is_file():
            try:
                manifest = manifest or unseal(latest)
                keep |= {manifest["state"]["file"], *(p["file"] for p in manifest["ledger"])}
            except (CheckpointError, KeyError, TypeError):
                return  # never delete beside a checkpoint that cannot be read
        for path in self.folder.iterdir():
            if path.name not in keep and path.is_file():
                path.unlink()


# ---------------------------------------------------------------- the model's state


def _remove_checkpoint_folder(partial: Path) -> None:
    folder = partial / FOLDER
    if folder.exists():
        retired = partial / f".{FOLDER}-retired-{os.getpid()}"
        folder.rename(retired)  # one step: a kill never leaves half a checkpoint under its name
        shutil.rmtree(retired, ignore_errors=True)
    for leftover in partial.glob(f".{FOLDER}-retired-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _check_version(path: Path, record: dict[str, Any]) -> None:
    """Refuse a checkpoint written by other code: another format or version, or the same
    version with other engine source (a commit does not change the version string)."""
    if record.get("format") != FORMAT or record.get("scsim_version") != __version__:
        raise CheckpointError(
            f"{path}: written by scsim {record.get('scsim_version')} (format "
            f"{record.get('format')}); this is scsim {__version__} (format {FORMAT}), whose "
            "results could differ: finish the run with the scsim that started it"
        )
    why = other_code(record.get("engine_sha256"))
    if why is not None:
        raise CheckpointError(
            f"{path}: written by other scsim code ({why}; both scsim {__version__}), whose "
            "results could differ: finish the run with the code that started it"
        )


def _scenario_of(path: Path, start: dict[str, Any]) -> Scenario:
    try:
        scenario = Scenario.model_validate(start["scenario"])
    except (KeyError, ValidationError):
        raise damaged(path, "its scenario is not valid") from None
    if scenario_sha256(scenario) != start.get("scenario_sha256"):
        raise damaged(path, "its scenario does not match its sha256")
    return scenario
