"""Per-person lookups of the day's components, compiled: one pass per call where the NumPy
reference builds a row of temporaries per person.

- `seen_among_friends`: the wariness of a person's friends (the circulant graph of
  `Population.friends`: i plus and minus each of the region's offsets, wrapped in the region
  as `xp.mod` wraps it),
  summed and capped (`scsim.engine.components.chill`), without the (people x friends) arrays
  of ids and wariness. Sums of integers: the same whatever the order or the threads.
- `lookup`: `table[row, column]` of a 2-d table (`scsim.engine.backend.lookup`).
- `grow_wary`: one more sanction or demotion suffered for each time a person is named,
  saturating (`scsim.engine.components.respond`), without sorting the names to count them.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from scsim.engine.kernels import counters


@numba.njit(cache=True, inline="always")
def _region(region_start: Any, p: Any, last: Any) -> Any:
    """The region of id p (the last region starting at or before it), trying `last` first."""
    if region_start[last] <= p < region_start[last + 1]:
        return last
    lo, hi = 0, region_start.size - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if region_start[mid] <= p:
            lo = mid
        else:
            hi = mid
    return lo


@numba.njit(cache=True, inline="always")
def _friends_seen(
    i: Any, region_start: Any, offsets: Any, wariness: Any, person: Any, cap: Any, r: Any
) -> Any:
    p = person[i]
    r = _region(region_start, p, r)
    r0 = region_start[r]
    n, local, total = region_start[r + 1] - r0, p - r0, np.int64(0)
    for k in range(offsets.shape[1]):  # offsets below n: one wrap at most, no division
        o = offsets[r, k]
        up, down = local + o, local - o
        up -= n if up >= n else 0
        down += n if down < 0 else 0
        total += np.int64(wariness[r0 + up]) + np.int64(wariness[r0 + down])
    return min(total, cap), r


@numba.njit(cache=True, nogil=True)
def _seen(region_start: Any, offsets: Any, wariness: Any, person: Any, cap: Any, out: Any) -> None:
    r = 0
    for i in range(person.size):
        out[i], r = _friends_seen(i, region_start, offsets, wariness, person, cap, r)


@numba.njit(cache=True, nogil=True, parallel=True)
def _seen_parallel(
    region_start: Any, offsets: Any, wariness: Any, person: Any, cap: Any, out: Any
) -> None:
    for i in numba.prange(person.size):
        out[i] = _friends_seen(i, region_start, offsets, wariness, person, cap, 0)[0]


def seen_among_friends(
    region_start: np.ndarray,
    offsets: np.ndarray,
    wariness: np.ndarray,
    person: np.ndarray,
    cap: int,
) -> np.ndarray | None:
    """Each person's friends' wariness, summed (int64) and capped at `cap`; None where the
    arrays are not of the kernel's dtypes."""
    int64 = np.dtype(np.int64)
    if not (region_start.dtype == offsets.dtype == person.dtype == int64) or person.ndim != 1:
        return None
    if offsets.ndim != 2 or offsets.shape[0] != region_start.size - 1:
        return None
    # each region's offsets taken modulo its size once here, so that the kernel wraps a
    # friend's id by one comparison: a division a friend cost half of the pass (at 10**8
    # people, 150,000 people's friends took 23 ms, and take 12)
    sizes = np.maximum(np.diff(region_start), 1)
    out = np.empty(person.size, dtype=np.int64)
    kernel = _seen_parallel if person.size >= counters.PARALLEL else _seen
    kernel(region_start, offsets % sizes[:, None], wariness, person, np.int64(cap), out)
    return out


@numba.njit(cache=True, nogil=True)
def _lookup(table: Any, row: Any, column: Any, out: Any) -> None:
    width = table.shape[1]
    flat = table.ravel()
    for i in range(row.size):
        at = np.int64(i) if column.size > 1 else np.int64(0)
        out[i] = flat[np.int64(row[i]) * width + np.int64(column[at])]


def lookup(table: np.ndarray, row: np.ndarray, column: Any) -> np.ndarray | None:
    """`table[row, column]` of a C-ordered 2-d table, `row` and `column` integers (`column`
    one, or one per row; not uint64, which NumPy would add to a row as floats); None
    otherwise."""
    if table.ndim != 2 or not table.flags.c_contiguous or type(row) is not np.ndarray:
        return None
    if row.ndim != 1 or row.dtype.kind not in "iu":
        return None
    if isinstance(column, int | np.integer) and not isinstance(column, bool):
        column = np.array([column], dtype=np.int64)
    if type(column) is not np.ndarray or column.ndim != 1 or column.dtype.kind not in "iu":
        return None
    if column.dtype == np.uint64 or row.dtype == np.uint64:
        return None
    if column.size not in (1, row.size):
        return None
    out = np.empty(row.size, dtype=table.dtype)
    _lookup(table, row, column, out)
    return out


@numba.njit(cache=True, nogil=True)
def _grow_wary(wariness: Any, person: Any) -> None:
    for i in range(person.size):
        p = person[i]
        if wariness[p] < 255:
            wariness[p] += 1


def grow_wary(wariness: np.ndarray, person: np.ndarray) -> bool:
    """Add one to each person's wariness for each time they appear in `person`, saturating at
    255: `min(wariness + count, 255)`, which the reference computes from the names sorted and
    counted. One after another on one core (a person may appear twice), each a read and a
    write of a nation's column where the reference sorted a nation's millions of refusals a
    day first. False where the arrays are not of the kernel's dtypes."""
    if wariness.dtype != np.uint8 or person.dtype != np.int64 or person.ndim != 1:
        return False
    _grow_wary(wariness, person)
    return True
