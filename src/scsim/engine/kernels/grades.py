"""Grades following points, compiled (`scsim.engine.components.grades.regrade`): for each
person whose points, lock or hold changed today, their grade before, and for those not locked
the grade their score gives now, written back, and whether they fell into a grade that locks,
in one pass where the reference gathers the grade three times, the flags and the score once
each from a nation's columns. Each person is computed alone (the people are unique), so the
threads share the work without changing a byte. One scale, no holds (the caller checks).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from scsim.engine.kernels import counters


@numba.njit(cache=True, inline="always")
def _follow_at(
    i: Any, affected: Any, score: Any, tier: Any, flags: Any, tier_min: Any, locked: Any,
    lock_days: Any, before: Any, fell: Any,
) -> None:  # fmt: skip
    p = affected[i]
    b = tier[p]
    before[i] = b
    fell[i] = False
    if flags[p] & locked:
        return
    grades, s, reached = tier_min.size, np.int64(score[p]), 0
    for g in range(grades):  # the bounds at or below the score (`plan.grade_of`)
        if tier_min[g] <= s:
            reached += 1
    grade = min(grades - reached, grades - 1)
    tier[p] = grade
    fell[i] = grade > b and lock_days[grade] > 0


@numba.njit(cache=True, nogil=True)
def _follow(
    affected: Any, score: Any, tier: Any, flags: Any, tier_min: Any, locked: Any,
    lock_days: Any, before: Any, fell: Any,
) -> None:  # fmt: skip
    for i in range(affected.size):
        _follow_at(i, affected, score, tier, flags, tier_min, locked, lock_days, before, fell)


@numba.njit(cache=True, nogil=True, parallel=True)
def _follow_parallel(
    affected: Any, score: Any, tier: Any, flags: Any, tier_min: Any, locked: Any,
    lock_days: Any, before: Any, fell: Any,
) -> None:  # fmt: skip
    for i in numba.prange(affected.size):
        _follow_at(i, affected, score, tier, flags, tier_min, locked, lock_days, before, fell)


def follow_points(
    affected: np.ndarray,
    score: np.ndarray,
    tier: np.ndarray,
    flags: np.ndarray,
    tier_min: np.ndarray,
    locked: int,
    lock_days: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(each person's grade before, whether they fell into a grade that locks), the grades of
    those not `locked` set from their scores; None where the people are few (`counters.SMALL`)
    or the columns not the reference's dtypes."""
    if affected.size < counters.SMALL or affected.dtype != np.int64:
        return None
    if score.dtype != np.int16 or not (tier.dtype == flags.dtype == np.dtype(np.uint8)):
        return None
    if tier_min.dtype != np.int64 or lock_days.dtype != np.int64:
        return None
    before = np.empty(affected.size, dtype=np.uint8)
    fell = np.empty(affected.size, dtype=np.bool_)
    kernel = _follow_parallel if affected.size >= counters.PARALLEL else _follow
    kernel(affected, score, tier, flags, tier_min, np.uint8(locked), lock_days, before, fell)
    return before, fell
