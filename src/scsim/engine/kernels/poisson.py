"""Poisson counts, compiled: `scsim.engine.rng.poisson_many` in one call, draw for draw.

A day's counts are a few hundred means (a service's requests per region and list, a stratum's
events), and NumPy's vectorised draws spend most of their time in their own calls: a round of
PTRS is a dozen of them over the draws still rejected, and a third of its draws leave for the
host's libm one by one. Here each draw runs its own loop to the end, as `rng.poisson` does:
inversion below a mean of 10 (the same products and sums), Hörmann's PTRS above (the same
arithmetic in the same order, its logarithms and log-gamma on the same libm through LLVM's
calls, no fused multiply-adds), so the counts equal the reference's on any number of draws.
The loop over draws holds a loop of its own per draw, which keeps LLVM from vectorising the
logarithms with another library's rounding.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from scsim.engine.kernels.counters import hash64, jit

_S11 = np.uint64(11)
_TWO_53 = float(1 << 53)
MOST_STEPS = 1000  # inversion's steps, at most (as `rng._poisson_inversion`)


@numba.njit(cache=True, inline="always")
def _uniform(key: Any, counter: int) -> float:
    return np.float64(hash64(np.uint64(counter), key) >> _S11) / _TWO_53


@numba.njit(cache=True)
def _inversion(key: Any, lam: float) -> int:
    u = _uniform(key, 0)
    k = 0
    p = math.exp(-lam)
    cdf = p
    while u > cdf and k < MOST_STEPS:
        k += 1
        p *= lam / k
        cdf += p
    return k


@numba.njit(cache=True)
def _ptrs(key: Any, lam: float) -> int:
    b = 0.931 + 2.53 * math.sqrt(lam)
    a = -0.059 + 0.02483 * b
    vr = 0.9277 - 3.6224 / (b - 2)
    counter = 0
    while True:
        u = _uniform(key, counter) - 0.5
        v = _uniform(key, counter + 1)
        counter += 2
        us = 0.5 - abs(u)
        if us == 0.0:  # u = -0.5 exactly: rejected, as NumPy's C code does
            continue
        k = math.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        if v == 0.0 or math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= (
            -lam + k * math.log(lam) - math.lgamma(k + 1)
        ):
            return k


@numba.njit(cache=True, inline="always")
def poisson_one(key: Any, lam: float) -> int:
    """`rng.poisson(key, lam)`: inversion below 10, PTRS above."""
    if 0.0 < lam < 10.0:
        return _inversion(key, lam)
    if lam >= 10.0:
        return _ptrs(key, lam)
    return 0  # none, or not a number (as the reference: neither of its two ranges)


@jit
def _poisson_many(keys: Any, lam: Any, out: Any) -> None:
    for i in range(lam.size):
        out[i] = poisson_one(keys[i], lam[i])


def poisson_many(keys: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """`rng.poisson(keys[i], lam[i])` for every i (uint64 keys, float64 means)."""
    out = np.empty(lam.size, dtype=np.int64)
    _poisson_many(np.ascontiguousarray(keys, dtype=np.uint64), np.ascontiguousarray(lam), out)
    return out
