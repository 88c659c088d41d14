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

from dataclasses import dataclass, field

import numpy as np

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
    def fresh(cls, size: int, base: int, base_tier: int) -> People:
        return cls(
            score=np.full(size, base, dtype=np.int16),
            tier=np.full(size, base_tier, dtype=np.uint8),
            flags=np.zeros(size, dtype=np.uint8),
            wariness=np.zeros(size, dtype=np.uint8),
        )


@dataclass
class Roster:
    """Members of a list (or of the locked set), sorted by id, each with an exit day and reason."""

    ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    entered: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    until: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    reason: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint8))
    wrongful: np.ndarray = field(default_factory=lambda: np.empty(0, bool))

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, ids: np.ndarray, entered: int, until: np.ndarray, reason: np.ndarray,
            wrongful: np.ndarray) -> None:
        """Add new members (ids not already present, unique)."""
        at = np.searchsorted(self.ids, ids)
        order = np.argsort(ids, kind="stable")
        at = at[order]
        self.ids = np.insert(self.ids, at, ids[order])
        self.entered = np.insert(self.entered, at, np.int32(entered))
        self.until = np.insert(self.until, at, until[order].astype(np.int32))
        self.reason = np.insert(self.reason, at, reason[order].astype(np.uint8))
        self.wrongful = np.insert(self.wrongful, at, wrongful[order])

    def take(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Remove the members where mask is true and return their rows."""
        gone = {name: getattr(self, name)[mask] for name in _COLUMNS}
        for name in _COLUMNS:
            setattr(self, name, getattr(self, name)[~mask])
        return gone

    def take_due(self, day: int) -> dict[str, np.ndarray]:
        return self.take(self.until <= day)

    def take_ids(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        return self.take(np.isin(self.ids, ids))


_COLUMNS = ("ids", "entered", "until", "reason", "wrongful")


class Calendar:
    """Work scheduled for a later day (point reversals, retries), bucketed by day."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int], list[dict[str, np.ndarray]]] = {}

    def schedule(self, kind: str, days: np.ndarray, **columns: np.ndarray) -> None:
        if len(days) == 0:
            return
        order = np.argsort(days, kind="stable")
        sorted_days = days[order]
        cuts = np.flatnonzero(np.diff(sorted_days)) + 1
        for chunk in np.split(np.arange(len(days)), cuts):
            rows = order[chunk]
            key = (kind, int(days[rows[0]]))
            self._buckets.setdefault(key, []).append({k: v[rows] for k, v in columns.items()})

    def due(self, kind: str, day: int, empty: dict[str, np.dtype]) -> dict[str, np.ndarray]:
        parts = self._buckets.pop((kind, day), [])
        if not parts:
            return {name: np.empty(0, dtype) for name, dtype in empty.items()}
        return {name: np.concatenate([p[name] for p in parts]) for name in empty}

    def pending(self) -> int:
        return sum(len(next(iter(p.values()))) for parts in self._buckets.values() for p in parts)
