"""Grades following points, compiled (`scsim.engine.components.grades.regrade`): for each
person whose points, lock or hold changed today, their grade before, and for those not locked
the grade their score gives now, written back, and whether they fell into a grade that locks,
in one pass where the reference gathers the grade three times, the flags and the score once
each from a nation's columns. Each person is computed alone (the people are unique), so the
threads share the work without changing a byte. One scale, no holds (the caller checks).

A grade is read from a table of the scale's scores (`grade_table`: the bounds at or below each
score from the lowest bound less one to the highest, counted once per plan), not by comparing
the score with every bound, and a locked person's grade is written back unchanged rather than
skipped: with no branch that waits on a person's columns, the processor has the next people's
reads under way while one person's arrive, where a branch it guessed wrong made it start each
person's reads after the last one's had come (a nation's columns are read a cache miss a
person; at 10**8 people and 163,000 people a day the pass took 16 to 18 ms, and takes 7 to 8).
"""

from __future__ import annotations

import functools
from typing import Any

import numba
import numpy as np

from scsim.engine.kernels import counters


@functools.cache
def _table(bounds: bytes) -> tuple[int, np.ndarray]:
    tier_min = np.frombuffer(bounds, dtype=np.int64)
    lo, hi = int(tier_min.min()) - 1, int(tier_min.max())
    scores = np.arange(lo, hi + 1, dtype=np.int64)
    reached = (tier_min[None, :] <= scores[:, None]).sum(axis=1)
    grades = tier_min.size
    return lo, np.minimum(grades - reached, grades - 1).astype(np.uint8)


TABLE_MAX = 1 << 20  # scores a grade table may span (a scale's bounds are a few thousand apart)


def grade_table(tier_min: np.ndarray) -> tuple[int, np.ndarray] | None:
    """(lo, table): the grade of score s is table[clip(s, lo, lo + len - 1) - lo], the count
    of bounds at or below it as `plan.grade_of` computes it (below the lowest bound none is
    reached, at or above the highest all are); None where the bounds span too many scores."""
    if tier_min.size == 0 or int(tier_min.min()) <= -(1 << 62):
        return None
    if int(tier_min.max()) - int(tier_min.min()) >= TABLE_MAX:
        return None
    return _table(np.ascontiguousarray(tier_min, dtype=np.int64).tobytes())


@numba.njit(cache=True, inline="always")
def _grade(s: Any, lo: Any, table: Any) -> Any:
    return table[min(max(s, lo), lo + table.size - 1) - lo]


@numba.njit(cache=True, inline="always")
def _follow_at(
    i: Any, affected: Any, score: Any, tier: Any, flags: Any, lo: Any, table: Any,
    locked: Any, lock_days: Any, before: Any, after: Any, fell: Any,
) -> None:  # fmt: skip
    p = affected[i]
    b = tier[p]
    grade = _grade(np.int64(score[p]), lo, table)
    grade = b if flags[p] & locked else grade  # a select, not a branch: see the module
    tier[p] = grade
    before[i] = b
    after[i] = grade
    fell[i] = (grade > b) & (lock_days[grade] > 0)


@numba.njit(cache=True, nogil=True)
def _follow(
    affected: Any, score: Any, tier: Any, flags: Any, lo: Any, table: Any, locked: Any,
    lock_days: Any, before: Any, after: Any, fell: Any,
) -> None:  # fmt: skip
    for i in range(affected.size):
        _follow_at(
            i, affected, score, tier, flags, lo, table, locked, lock_days, before, after, fell
        )


@numba.njit(cache=True, nogil=True, parallel=True)
def _follow_parallel(
    affected: Any, score: Any, tier: Any, flags: Any, lo: Any, table: Any, locked: Any,
    lock_days: Any, before: Any, after: Any, fell: Any,
) -> None:  # fmt: skip
    for i in numba.prange(affected.size):
        _follow_at(
            i, affected, score, tier, flags, lo, table, locked, lock_days, before, after, fell
        )


def follow_points(
    affected: np.ndarray,
    score: np.ndarray,
    tier: np.ndarray,
    flags: np.ndarray,
    tier_min: np.ndarray,
    locked: int,
    lock_days: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(each person's grade before, after, whether they fell into a grade that locks), the
    grades of those not `locked` set from their scores; None where the columns are not the
    reference's dtypes."""
    if affected.dtype != np.int64:
        return None
    if score.dtype != np.int16 or not (tier.dtype == flags.dtype == np.dtype(np.uint8)):
        return None
    if tier_min.dtype != np.int64 or lock_days.dtype != np.int64:
        return None
    graded = grade_table(tier_min)
    if graded is None:
        return None
    lo, table = graded
    before = np.empty(affected.size, dtype=np.uint8)
    after = np.empty(affected.size, dtype=np.uint8)
    fell = np.empty(affected.size, dtype=np.bool_)
    kernel = _follow_parallel if affected.size >= counters.PARALLEL else _follow
    kernel(affected, score, tier, flags, np.int64(lo), table, np.uint8(locked), lock_days,
           before, after, fell)  # fmt: skip
    return before, after, fell


@numba.njit(cache=True, inline="always")
def _fair_at(
    i: Any, person: Any, score: Any, false_points: Any, flags: Any, lo: Any, table: Any,
    locked: Any, fair: Any, is_locked: Any,
) -> None:  # fmt: skip
    p = person[i]
    fair[i] = _grade(np.int64(score[p]) - np.int64(false_points[p]), lo, table)
    is_locked[i] = (flags[p] & locked) != 0


@numba.njit(cache=True, nogil=True)
def _fair(
    person: Any, score: Any, false_points: Any, flags: Any, lo: Any, table: Any, locked: Any,
    fair: Any, is_locked: Any,
) -> None:  # fmt: skip
    for i in range(person.size):
        _fair_at(i, person, score, false_points, flags, lo, table, locked, fair, is_locked)


@numba.njit(cache=True, nogil=True, parallel=True)
def _fair_parallel(
    person: Any, score: Any, false_points: Any, flags: Any, lo: Any, table: Any, locked: Any,
    fair: Any, is_locked: Any,
) -> None:  # fmt: skip
    for i in numba.prange(person.size):
        _fair_at(i, person, score, false_points, flags, lo, table, locked, fair, is_locked)


def fair_grades(
    person: np.ndarray,
    score: np.ndarray,
    false_points: np.ndarray,
    flags: np.ndarray,
    tier_min: np.ndarray,
    locked: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(the grade each person's score less its false points gives, whether they are
    `locked`), from one read of their three columns; None where they are not the
    reference's dtypes."""
    if person.dtype != np.int64:
        return None
    if not (score.dtype == false_points.dtype == np.dtype(np.int16)):
        return None
    if flags.dtype != np.uint8 or tier_min.dtype != np.int64:
        return None
    graded = grade_table(tier_min)
    if graded is None:
        return None
    lo, table = graded
    fair = np.empty(person.size, dtype=np.uint8)
    is_locked = np.empty(person.size, dtype=np.bool_)
    kernel = _fair_parallel if person.size >= counters.PARALLEL else _fair
    kernel(person, score, false_points, flags, np.int64(lo), table, np.uint8(locked), fair,
           is_locked)  # fmt: skip
    return fair, is_locked


@numba.njit(cache=True, nogil=True)
def _by_grade(table: Any, tier: Any, person: Any, out: Any) -> None:
    for i in range(person.size):
        out[i] = table[tier[person[i]]]


@numba.njit(cache=True, nogil=True, parallel=True)
def _by_grade_parallel(table: Any, tier: Any, person: Any, out: Any) -> None:
    for i in numba.prange(person.size):
        out[i] = table[tier[person[i]]]


def by_grade(table: np.ndarray, tier: np.ndarray, person: np.ndarray) -> np.ndarray | None:
    """`table[tier[person]]`: a per-grade table read at each person's grade, in one pass over
    the cores (a gather from a nation's grades is a cache miss a person, and two cores wait
    on two at once); None where the dtypes are not these."""
    if person.dtype != np.int64 or person.ndim != 1:
        return None
    if tier.dtype != np.uint8 or table.ndim != 1:
        return None
    out = np.empty(person.size, dtype=table.dtype)
    kernel = _by_grade_parallel if person.size >= counters.PARALLEL else _by_grade
    kernel(table, tier, person, out)
    return out
