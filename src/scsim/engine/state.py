"""Mutable state: 7 bytes per person, and sparse tables for the few people on lists or locked.

docs/architecture.md allows 8 bytes of mutable state per person. scsim uses seven:

    score         int16  the points (every published scale fits)
    false_points  int16  the part of the score that false records put there (misidentified,
                         false matches, association), so a sanction's cause can be judged
    tier          uint8  current grade, 0 the best; fixed while a direct grade is locked
    flags         uint8  bits 0-3 and 7: on list l (`list_bit`); bit 4: grade locked; bit 5:
                         a false record in history; bit 6: online account suspended
    wariness      uint8  sanctions and demotions suffered so far (deterrence), saturating

Everything about the few people on a list or under a lock (when they entered, when and why
they leave, whether a false record put them there) lives in a `Roster`, whose size follows
the list, not the population.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import ClassVar

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import array_module, find_sorted, in_sorted, stable_argsort, to_host
from scsim.scenario.schema import MAX_LISTS

LOCKED = np.uint8(1 << 4)
TAINTED = np.uint8(1 << 5)
SUSPENDED = np.uint8(1 << 6)
STATE_BYTES_PER_PERSON = 7
NO_EXIT = np.iinfo(np.int64).max  # the earliest exit of an empty roster


# flag bits of lists 0-4 (the fifth came after the other flags); increasing, so that the bits
# below list_bit(i) hold every earlier list's (`scsim.engine.components.demand`:
# "on an earlier list")
LIST_BITS = (0, 1, 2, 3, 7)
assert len(LIST_BITS) == MAX_LISTS, "the schema admits as many lists as there are bits"


def list_bit(index: int) -> np.uint8:
    return np.uint8(1 << LIST_BITS[index])


def list_mask(indices: Iterable[int]) -> int:
    """The flag bits of several lists (a service's blocked lists, a household's lists)."""
    return sum(1 << LIST_BITS[i] for i in indices)


PEOPLE_COLUMNS = {
    "score": np.int16,
    "false_points": np.int16,
    "tier": np.uint8,
    "flags": np.uint8,
    "wariness": np.uint8,
}


@dataclass
class People:
    score: np.ndarray
    false_points: np.ndarray
    tier: np.ndarray
    flags: np.ndarray
    wariness: np.ndarray

    @classmethod
    def fresh(
        cls,
        size: int,
        base: int,
        base_tier: int,
        xp: ModuleType = np,
        within: tuple[int, int] | None = None,
    ) -> People:
        """Everyone at the base score and grade, or only the people `within` [lo, hi) (a
        shard's; none for the driver of a sharded run): the rest stay zero, never read, and
        on the host cost no memory (zeroed pages are backed only once written), so a shard
        holds its own people's state and not, even for a moment, the whole nation's."""
        lo, hi = (0, size) if within is None else within
        people = cls(**{name: xp.zeros(size, dtype) for name, dtype in PEOPLE_COLUMNS.items()})
        for name, value in cls.at_start(base, base_tier).items():
            if value:
                getattr(people, name)[lo:hi] = value
        return people

    @staticmethod
    def at_start(base: int, base_tier: int) -> dict[str, int]:
        """Each column's value for everyone at the start (`fresh`): what a run's state is told
        apart from by those it changed (`scsim.experiments.calibration.prefixes`)."""
        return {name: {"score": base, "tier": base_tier}.get(name, 0) for name in PEOPLE_COLUMNS}

    FIXED: ClassVar[tuple[str, ...]] = tuple(PEOPLE_COLUMNS)  # a checkpoint's must match

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The columns as host arrays (for a checkpoint)."""
        return {name: to_host(getattr(self, name)) for name in PEOPLE_COLUMNS}

    @classmethod
    def from_arrays(cls, columns: dict[str, np.ndarray], xp: ModuleType = np) -> People:
        return cls(**{name: xp.asarray(columns[name]) for name in PEOPLE_COLUMNS})


_COLUMNS = {
    "ids": np.int64,
    "entered": np.int32,
    "until": np.int32,
    "reason": np.uint8,
    "wrongful": np.bool_,
}
_NAMES = tuple(_COLUMNS)


class Roster:
    """Members of a list (or of the locked set), sorted by id, each with an exit day and reason."""

    def __init__(self, xp: ModuleType = np) -> None:
        self.xp = xp
        self.columns = {name: xp.empty(0, dtype) for name, dtype in _COLUMNS.items()}
        self._first_exit: int | None = None  # the earliest `until`, once asked (None: not known)
        # whether the columns are this roster's own arrays (made by its merges and splits),
        # which a split may then compact in place: not those it was given (`from_arrays`)
        self._owned = False

    def __len__(self) -> int:
        return len(self.columns["ids"])

    @property
    def ids(self) -> np.ndarray:
        return self.columns["ids"]

    @property
    def until(self) -> np.ndarray:
        return self.columns["until"]

    @property
    def wrongful(self) -> np.ndarray:
        return self.columns["wrongful"]

    def add(
        self,
        ids: np.ndarray,
        entered: int,
        until: np.ndarray,
        reason: np.ndarray,
        wrongful: np.ndarray,
        *,
        ordered: bool = False,
    ) -> None:
        """Add new members (ids not already present, unique; `ordered`: in id order already, as
        a day's unique ids are), keeping the roster sorted."""
        xp, n = self.xp, len(ids)
        if n == 0:  # most days: nobody enters
            return
        if self._first_exit is not None:  # still the earliest, or one of the new members' is
            self._first_exit = min(self._first_exit, int(until.min()))
        new = {
            "ids": ids,
            "entered": xp.full(n, entered, dtype=_COLUMNS["entered"]),
            "until": until,
            "reason": reason,
            "wrongful": wrongful,
        }
        if not ordered:
            order = stable_argsort(xp, ids)  # the day's few new ids
            new = {
                name: column if name == "entered" else column[order] for name, column in new.items()
            }
        new = {name: new[name].astype(dtype, copy=False) for name, dtype in _COLUMNS.items()}
        self._owned = True  # merged into new arrays, either way
        compiled = kernels.roster_merge(self.columns, new, _NAMES)
        if compiled is not None:
            self.columns = compiled
            return
        # merged in one pass: each new member goes where `searchsorted` puts it (moved on by
        # the new members before it), the members already here into the places left, in
        # order; a sort of the whole roster again would cost a nation's millions each day.
        # After any equal id already here (side="right"): the order of a stable sort of the
        # roster followed by the new members, which this replaces
        size = len(self) + n
        placed = xp.searchsorted(self.ids, new["ids"], side="right") + xp.arange(n)
        arrived = xp.zeros(size, dtype=bool)
        arrived[placed] = True
        stayed = ~arrived  # a mask: NumPy fills masked places about 2.5x as fast as indexed
        merged = {}
        for name, dtype in _COLUMNS.items():
            column = xp.empty(size, dtype=dtype)
            column[placed] = new[name]
            column[stayed] = self.columns[name]
            merged[name] = column
        self.columns = merged

    def take(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Remove the members where mask is true and return their rows."""
        if not bool(mask.any()):  # most days: nobody leaves (one check, not ten copies)
            return {name: column[:0] for name, column in self.columns.items()}
        return self._take(mask)

    def _take(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        """`take` of a mask known to be true somewhere."""
        self._first_exit = None
        compiled = kernels.roster_split(self.columns, mask, _NAMES, in_place=self._owned)
        self._owned = True  # split into new arrays, or in place in its own
        if compiled is not None:
            self.columns, gone = compiled
            return gone
        stay = ~mask
        gone = {name: column[mask] for name, column in self.columns.items()}
        self.columns = {name: column[stay] for name, column in self.columns.items()}
        return gone

    def take_due(self, day: int) -> dict[str, np.ndarray]:
        """Remove and return the members whose exit day has come; the earliest exit day is
        kept between changes, so a day before it costs no pass over the roster."""
        if self._first_exit is None:
            self._first_exit = int(self.until.min()) if len(self) else NO_EXIT
        if day < self._first_exit:
            return {name: column[:0] for name, column in self.columns.items()}
        due = self.until <= day
        if not bool(due.any()):  # the bound was an exit since moved later (`extend`)
            self._first_exit = int(self.until.min()) if len(self) else NO_EXIT
            return {name: column[:0] for name, column in self.columns.items()}
        return self._take(due)

    def take_ids(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        if len(ids) == 0 or len(self) == 0:
            return {name: column[:0] for name, column in self.columns.items()}
        return self.take(self._members(ids))

    def _members(self, ids: np.ndarray) -> np.ndarray:
        """A mask over the roster: true at the members among `ids` (any order, repeats). The
        roster is sorted, so each id is found by bisection: no sort of roster and ids
        together, as a general set membership would make."""
        at, found = find_sorted(self.xp, ids, self.ids)
        mask = self.xp.zeros(len(self), dtype=bool)
        mask[at[found]] = True
        return mask

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """For each id, whether it is a member."""
        return in_sorted(self.xp, ids, self.ids)

    def extend(self, ids: np.ndarray, day: int, until: np.ndarray, wrongful: np.ndarray) -> None:
        """Add members, unique ids, sorted; one already here stays until the later of its two
        exit days, and counts as put here wrongly only if both were wrongful."""
        if len(ids) == 0:
            return
        xp = self.xp
        if len(self):  # members already here are renewed where they are (as if taken out and
            # added again: entered today, no reason, the later exit), not by a copy of a roster
            # that a nation's locks make 15 million long
            at, found = find_sorted(xp, ids, self.ids)
            here, renewed = at[found], xp.flatnonzero(found)
            if here.size:
                until[renewed] = xp.maximum(until[renewed], self.until[here])
                wrongful[renewed] &= self.wrongful[here]
                self.columns["entered"][here] = day
                self.columns["until"][here] = until[renewed]
                self.columns["reason"][here] = 0
                self.columns["wrongful"][here] = wrongful[renewed]
                # exits only moved later: the earliest kept stays a bound, as `add` needs
                keep = xp.flatnonzero(~found)
                ids, until, wrongful = ids[keep], until[keep], wrongful[keep]
        self.add(ids, day, until, xp.zeros(len(ids), np.uint8), wrongful)

    def wrongful_of(self, ids: np.ndarray) -> np.ndarray:
        """For each id, whether it is a member that a false record put here (False if absent)."""
        if len(self) == 0:
            return self.xp.zeros(len(ids), dtype=bool)
        at, found = find_sorted(self.xp, ids, self.ids)
        return found & self.wrongful[at]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The columns as host arrays (for a checkpoint)."""
        return {name: to_host(column) for name, column in self.columns.items()}

    @classmethod
    def from_arrays(cls, columns: dict[str, np.ndarray], xp: ModuleType = np) -> Roster:
        """A roster holding these columns (as `to_arrays` gave them), moved to xp."""
        roster = cls(xp)  # its earliest exit is not known yet (`take_due` finds it)
        roster.columns = {
            name: xp.asarray(columns[name], dtype=dtype) for name, dtype in _COLUMNS.items()
        }
        return roster


VIEWED = 4096  # rows scheduled at once up to which a day's rows are views of one copy


class Calendar:
    """Work scheduled for a later day (point reversals, retries), bucketed by day.

    A day's rows are copies of their own where many are scheduled at once (a nation's point
    reversals, which leave over years: one copy held for the last of them would hold them
    all), views of one ordered copy where few are (a fit's retries: a copy per column per
    day was most of the cost). `due` hands out copies either way."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int], list[dict[str, np.ndarray]]] = {}

    def schedule(self, kind: str, days: np.ndarray, **columns: np.ndarray) -> None:
        if len(days) == 0:
            return
        xp = array_module(days)
        order = stable_argsort(xp, days)
        sorted_days = days[order]
        new_day = sorted_days[1:] != sorted_days[:-1]  # where a day's rows begin, but the first
        cuts = [0, *(xp.flatnonzero(new_day) + 1).tolist(), len(days)]
        starts = to_host(sorted_days[xp.asarray(cuts[:-1])]).tolist()
        viewed = len(days) <= VIEWED  # each column ordered once, a day's rows a view of it
        source = {k: v[order] for k, v in columns.items()} if viewed else columns
        for lo, hi, day in zip(cuts[:-1], cuts[1:], starts, strict=True):
            rows = slice(lo, hi) if viewed else order[lo:hi]
            self._buckets.setdefault((kind, int(day)), []).append(
                {k: v[rows] for k, v in source.items()}
            )

    def due(
        self, kind: str, day: int, empty: Mapping[str, type[np.generic]], xp: ModuleType = np
    ) -> dict[str, np.ndarray]:
        parts = self._buckets.pop((kind, day), [])
        if not parts:
            return {name: xp.empty(0, dtype) for name, dtype in empty.items()}
        xp = array_module(parts[0][next(iter(empty))])
        return {name: xp.concatenate([p[name] for p in parts]) for name in empty}

    def pending(self) -> int:
        return sum(len(next(iter(p.values()))) for parts in self._buckets.values() for p in parts)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every bucket as host arrays: per kind, `KIND.days` and `KIND.rows` (one entry per
        bucket) and `KIND.COLUMN` (the buckets' rows one after another). `due` concatenates a
        bucket's parts, so one part per bucket gives it the same rows."""
        arrays: dict[str, np.ndarray] = {}
        for kind in dict.fromkeys(kind for kind, _ in self._buckets):
            keys = [key for key in self._buckets if key[0] == kind]
            parts = [part for key in keys for part in self._buckets[key]]
            sizes = [sum(len(next(iter(p.values()))) for p in self._buckets[key]) for key in keys]
            arrays[f"{kind}.days"] = np.array([day for _, day in keys], dtype=np.int64)
            arrays[f"{kind}.rows"] = np.array(sizes, dtype=np.int64)
            for name in parts[0]:
                arrays[f"{kind}.{name}"] = np.concatenate([to_host(p[name]) for p in parts])
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], xp: ModuleType = np) -> Calendar:
        """The calendar `to_arrays` described, its buckets moved to xp."""
        calendar = cls()
        for kind in sorted({name.split(".", 1)[0] for name in arrays}):
            columns = {
                name.split(".", 1)[1]: column
                for name, column in arrays.items()
                if name.startswith(f"{kind}.") and name not in (f"{kind}.days", f"{kind}.rows")
            }
            ends = np.cumsum(arrays[f"{kind}.rows"])
            for day, hi, lo in zip(
                arrays[f"{kind}.days"], ends, ends - arrays[f"{kind}.rows"], strict=True
            ):
                calendar._buckets[(kind, int(day))] = [
                    {name: xp.asarray(column[lo:hi]) for name, column in columns.items()}
                ]
        return calendar
