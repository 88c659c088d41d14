"""The score stage's points, compiled (`scsim.engine.components.score._apply_points`): each
person's deltas of the day summed, added to their score clipped to the scale, and the part that
false records contributed added to their false points, in one pass over the rows sorted by
person, where the reference builds the unique people, an inverse, two float64 bincounts and
three gathers and scatters of a nation's columns. Sums of integers: the same whatever order the
rows of one person come in. Serial: one person's rows are summed by one thread, and the rows
are few (a nation's day has a few million).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

INT16_MIN, INT16_MAX = -32768, 32767


@numba.njit(cache=True, nogil=True)
def _apply(
    order: Any, person: Any, delta: Any, truth: Any, score: Any, false_points: Any,
    low: Any, high: Any, touched: Any,
) -> Any:  # fmt: skip
    """Rows `order` (sorted by person) applied; the people in `touched`; their count and the
    change of the score's sum."""
    n, moved, i, k = 0, np.int64(0), 0, order.size
    while i < k:
        p = person[order[i]]
        total, false = np.int64(0), np.int64(0)
        while i < k and person[order[i]] == p:
            row = order[i]
            total += np.int64(delta[row])
            if not truth[row]:
                false += np.int64(delta[row])
            i += 1
        old = np.int64(score[p])
        new = min(max(old + total, low), high)
        score[p] = new
        moved += new - old
        held = min(max(np.int64(false_points[p]) + false, INT16_MIN), INT16_MAX)
        false_points[p] = held
        touched[n] = p
        n += 1
    return n, moved


def apply_points(
    order: np.ndarray,
    person: np.ndarray,
    delta: np.ndarray,
    truth: np.ndarray,
    score: np.ndarray,
    false_points: np.ndarray,
    low: int,
    high: int,
) -> tuple[np.ndarray, int] | None:
    """(the people whose points were applied, sorted; the change of the score's sum), the
    columns updated in place; None where the arrays are not the
    reference's dtypes (int16 columns, int64 people)."""
    if person.dtype != np.int64 or truth.dtype != np.bool_:
        return None
    if not (score.dtype == false_points.dtype == np.dtype(np.int16)):
        return None
    if delta.dtype.kind != "i":
        return None
    touched = np.empty(person.size, dtype=np.int64)
    n, moved = _apply(
        order, person, delta, truth, score, false_points, np.int64(low), np.int64(high), touched
    )
    return touched[:n], int(moved)
