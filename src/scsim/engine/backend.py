"""Array backends: NumPy everywhere, CuPy on an NVIDIA GPU; one algorithm for both.

The pipeline is written once against an array module `xp` (NumPy's API, which CuPy mirrors).
Results are byte-identical across backends because every per-person decision is an integer
comparison or a table lookup (see `scsim.engine.rng`), sums are of integers, and everything with
floating-point subtlety (Poisson counts, threshold tables) runs on the host for both.

    >>> xp = load("numpy")
    >>> plan_on_device = to_device(xp, plan)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from scsim.engine import kernels
from scsim.errors import UserError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

BACKENDS = ("numpy", "numba", "gpu")
D = TypeVar("D", bound="DataclassInstance")


class BackendError(UserError):
    """The backend asked for cannot run on this machine."""


def load(name: str) -> ModuleType:
    """The array module of a backend. `numba` is NumPy with the compiled kernels switched on
    (`scsim.engine.kernels`), `numpy` the reference without them: both write the same bytes."""
    if name in ("numpy", "numba"):
        if name == "numba" and not kernels.available():
            raise BackendError("--backend numba needs Numba (pip install numba); it was not found")
        kernels.switch(name == "numba")
        return np
    kernels.switch(False)
    if name != "gpu":
        raise BackendError(f"unknown backend {name!r}; expected one of: {', '.join(BACKENDS)}")
    try:
        import cupy
    except ImportError:
        raise BackendError(
            "--backend gpu needs CuPy (pip install cupy-cuda12x or "
            "cupy-cuda13x) and an NVIDIA GPU; neither was found"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA raises its own error types when no driver is present
        raise BackendError(f"--backend gpu found no usable NVIDIA GPU ({exc})") from None
    if count == 0:
        raise BackendError("--backend gpu found no NVIDIA GPU")
    return cupy


def gpu_available() -> bool:
    try:
        load("gpu")
    except BackendError:
        return False
    return True


def array_module(array: Any) -> ModuleType:
    """The module an array belongs to (NumPy for NumPy arrays and plain Python values)."""
    if type(array) is np.ndarray:  # most calls: one comparison
        return np
    if type(array).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def to_device(xp: ModuleType, value: D) -> D:
    """A copy of a dataclass with every NumPy array field (and tuples of them) moved to xp."""
    if xp is np:
        return value
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if isinstance(item, np.ndarray):
            changes[field.name] = xp.asarray(item)
        elif isinstance(item, tuple) and item and isinstance(item[0], np.ndarray):
            changes[field.name] = tuple(xp.asarray(x) for x in item)
    return dataclasses.replace(value, **changes)


def to_host(array: Any) -> np.ndarray:
    return array.get() if hasattr(array, "get") else np.asarray(array)


def filled(xp: ModuleType, value: Any, n: int, dtype: Any) -> Any:
    """A column of n: a scalar (or a 0-d array from indexing a table) repeated, or an array
    cast to dtype."""
    if getattr(value, "ndim", 0) == 0:
        return xp.full(n, bool(value) if dtype is np.bool_ else int(value), dtype=dtype)
    return value.astype(dtype, copy=False)


def lookup(xp: ModuleType, table: Any, row: Any, column: Any) -> Any:
    """`table[row, column]` of a 2-d table, as one gather from the flat table: indexing with
    two index arrays costs about three times as much on the day's small arrays."""
    if xp is np and kernels.active():
        compiled = kernels.lookup(table, row, column)
        if compiled is not None:
            return compiled
    return table.ravel()[xp.asarray(row, dtype=np.int64) * table.shape[1] + column]


def host_slices(xp: ModuleType, n: int, chunk: int) -> Iterator[slice]:
    """Slices that cut n elements into blocks of `chunk` on the host, so that each step of an
    elementwise computation reads and writes a block in cache rather than a whole day's array
    (a nation's millions of rows); one slice of all n on other backends, which want it whole."""
    step = chunk if xp is np else max(n, 1)
    return (slice(lo, lo + step) for lo in range(0, n, step))


def stable_argsort(xp: ModuleType, values: Any) -> Any:
    """Indices that sort `values`, equal values kept in their order (CuPy's sort is stable)."""
    if xp is not np:
        return xp.argsort(values)
    packed = _packed_argsort(values)
    return np.argsort(values, kind="stable") if packed is None else packed


PACKED_MIN = 4096
"""Below this many values NumPy's stable argsort is as quick as packing them."""


def _packed_argsort(values: np.ndarray) -> np.ndarray | None:
    """The stable argsort of a 1-d array of wide integers (ids, days) as one plain sort of
    keys `(value - least) << bits | index`: equal values then differ by their index, so the
    sort is the stable order whatever algorithm sorts it, and NumPy sorts plain int64 keys
    with its vectorised sort several times faster than it argsorts them stably (timsort).
    None where the values are few, narrow (NumPy's radix sort is quick for them) or their
    range and index do not fit in 63 bits together."""
    n = values.size
    if n < PACKED_MIN or values.ndim != 1 or values.dtype.kind not in "iu":
        return None
    if values.dtype.itemsize < 4:
        return None
    least, most = int(values.min()), int(values.max())
    bits = max(int(n - 1).bit_length(), 1)
    if most >= 1 << 63 or (most - least) >> (63 - bits):
        return None
    key = values.astype(np.int64) - least if least else values.astype(np.int64, copy=True)
    key <<= bits
    key |= np.arange(n, dtype=np.int64)
    key.sort()
    key &= (1 << bits) - 1
    return key


def unique(xp: ModuleType, values: Any) -> Any:
    """`xp.unique(values)` of a 1-d integer array, as a sort and one comparison: the day's
    arrays are small, and NumPy's general `unique` costs several times more in overhead."""
    ordered = xp.sort(values)
    first = xp.empty(ordered.size, dtype=bool)
    first[:1] = True
    xp.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


# ids looked up at once, and the table they are looked up in, from which they are looked up
# in order (`find_sorted`)
IN_ORDER_FROM = 1 << 10
IN_ORDER_TABLE_FROM = 1 << 16


def find_sorted(xp: ModuleType, values: Any, table: Any) -> tuple[Any, Any]:
    """Where each of `values` is in the sorted, non-empty `table` (a place inside it) and
    whether it is there: by bisection, no sort of both as a general `isin` makes. Rosters are
    sorted by id, so membership of a day's few ids costs a few reads each.

    Many ids in a large table are looked up in their sorted order and the answers put back:
    a bisection of a table far larger than the cache waits on a dozen reads from memory, and
    ids in order share their first steps and walk the table forwards (a million of a day's
    refused among a nation's 15 million locks: 610 ms in their own order, 150 ms sorted
    first, the sort included). The answers do not depend on the order they are found in."""
    if (
        values.size >= IN_ORDER_FROM
        and table.size >= IN_ORDER_TABLE_FROM
        and not bool((values[1:] >= values[:-1]).all())  # (many callers' ids are sorted)
    ):
        order = xp.argsort(values)
        ordered = values[order]
        found_at = xp.minimum(xp.searchsorted(table, ordered), table.size - 1)
        at = xp.empty(values.shape, dtype=found_at.dtype)
        at[order] = found_at
        found = xp.empty(values.shape, dtype=bool)
        found[order] = table[found_at] == ordered
        return at, found
    at = xp.minimum(xp.searchsorted(table, values), table.size - 1)
    return at, table[at] == values


def in_sorted(xp: ModuleType, values: Any, table: Any) -> Any:
    """`xp.isin(values, table)` for a sorted `table`. A day's few released locks or direct
    grades among a nation's 1.4 million grade moves cost a general `isin` a sort of both
    (0.1 s); bisection costs a few reads of the small one."""
    if table.size == 0:
        return xp.zeros(values.shape, dtype=bool)
    return find_sorted(xp, values, table)[1]


def unique_inverse(xp: ModuleType, values: Any) -> tuple[Any, Any]:
    """`xp.unique(values, return_inverse=True)` of a 1-d integer array, by one stable sort:
    the unique values and, for each value, its index among them."""
    order = stable_argsort(xp, values)
    ordered = values[order]
    first = xp.empty(ordered.size, dtype=bool)
    first[:1] = True
    xp.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    inverse = xp.empty(ordered.size, dtype=np.int64)
    inverse[order] = xp.cumsum(first) - 1
    return ordered[first], inverse


def repeat_index(xp: ModuleType, counts: Any) -> Any:
    """`np.repeat(arange(len(counts)), counts)`: that on NumPy (O(total)), a search of the counts'
    running total in operations CuPy also has elsewhere."""
    if xp is np:
        return np.repeat(np.arange(len(counts)), counts)
    ends = xp.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    return xp.searchsorted(ends, xp.arange(total, dtype=ends.dtype), side="right")
