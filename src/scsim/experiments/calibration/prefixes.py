"""A fit's candidates share their first days with the scenario they move from: run them once.

A coordinate search (`fit.refine`) moves one free value at a time, and many free values are
those of a dated rulebook change (`rulebook.changes.3.services.flight.retry`, from 2016): a
candidate that moves one runs the very days of its base up to that date, the same bytes,
because a day depends only on the rules in force on it and before it (counter-based
randomness; the metrics rows of the days before are the base's). So a process that runs a
fit's candidates keeps the state of its base's run at the days its free changes begin
(`marks`), and a candidate resumes from the latest one it shares instead of day 0: a
candidate of the 2019 change runs the last tenth of the days.

What a run shares with another up to a day is named by `key`: the scenario without the
rulebook changes dated on or after that day (the rules in force before it are the same), and
what a model derives once from its whole rulebook (the day's components, the grades that keep
rosters: `signature`), so that a later change that alters those never resumes from another's
state. A resumed run's first row must carry the columns of the rows it takes over, or the run
is made again from day 0 (a later change that adds a column: the reforms', the grades').
Nothing about the fit's answer depends on this: each candidate's metrics are the rows a whole
run gives, byte for byte (tests/test_calibration_prefixes.py runs both).

Only a caller that names the base (`run_metrics(..., base=)`: `refine` does) keeps states, and
only of the base's own first days; a process keeps the most recent `KEPT` of them, and none
of a state larger than `MOST_BYTES` (a nation's). A fit's workers also write each to a folder
they share (`share`), so that a candidate resumes from a state whichever worker kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scsim.engine.model import Model
from scsim.scenario.schema import Scenario

KEPT = 8  # states a process keeps: a fit's free changes begin on a handful of days
MOST_BYTES = 2 << 30  # a state larger than this is not kept (a nation-sized fit's)
_CHANGE = re.compile(r"^rulebook\.changes\.(\d+)\.")


@dataclass(frozen=True)
class Prefix:
    """A run's state before `day` (after its days [0, day)), and those days' metrics rows.
    The people's columns are kept as the people and values that differ from the fresh state
    (`People.at_start`): a fit's lists change a few hundred thousand of 14 million people, and
    copying every column would cost more than the days it saves (a 14-million-person state is
    100 MB, and fresh memory's first touch is slow, on a virtual machine most of all)."""

    day: int
    changed: dict[str, tuple[np.ndarray, np.ndarray]]  # people's column -> (ids, values)
    arrays: dict[str, np.ndarray]  # the rest of the state, copied
    scalars: dict[str, int]
    rows: list[dict[str, Any]]


def marks(s: Scenario, stop: int) -> list[int]:
    """The days a candidate of `s`'s fit may first differ on after day 0: those of the dated
    rulebook changes that a free value sets (`calibration.free`), before `stop`."""
    if s.calibration is None:
        return []
    days = s.rulebook.change_days(s.run.start)
    changed = {
        int(m.group(1))
        for p in s.calibration.free
        for path in p.targets
        if (m := _CHANGE.match(path)) is not None
    }
    return sorted({days[i] for i in changed if i < len(days) and 0 < days[i] < stop})


def key(s: Scenario, day: int, backend: str, signature: str) -> str:
    """What a run of `s` before `day` depends on: the scenario less its rulebook changes dated
    on or after `day`, and the model's `signature`."""
    days = s.rulebook.change_days(s.run.start)
    earlier = [c for c, d in zip(s.rulebook.changes, days, strict=True) if d < day]
    kept = s.model_copy(update={"rulebook": s.rulebook.model_copy(update={"changes": earlier})})
    text = json.dumps([kept.model_dump(mode="json"), day, backend, signature], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def signature(model: Model) -> str:
    """What a model derives once from its whole rulebook, not from the rules in force on a day:
    its day's components and the grades that keep rosters of their holders."""
    parts = [type(c).__qualname__ for c in model.day.components]
    return json.dumps([parts, model.params.rostered.tolist()])


class Prefixes:
    """The states a process keeps, by `key`, the most recently used last; with a `folder`
    (`Runs`' workers share one), each is also written there, so that a worker resumes from a
    state another kept (a fit's workers would otherwise each run the base's days once)."""

    def __init__(self, kept: int = KEPT, folder: Path | None = None) -> None:
        self.kept, self.folder = kept, folder
        self._held: OrderedDict[str, Prefix] = OrderedDict()

    def __len__(self) -> int:
        return len(self._held)

    def find(self, keys: list[tuple[int, str]]) -> Prefix | None:
        """The kept state of the latest (day, key) of `keys` there is, here or in the folder."""
        for _, k in sorted(keys, reverse=True):
            prefix = self._held.get(k)
            if prefix is None and self.folder is not None:
                prefix = _read(self.folder / f"{k}.pickle")
                if prefix is not None:
                    self._hold(k, prefix)
            if prefix is not None:
                self._held.move_to_end(k)
                return prefix
        return None

    def keep(self, k: str, model: Model, rows: list[dict[str, Any]], day: int) -> None:
        """Keep `model`'s state before `day` (copied: the run goes on writing its own)."""
        if k in self._held:
            self._held.move_to_end(k)
            return
        if model.params.people_range != (0, model.params.host_pop.size):
            return  # a shard's: its people outside its range are not at the start
        arrays, scalars = model.state.capture()
        changed = {}
        for name, value in model.people_at_start.items():
            column = arrays.pop(f"people.{name}")
            ids = np.flatnonzero(column != value)
            changed[name] = (ids, column[ids])
        copies = {name: np.array(a, copy=True) for name, a in arrays.items()}
        size = sum(a.nbytes for a in copies.values())
        if size + sum(i.nbytes + v.nbytes for i, v in changed.values()) > MOST_BYTES:
            return
        prefix = Prefix(day, changed, copies, scalars, list(rows))
        self._hold(k, prefix)
        if self.folder is not None:  # whole or not at all: written aside, then renamed
            part = self.folder / f"{k}.{os.getpid()}.part"
            part.write_bytes(pickle.dumps(prefix, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(part, self.folder / f"{k}.pickle")

    def _hold(self, k: str, prefix: Prefix) -> None:
        self._held[k] = prefix
        while len(self._held) > self.kept:
            self._held.popitem(last=False)


def _read(path: Path) -> Prefix | None:
    """A state another worker kept (written by this fit's own processes), or None."""
    try:
        prefix = pickle.loads(path.read_bytes())  # our own workers, in a folder of ours (0700)
    except FileNotFoundError:
        return None
    return prefix if isinstance(prefix, Prefix) else None


def resume(model: Model, prefix: Prefix) -> list[dict[str, Any]]:
    """Put the kept state into a freshly built `model` (the kept arrays copied: they are kept
    for the next candidate); the rows of the days before it."""
    arrays, _ = model.state.capture()  # a fresh model's: its people at the start
    people = {name: arrays[f"people.{name}"] for name in prefix.changed}
    for name, (ids, values) in prefix.changed.items():
        people[name][ids] = values
    rest = {name: np.array(a, copy=True) for name, a in prefix.arrays.items()}
    model.state.restore(
        rest | {f"people.{n}": a for n, a in people.items()}, prefix.scalars, model.xp
    )
    return list(prefix.rows)


HELD = Prefixes()  # this process's: a fit's worker keeps them from one candidate to the next


def share(folder: str | None) -> None:
    """Keep this process's states in `folder` too, and read those other processes keep there
    (a fit's worker, as it starts: `Runs`)."""
    global HELD
    HELD = Prefixes(folder=Path(folder) if folder is not None else None)
