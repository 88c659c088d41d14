"""Runs of a calibration in worker processes: each (scenario, seed) is one task, its daily
metrics the answer, so a candidate's seeds and the candidates after it run at once.

A run's metrics depend only on its scenario and seed (counter-based randomness), never on
which process ran it or when, so a search that reads its answers in the order it asked for
them finds the same fit with any number of workers. One worker runs each task in this
process, when asked for its answer, and starts no other.

    >>> with Runs(workers=2, backend="numpy") as runs:
    ...     pending = [runs.submit(s) for s in seeded(scenario, 3)]
    ...     frames = [p.result() for p in pending]
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import tempfile
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Protocol

import pandas as pd

from scsim.engine import kernels
from scsim.experiments.calibration import prefixes
from scsim.experiments.calibration.runs import run_metrics
from scsim.scenario.schema import Scenario


class Pending(Protocol):
    """A run asked for: its metrics when they are done (`result`), or forgotten (`cancel`)."""

    def result(self) -> pd.DataFrame: ...

    def cancel(self) -> bool: ...


class _Here:
    """A run of this process, made when its answer is first asked for (one worker)."""

    def __init__(self, s: Scenario, backend: str, days: int | None, base: Scenario | None) -> None:
        self.s, self.backend, self.days, self.base = s, backend, days, base
        self.frame: pd.DataFrame | None = None

    def result(self) -> pd.DataFrame:
        if self.frame is None:
            self.frame = run_metrics(self.s, backend=self.backend, days=self.days, base=self.base)
        return self.frame

    def cancel(self) -> bool:
        return True


class _Away:
    """A run in a worker process. Cancelled while it runs (a fit kept the move before it), it
    is told to stop through a file its worker looks for every few days: a run of a fit's
    size is seconds of a core that the next candidates are waiting for."""

    def __init__(self, future: Future[pd.DataFrame | None], stop: Path) -> None:
        self.future, self.stop = future, stop

    def result(self) -> pd.DataFrame:
        frame = self.future.result()
        assert frame is not None  # only a run told to stop gives none, and none reads it
        return frame

    def cancel(self) -> bool:
        if self.future.cancel():  # still waiting for a worker
            return True
        if not self.future.done():
            with contextlib.suppress(FileNotFoundError):  # the workers and their folder gone
                self.stop.touch()
        return False


LOOKS = 8  # days between a worker's looks for its run's stop file (a stat: microseconds)


class _Stopped(Exception):
    """A run its fit no longer wants (raised at a day's end, caught by `_run_away`)."""


def _run_away(
    stop: str, s: Scenario, backend: str, days: int | None, base: Scenario | None
) -> pd.DataFrame | None:
    """`run_metrics` in a worker, given up (None) once `stop` exists: the states it kept of
    its base's first days before that stay kept, each whole."""

    def look(day: int) -> None:
        if day % LOOKS == 0 and os.path.exists(stop):
            raise _Stopped

    if os.path.exists(stop):  # told before it began (it waited in the pool's queue)
        return None
    try:
        return run_metrics(s, backend=backend, days=days, base=base, on_day=look)
    except _Stopped:
        return None


def machine_cores() -> int:
    """The cores this process may use (a container's share, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _start(backend: str, folder: str | None) -> None:
    """A process that runs a fit's runs: one that runs them compiled pays for importing Numba
    once, and from then on a day's few-element chains (its Poisson counts) go compiled as
    well; a worker keeps the states of a base's first days in the workers' shared folder."""
    if backend == "numba":
        kernels.load()
    if folder is not None:
        prefixes.share(folder)


class Runs:
    """Runs of scenarios by `workers` processes (spawned, so none inherits a thread pool)."""

    def __init__(self, workers: int = 1, backend: str = "numpy") -> None:
        self.workers, self.backend = workers, backend
        self.pool: ProcessPoolExecutor | None = None
        self.folder: tempfile.TemporaryDirectory[str] | None = None
        self._numbers = itertools.count()  # names each run's stop file
        if workers > 1:
            # the states of a base's first days its workers keep for each other (`prefixes`)
            self.folder = tempfile.TemporaryDirectory(prefix="scsim-fit-")
            spawn = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=spawn,
                initializer=_start,
                initargs=(backend, self.folder.name),
            )
        else:
            _start(backend, None)

    def submit(self, s: Scenario, days: int | None = None, base: Scenario | None = None) -> Pending:
        """The run of `s` (its first `days` days only, where given; the days it shares with
        `base`'s run resumed where the worker kept them: `run_metrics`)."""
        if self.pool is None:
            return _Here(s, self.backend, days, base)
        assert self.folder is not None
        stop = Path(self.folder.name) / f"stop-{next(self._numbers)}"
        future = self.pool.submit(_run_away, str(stop), s, self.backend, days, base)
        return _Away(future, stop)

    def close(self, *, stop: bool = False) -> None:
        """Wait for the workers to finish, or (`stop`: an interrupt, an error) end them now:
        what they were running is not wanted any more."""
        if self.pool is None:
            return
        if stop:
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None

    def __enter__(self) -> Runs:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(stop=kind is not None)
