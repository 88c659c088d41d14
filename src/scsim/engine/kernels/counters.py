"""The counter-based generator of `scsim.engine.rng`, compiled: a hash and what is made of it
(bits, a uniform, an integer in a range, an acceptance) in one pass per element.

Each function computes, for element i, exactly the NumPy reference's value: SplitMix64's
finaliser of counter * GOLDEN + key in wrapping uint64 arithmetic; a uniform as the top 53 bits
over 2**53; an integer as that uniform times float64(n), truncated; an acceptance as the top 32
bits below a uint64 threshold. Every constant is a uint64, so no operation mixes signed and
unsigned integers (which Numba, like NumPy, would carry out in float64).

Arrays of at least PARALLEL elements are cut over the machine's threads (`prange`), each
element computed alone, so the result does not depend on the number of threads; smaller
ones run on one thread, where starting the others would cost more than the work.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

PARALLEL = 1 << 20  # elements from which the threads share the work

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31, _S32 = (np.uint64(n) for n in (11, 27, 30, 31, 32))
_TWO_53 = float(1 << 53)

jit = numba.njit(cache=True, nogil=True)
jit_parallel = numba.njit(cache=True, nogil=True, parallel=True)


@numba.njit(cache=True, inline="always")
def region_counter(region_start: Any, seen: Any, r: Any, p: Any) -> tuple[Any, Any]:
    """The next of a day's draws about person `p` in order (`sampling.region_counters`: its
    region << 40 | its rank among the region's), and the region, found from `r` (the last
    one's: a day's draws come in runs of a region); `seen` counts each region's so far."""
    if not region_start[r] <= p < region_start[r + 1]:
        r = np.searchsorted(region_start[1 : region_start.size - 1], p, "right")
    counter = (np.int64(r) << 40) | seen[r]
    seen[r] += 1
    return counter, r


@numba.njit(cache=True, inline="always")
def hash64(counter: Any, key: Any) -> Any:
    """SplitMix64's finaliser of counter * GOLDEN + key (uint64, wrapping)."""
    x = np.uint64(counter) * _GOLDEN + np.uint64(key)
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@numba.njit(cache=True, inline="always")
def _at(values: Any, i: int) -> Any:
    """values[i], or its one value where it holds one (a scalar broadcast)."""
    return values[np.int64(i) if values.size > 1 else np.int64(0)]  # one index type


@numba.njit(cache=True, inline="always")
def _uniform_at(keys: Any, counters: Any, i: int) -> float:
    return np.float64(hash64(counters[i], _at(keys, i)) >> _S11) / _TWO_53


@jit
def _bits(keys: Any, counters: Any, out: Any) -> None:
    for i in range(counters.size):
        out[i] = hash64(counters[i], _at(keys, i))


@jit_parallel
def _bits_parallel(keys: Any, counters: Any, out: Any) -> None:
    for i in numba.prange(counters.size):
        out[i] = hash64(counters[i], _at(keys, i))


@jit
def _uniform(keys: Any, counters: Any, out: Any) -> None:
    for i in range(counters.size):
        out[i] = _uniform_at(keys, counters, i)


@jit_parallel
def _uniform_parallel(keys: Any, counters: Any, out: Any) -> None:
    for i in numba.prange(counters.size):
        out[i] = _uniform_at(keys, counters, i)


@jit
def _integers(keys: Any, counters: Any, n: Any, out: Any) -> None:
    for i in range(counters.size):
        out[i] = np.int64(_uniform_at(keys, counters, i) * np.float64(_at(n, i)))


@jit_parallel
def _integers_parallel(keys: Any, counters: Any, n: Any, out: Any) -> None:
    for i in numba.prange(counters.size):
        out[i] = np.int64(_uniform_at(keys, counters, i) * np.float64(_at(n, i)))


@jit
def _accept(keys: Any, counters: Any, thresholds: Any, out: Any) -> None:
    for i in range(counters.size):
        out[i] = (hash64(counters[i], _at(keys, i)) >> _S32) < _at(thresholds, i)


@jit_parallel
def _accept_parallel(keys: Any, counters: Any, thresholds: Any, out: Any) -> None:
    for i in numba.prange(counters.size):
        out[i] = (hash64(counters[i], _at(keys, i)) >> _S32) < _at(thresholds, i)


KERNELS: dict[str, tuple[Any, Any]] = {  # each as one thread, and over the threads
    "bits": (_bits, _bits_parallel),
    "uniform": (_uniform, _uniform_parallel),
    "integers": (_integers, _integers_parallel),
    "accept": (_accept, _accept_parallel),
}
OUT = {"bits": np.uint64, "uniform": np.float64, "integers": np.int64, "accept": np.bool_}


def _column(value: Any, size: int, dtype: type[np.generic]) -> np.ndarray | None:
    """`value` as a 1-d array of `dtype` of one element (a scalar) or of `size`; None where it
    is neither (a broadcast the kernels do not do) or of another dtype (NumPy's promotion would
    then be the reference's, not ours)."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        if dtype is np.uint64:
            return np.array([int(value) & ((1 << 64) - 1)], dtype=np.uint64)
        return np.array([value], dtype=dtype)
    if type(value) is not np.ndarray or value.dtype != dtype:
        return None
    if value.ndim == 0 or value.size == 1:
        return value.reshape(1)
    return value if value.ndim == 1 and value.size == size else None


def elementwise(name: str, key: Any, counters: np.ndarray, *args: Any) -> np.ndarray | None:
    """The kernel `name` of (key, counters, *args), or None (see `scsim.engine.kernels`)."""
    if counters.ndim != 1 or counters.dtype.kind not in "iu":
        return None
    n = counters.size
    keys = _column(key, n, np.uint64)
    extra = [_column(a, n, np.uint64 if name == "accept" else np.int64) for a in args]
    if keys is None or any(e is None for e in extra):
        return None
    out: np.ndarray = np.empty(n, dtype=OUT[name])
    serial, parallel = KERNELS[name]
    kernel: Any = parallel if n >= PARALLEL else serial
    kernel(keys, counters, *extra, out)
    return out
