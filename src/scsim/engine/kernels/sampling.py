"""`scsim.engine.sampling`'s draws of "who, today", compiled: each draw's stratum, column,
person and serial from its block and counter in one pass, instead of a chain of temporaries
per block of draws. Element by element the reference's arithmetic (`sampling._draws`): the
block of the day-major index, its stratum and column, the person as the stratum's first id
plus an integer drawn below its size (`rng.integers`), and the serial block << 32 | counter.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from scsim.engine.kernels import counters
from scsim.engine.kernels.counters import _S11, _S32, _TWO_53, hash64


@numba.njit(cache=True, inline="always")
def _block_at(
    b: Any, counts: Any, first: Any, blocks: Any, width: Any, keys: Any, start: Any, size: Any,
    stratum: Any, column: Any, person: Any, serial: Any,
) -> None:  # fmt: skip
    block = b % blocks
    s = block // width
    col = block - s * width
    key, lo, low, span = keys[b], first[b], start[s], np.float64(size[s])
    named = np.uint64(block) << _S32
    for c in range(counts[b]):
        i = lo + c
        stratum[i] = s
        column[i] = col
        u = np.float64(hash64(c, key) >> _S11) / _TWO_53
        person[i] = low + np.int64(u * span)
        serial[i] = named | np.uint64(c)


@numba.njit(cache=True, nogil=True)
def _of_counts(
    counts: Any, first: Any, blocks: Any, width: Any, keys: Any, start: Any, size: Any,
    stratum: Any, column: Any, person: Any, serial: Any,
) -> None:  # fmt: skip
    for b in range(counts.size):
        _block_at(
            b, counts, first, blocks, width, keys, start, size, stratum, column, person, serial
        )


@numba.njit(cache=True, nogil=True, parallel=True)
def _of_counts_parallel(
    counts: Any, first: Any, blocks: Any, width: Any, keys: Any, start: Any, size: Any,
    stratum: Any, column: Any, person: Any, serial: Any,
) -> None:  # fmt: skip
    for b in numba.prange(counts.size):
        _block_at(
            b, counts, first, blocks, width, keys, start, size, stratum, column, person, serial
        )


def draws_of_counts(
    counts: np.ndarray,
    blocks: int,
    width: int,
    keys: np.ndarray,
    start: np.ndarray,
    size: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The draws of counts[b] draws of each day-major block b (counters 0, 1, ...): what
    `draws` gives for `sampling._blocks_and_counters(counts)`, without making those arrays;
    None where the dtypes are not the kernel's. Blocks are shared over the threads, each
    writing its own draws' slots."""
    int64 = np.dtype(np.int64)
    if not (counts.dtype == start.dtype == size.dtype == int64 and keys.dtype == np.uint64):
        return None
    first = np.cumsum(counts) - counts
    n = int(first[-1] + counts[-1]) if counts.size else 0
    stratum, column, person = (np.empty(n, dtype=np.int64) for _ in range(3))
    serial = np.empty(n, dtype=np.uint64)
    kernel = _of_counts_parallel if n >= counters.PARALLEL else _of_counts
    kernel(counts, first, np.int64(blocks), np.int64(width), keys, start, size,
           stratum, column, person, serial)  # fmt: skip
    return stratum, column, person, serial


@numba.njit(cache=True, nogil=True)
def _region_ranks(region_start: Any, person: Any, out: Any) -> None:
    regions = region_start.size - 1
    seen = np.zeros(regions, dtype=np.int64)
    r = 0
    for i in range(person.size):
        p = person[i]
        if not region_start[r] <= p < region_start[r + 1]:  # else: the last one's region
            lo, hi = 0, regions  # the last region starting at or before p (searchsorted)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if region_start[mid] <= p:
                    lo = mid
                else:
                    hi = mid
            r = lo
        out[i] = (np.int64(r) << 40) | seen[r]
        seen[r] += 1


def region_counters(region_start: np.ndarray, person: np.ndarray) -> np.ndarray | None:
    """`sampling.region_counters` (region << 40 | rank among the region's, in order) by one
    pass that counts as it goes, instead of a stable sort; None where the dtypes are not the
    kernel's."""
    if region_start.dtype != np.int64 or person.dtype != np.int64 or person.ndim != 1:
        return None
    out = np.empty(person.size, dtype=np.int64)
    _region_ranks(region_start, person, out)
    return out
