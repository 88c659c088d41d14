"""Mutable state: 5 bytes per person, and sparse tables for the few people on lists or locked.

DESIGN.md allows 8 bytes of mutable state per person. scsim uses five:

    score     int16   the points (every published scale fits)
    tier      uint8   current grade, 0 the best; fixed while a direct grade is locked
    flags     uint8   bits 0-3: on list l; bit 4: grade locked; bit 5: a false record in history
    wariness  uint8   sanctions suffered so far (deterrence), saturating

Everything about the few people on a list or under a lock (when they entered, when and why
they leave, whether a false record put them there) lives in a `Roster`, whose size follows
the list, not the population.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from scsim.backend import array_module, stable_argsort, to_host

LOCKED = np.uint8(1 << 4)
TAINTED = np.uint8(1 << 5)
STATE_BYTES_PER_PERSON = 5


def list_bit(index: int) -> np.uint8:
    return np.uint8(1 << index)


@dataclass
class People:
    score: np.ndarray
    tier: np.ndarray
    flags: np.ndarray
    wariness: np.ndarray

    @classmethod
    def fresh(cls, size: int, base: int, base_tier: int, xp: ModuleType = np) -> People:
        return cls(
            score=xp.full(size, base, dtype=np.int16),
            tier=xp.full(size, base_tier, dtype=np.uint8),
            flags=xp.zeros(size, dtype=np.uint8),
            wariness=xp.zeros(size, dtype=np.uint8),
        )


_COLUMNS = {
    "ids": np.int64,
    "entered": np.int32,
    "until": np.int32,
    "reason": np.uint8,
    "wrongful": np.bool_,
}


class Roster:
    """Members of a list (or of the locked set), sorted by id, each with an exit day and reason."""

    def __init__(self, xp: ModuleType = np) -> None:
        self.xp = xp
        self.columns = {name: xp.empty(0, dtype) for name, dtype in _COLUMNS.items()}

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
    ) -> None:
        """Add new members (ids not already present, unique), keeping the roster sorted."""
        xp, n = self.xp, len(ids)
        new = {
            "ids": ids,
            "entered": xp.full(n, entered),
            "until": until,
            "reason": reason,
            "wrongful": wrongful,
        }
        merged = {
            name: xp.concatenate([self.columns[name], new[name].astype(dtype)])
            for name, dtype in _COLUMNS.items()
        }
        order = xp.argsort(merged["ids"])
        self.columns = {name: column[order] for name, column in merged.items()}

    def take(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Remove the members where mask is true and return their rows."""
        gone = {name: column[mask] for name, column in self.columns.items()}
        self.columns = {name: column[~mask] for name, column in self.columns.items()}
        return gone

    def take_due(self, day: int) -> dict[str, np.ndarray]:
        return self.take(self.until <= day)

    def take_ids(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        return self.take(self.xp.isin(self.ids, ids))


class Calendar:
    """Work scheduled for a later day (point reversals, retries), bucketed by day."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int], list[dict[str, np.ndarray]]] = {}

    def schedule(self, kind: str, days: np.ndarray, **columns: np.ndarray) -> None:
        if len(days) == 0:
            return
        xp = array_module(days)
        order = stable_argsort(xp, days)
        sorted_days = days[order]
        cuts = [0, *(xp.flatnonzero(xp.diff(sorted_days)) + 1).tolist(), len(days)]
        starts = to_host(sorted_days[xp.asarray(cuts[:-1])]).tolist()
        for lo, hi, day in zip(cuts[:-1], cuts[1:], starts, strict=True):
            rows = order[lo:hi]
            self._buckets.setdefault((kind, int(day)), []).append(
                {k: v[rows] for k, v in columns.items()}
            )

    def due(
        self, kind: str, day: int, empty: dict[str, np.dtype], xp: ModuleType = np
    ) -> dict[str, np.ndarray]:
        parts = self._buckets.pop((kind, day), [])
        if not parts:
            return {name: xp.empty(0, dtype) for name, dtype in empty.items()}
        xp = array_module(parts[0][next(iter(empty))])
        return {name: xp.concatenate([p[name] for p in parts]) for name in empty}

    def pending(self) -> int:
        return sum(len(next(iter(p.values()))) for parts in self._buckets.values() for p in parts)
