"""`scsim.engine.state.Roster`'s merge and split, compiled: all five columns in one pass.

A roster changes most days (members enter, leave, comply), and NumPy rebuilds it column by
column: per column an empty array and a scatter and a masked copy to merge, two masked copies
to split, each a call and a pass of its own. A nation's locks are 15 million members, so
each pass is 15 million elements; a fit's court list twenty thousand, where the calls
themselves are the cost. A day's entries and exits are few against the members, so here the
members between two of them are copied as one run (a block copy per column), in one call.

The merge is the reference's order exactly: a new member goes after every member already
here with an equal or lower id (`searchsorted(side="right")`), the new ones in their order.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from scsim.engine.kernels.counters import jit


@numba.njit(cache=True, inline="always")
def _copy(out: Any, at: int, column: Any, lo: int, hi: int) -> None:
    """column[lo:hi] into out[at:], a plain loop over two views (a slice assignment checks for
    overlap and may copy through a temporary; an index `at + t` is checked for wrapping each
    time, which keeps the loop from being vectorised)."""
    source, target = column[lo:hi], out[at : at + hi - lo]
    for t in range(source.size):
        target[t] = source[t]


@numba.njit(cache=True, inline="always")
def _run(out: Any, at: int, columns: Any, lo: int, hi: int) -> None:
    """Rows lo..hi of a roster's five columns (a tuple) into `out`'s five from row `at`."""
    _copy(out[0], at, columns[0], lo, hi)
    _copy(out[1], at, columns[1], lo, hi)
    _copy(out[2], at, columns[2], lo, hi)
    _copy(out[3], at, columns[3], lo, hi)
    _copy(out[4], at, columns[4], lo, hi)


@numba.njit(cache=True, inline="always")
def _row(out: Any, at: int, columns: Any, i: int) -> None:
    """Row i of a roster's five columns into `out`'s row `at`."""
    out[0][at], out[1][at], out[2][at] = columns[0][i], columns[1][i], columns[2][i]
    out[3][at], out[4][at] = columns[3][i], columns[4][i]


@jit
def _merge(old: Any, new: Any, out: Any) -> None:
    """`old` and `new` (each a roster's five columns, a tuple) merged into `out`."""
    ids, new_ids = old[0], new[0]
    i, k = 0, 0  # read in the old columns, written in the new
    for j in range(new_ids.size + 1):
        # the old members up to the new one's place (after equal ids; the rest after the
        # last new one) as one run of copies
        stop = ids.size if j == new_ids.size else i + np.searchsorted(ids[i:], new_ids[j], "right")
        _run(out, k, old, i, stop)
        k += stop - i
        i = stop
        if j < new_ids.size:
            _row(out, k, new, j)
            k += 1


@jit
def _split(gone_at: Any, columns: Any, kept: Any, gone: Any, in_place: bool) -> None:
    """`columns` (a roster's five, a tuple) into the rows `gone_at` and the rest, `kept` (the
    columns themselves where `in_place`: the rows before the first taken stay where they are)."""
    i, k = 0, 0  # read, written
    for g in range(gone_at.size + 1):
        # the members kept before the one taken (all the rest after the last) as one run
        stop = columns[0].size if g == gone_at.size else gone_at[g]
        if not (in_place and k == i):
            _run(kept, k, columns, i, stop)
        k += stop - i
        if g < gone_at.size:
            _row(gone, g, columns, stop)
        i = stop + 1


def merge(
    columns: dict[str, np.ndarray], new: dict[str, np.ndarray], names: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """The roster's `columns` with the `new` members merged in (both sorted by id; the new
    ones' columns already of the roster's dtypes), as new arrays."""
    size = columns[names[0]].size + new[names[0]].size
    out = {name: np.empty(size, dtype=columns[name].dtype) for name in names}
    _merge(*(tuple(d[n] for n in names) for d in (columns, new, out)))
    return out


def split(
    columns: dict[str, np.ndarray], mask: np.ndarray, names: tuple[str, ...], in_place: bool
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The rows where `mask` is false and those where it is true, in the roster's order: the
    taken as new arrays, the kept as new arrays or (`in_place`) moved up in the columns' own
    (returned as views of their first rows: the rows before the first taken are not copied at
    all). Few are taken on a day (a roster's exits, its compliers), so the kept ones are
    copied in runs between them. In place, each row is written at or before where it was
    read, and the row taken is read before the run before it is written."""
    gone_at = np.flatnonzero(mask)
    size = mask.size - gone_at.size
    kept = columns if in_place else {n: np.empty(size, dtype=columns[n].dtype) for n in names}
    gone = {n: np.empty(gone_at.size, dtype=columns[n].dtype) for n in names}
    column, into, out = (tuple(d[n] for n in names) for d in (columns, kept, gone))
    _split(gone_at, column, into, out, in_place)
    return {n: kept[n][:size] for n in names}, gone


@jit
def _resorted(ids: Any, moved: Any, joins: Any, out: Any) -> int:
    i, k = 0, 0  # read in ids, written in out
    for j in range(moved.size + 1):
        # the ids before the next moved one (all the rest after the last) as one run
        stop = ids.size if j == moved.size else i + np.searchsorted(ids[i:], moved[j])
        _copy(out, k, ids, i, stop)
        k += stop - i
        i = stop
        if j < moved.size:
            if i < ids.size and ids[i] == moved[j]:  # here before: leaves (or stays, below)
                i += 1
            if joins[j]:
                out[k] = moved[j]
                k += 1
    return k


def resorted(ids: np.ndarray, moved: np.ndarray, joins: np.ndarray) -> np.ndarray:
    """A grade's roster (sorted distinct `ids`) after the `moved` ids (sorted, distinct) left
    it, and those of them where `joins` is true joined it, in one pass."""
    out = np.empty(ids.size + int(np.count_nonzero(joins)), dtype=np.int64)
    return out[: _resorted(ids, moved, joins, out)]
