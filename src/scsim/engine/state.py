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
from scsim.engine.backend import array_module, find_sorted, stable_argsort, to_host
from scsim.engine.memory import zeroed
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
        zeros = zeroed if xp is np else xp.zeros  # a nation's columns: no page touched here
        people = cls(**{name: zeros(size, dtype) for name, dtype in PEOPLE_COLUMNS.items()})
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


class _Sorted:
    """A roster's members sorted by id in five columns, merged and split as one."""

    def __init__(self, xp: ModuleType, columns: dict[str, np.ndarray] | None = None) -> None:
        self.xp = xp
        self.columns = columns or {name: xp.empty(0, dtype) for name, dtype in _COLUMNS.items()}
        # whether the columns are this part's own arrays (made by its merges and splits),
        # which a split may then compact in place: not those it was given (`from_arrays`)
        self._owned = False

    def __len__(self) -> int:
        return len(self.columns["ids"])

    def merge(self, new: dict[str, np.ndarray]) -> None:
        """Merge in `new` members (sorted by id, none already here, the columns' dtypes)."""
        xp, n = self.xp, len(new["ids"])
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
        placed = xp.searchsorted(self.columns["ids"], new["ids"], side="right") + xp.arange(n)
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

    def split(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Remove the members where `mask` is true (somewhere) and return their rows."""
        compiled = kernels.roster_split(self.columns, mask, _NAMES, in_place=self._owned)
        self._owned = True  # split into new arrays, or in place in its own
        if compiled is not None:
            self.columns, gone = compiled
            return gone
        stay = ~mask
        gone = {name: column[mask] for name, column in self.columns.items()}
        self.columns = {name: column[stay] for name, column in self.columns.items()}
        return gone

    def find(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each id is (a place in the columns) and whether it is here."""
        if len(self) == 0:
            return self.xp.zeros(len(ids), np.int64), self.xp.zeros(len(ids), dtype=bool)
        return find_sorted(self.xp, ids, self.columns["ids"])

    def members(self, ids: np.ndarray) -> np.ndarray:
        """A mask over the part: true at the members among `ids` (any order, repeats)."""
        at, found = self.find(ids)
        mask = self.xp.zeros(len(self), dtype=bool)
        mask[at[found]] = True
        return mask

    def none(self) -> dict[str, np.ndarray]:
        return {name: column[:0] for name, column in self.columns.items()}


RECENT_FROM = 1 << 16  # members from which a roster keeps its newest apart (`Roster`)
RECENT_SHARE = 8  # ... until they are this fraction of the rest


class Roster:
    """Members of a list (or of the locked set), sorted by id, each with an exit day and reason.

    A roster of RECENT_FROM members or more keeps those who entered lately apart, in a sorted
    part of their own merged into the rest once it holds an eighth as many: a merge copies
    the whole roster, and a nation's locks reach 15 million with 40,000 new a day, so merging
    each day's into all of them (twice a day: locks by points, then direct grades) was a
    quarter of a late national day. What a day does with a roster (`add`, `extend`,
    `take_due`, `take_ids`, `contains`, `wrongful_of`, `entered_on`, `entered_of`) works on
    both parts and gives what one sorted roster gives; whoever reads the columns themselves
    (`columns`, `ids`, `until`, `wrongful`, `take` by a mask over them) gets the parts merged
    first, the lists' rosters most days."""

    def __init__(self, xp: ModuleType = np) -> None:
        self.xp = xp
        self._rest = _Sorted(xp)
        self._recent = _Sorted(xp)
        self._first_exit: int | None = None  # the earliest `until`, once asked (None: not known)

    def __len__(self) -> int:
        return int(self._rest.columns["ids"].size + self._recent.columns["ids"].size)

    @property
    def columns(self) -> dict[str, np.ndarray]:
        if self._recent.columns["ids"].size:  # (no call where there is one part: a fit's day
            self._settle(0)  # reads its rosters' columns thousands of times)
        return self._rest.columns

    @property
    def ids(self) -> np.ndarray:
        return self.columns["ids"]

    @property
    def until(self) -> np.ndarray:
        return self.columns["until"]

    @property
    def wrongful(self) -> np.ndarray:
        return self.columns["wrongful"]

    def _parts(self) -> tuple[_Sorted, ...]:
        return (self._rest, self._recent) if self._recent.columns["ids"].size else (self._rest,)

    def _settle(self, share: int) -> None:
        """Merge the recent members into the rest once they are more than 1/`share` of it
        (0: whatever their number)."""
        recent = len(self._recent)
        if recent and (share == 0 or recent * share > len(self._rest)):
            self._rest.merge(self._recent.columns)
            self._recent = _Sorted(self.xp)

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
        if len(self._rest) < RECENT_FROM:
            self._settle(0)
            self._rest.merge(new)
        else:
            self._recent.merge(new)
            self._settle(RECENT_SHARE)

    def take(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Remove the members where mask (over `columns`) is true and return their rows."""
        if not bool(mask.any()):  # most days: nobody leaves (one check, not ten copies)
            return {name: column[:0] for name, column in self.columns.items()}
        self._settle(0)
        self._first_exit = None
        return self._rest.split(mask)

    def _take(self, masks: list[np.ndarray]) -> dict[str, np.ndarray]:
        """Remove the members where each part's mask is true; their rows in id order."""
        gone = [
            part.split(mask) for part, mask in zip(self._parts(), masks, strict=True) if mask.any()
        ]
        if not gone:  # most days: nobody leaves
            return self._rest.none()
        self._first_exit = None
        return self._in_id_order(gone)

    def _in_id_order(self, rows: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """Rows taken from each part (each in id order) as one set of rows in id order."""
        if len(rows) == 1:
            return rows[0]
        order = stable_argsort(self.xp, self.xp.concatenate([r["ids"] for r in rows]))
        return {name: self.xp.concatenate([r[name] for r in rows])[order] for name in _NAMES}

    def take_due(self, day: int) -> dict[str, np.ndarray]:
        """Remove and return the members whose exit day has come; the earliest exit day is
        kept between changes, so a day before it costs no pass over the roster."""
        if self._first_exit is None:
            self._first_exit = self._earliest()
        if day < self._first_exit:
            return self._rest.none()
        due = [part.columns["until"] <= day for part in self._parts()]
        if not any(bool(mask.any()) for mask in due):  # the bound was an exit since moved later
            self._first_exit = self._earliest()
            return self._rest.none()
        return self._take(due)

    def _earliest(self) -> int:
        if len(self) == 0:
            return int(NO_EXIT)
        return min(int(part.columns["until"].min()) for part in self._parts() if len(part))

    def take_ids(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        if len(ids) == 0 or len(self) == 0:
            return self._rest.none()
        return self._take([part.members(ids) for part in self._parts()])

    def _locate(self, ids: np.ndarray) -> list[tuple[_Sorted, np.ndarray, np.ndarray]]:
        """Where the members among `ids` are: per part, which of `ids` it holds (their places
        in `ids`) and where (their places in the part). The recent part is searched only for
        the ids the rest does not hold: a day asks mostly about members (the locked among the
        refused), and most members are in the rest, so two parts cost about one search."""
        xp, located = self.xp, []
        parts = [part for part in self._parts() if len(part)]
        left = None  # the places in `ids` not found yet (None: all of them)
        for k, part in enumerate(parts):
            at, here = part.find(ids if left is None else ids[left])
            which = xp.flatnonzero(here) if left is None else left[here]
            located.append((part, which, at[here]))
            if k + 1 < len(parts):
                left = xp.flatnonzero(~here) if left is None else left[~here]
        return located

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """For each id, whether it is a member."""
        if not self._recent.columns["ids"].size:  # one part (a small run's): as one array
            return self._rest.find(ids)[1]
        found = self.xp.zeros(len(ids), dtype=bool)
        for _, which, _ in self._locate(ids):
            found[which] = True
        return found

    def extend(self, ids: np.ndarray, day: int, until: np.ndarray, wrongful: np.ndarray) -> None:
        """Add members, unique ids, sorted; one already here stays until the later of its two
        exit days, and counts as put here wrongly only if both were wrongful."""
        if len(ids) == 0:
            return
        xp = self.xp
        # members already here are renewed where they are (as if taken out and added again:
        # entered today, no reason, the later exit), not by a copy of a roster that a
        # nation's locks make 15 million long; exits only move later, so the earliest kept
        # stays a bound, as `add` needs
        new = None
        for part, renewed, here in self._locate(ids):
            if here.size == 0:
                continue
            columns = part.columns
            until[renewed] = xp.maximum(until[renewed], columns["until"][here])
            wrongful[renewed] &= columns["wrongful"][here]
            columns["entered"][here] = day
            columns["until"][here] = until[renewed]
            columns["reason"][here] = 0
            columns["wrongful"][here] = wrongful[renewed]
            if new is None:
                new = xp.ones(len(ids), dtype=bool)
            new[renewed] = False
        if new is not None:
            keep = xp.flatnonzero(new)
            ids, until, wrongful = ids[keep], until[keep], wrongful[keep]
        self.add(ids, day, until, xp.zeros(len(ids), np.uint8), wrongful)

    def wrongful_of(self, ids: np.ndarray) -> np.ndarray:
        """For each id, whether it is a member that a false record put here (False if absent)."""
        if not self._recent.columns["ids"].size:  # one part: as one array
            at, found = self._rest.find(ids)
            return found & self._rest.columns["wrongful"][at] if len(self._rest) else found
        out = self.xp.zeros(len(ids), dtype=bool)
        for part, which, at in self._locate(ids):
            out[which] = part.columns["wrongful"][at]
        return out

    def entered_of(self, ids: np.ndarray) -> np.ndarray:
        """For each id, the day its member entered (or was last renewed), -1 if absent."""
        out = self.xp.full(len(ids), -1, dtype=np.int64)
        for part, which, at in self._locate(ids):
            out[which] = part.columns["entered"][at]
        return out

    def entered_on(self, day: int) -> dict[str, np.ndarray]:
        """The rows of the members who entered (or were renewed) on `day`, in id order."""
        rows = []
        for part in self._parts():  # a pass over each part's entry days; few entered today
            today = self.xp.flatnonzero(part.columns["entered"] == day)
            rows.append({name: column[today] for name, column in part.columns.items()})
        return self._in_id_order(rows)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The columns as host arrays (for a checkpoint)."""
        return {name: to_host(column) for name, column in self.columns.items()}

    @classmethod
    def from_arrays(cls, columns: dict[str, np.ndarray], xp: ModuleType = np) -> Roster:
        """A roster holding these columns (as `to_arrays` gave them), moved to xp."""
        roster = cls(xp)  # its earliest exit is not known yet (`take_due` finds it)
        roster._rest = _Sorted(
            xp, {name: xp.asarray(columns[name], dtype=dtype) for name, dtype in _COLUMNS.items()}
        )
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
