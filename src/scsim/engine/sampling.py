"""Sparse draws of "who, today": O(events) work, never O(people) (docs/architecture.md).

For each stratum s and column x (an event type, a sensor, a service) with expected count
lam[s, x] = people in s x daily rate, draw how many happen (Poisson, on the host), then draw
who, uniformly inside the stratum's id range. By the splitting property of the Poisson process
this is exactly an independent Poisson(rate) count per person. Each draw is identified by its
block (s, x) and its counter inside it, so every later decision about it is keyed on those and
stays the same across backends, shards and scenarios that share the population.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import array_module, host_slices, repeat_index, stable_argsort
from scsim.engine.population import Population
from scsim.engine.rng import CHUNK, Streams, bits, integers

DRAWS_AHEAD = 1 << 15  # draws of one stream made ahead of their day, at most (one day's at least)


@dataclass(frozen=True)
class Draw:
    stratum: np.ndarray  # int64
    column: np.ndarray  # int64
    person: np.ndarray  # int64
    serial: np.ndarray  # uint64: block << 32 | counter, a stable name for this draw

    def __len__(self) -> int:
        return len(self.person)

    def take(self, keep: np.ndarray) -> Draw:
        """The draws where `keep` is true (a mask or indices)."""
        return Draw(self.stratum[keep], self.column[keep], self.person[keep], self.serial[keep])


def each_by_count(xp: ModuleType, key: int, ids: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """`ids`, each repeated by its own Poisson count: the top 32 bits of `bits(key, id)` set
    against `thresholds` (`rng.poisson_thresholds`: the count is how many it reaches). What a
    person draws depends on their id and the key alone, not on who else is drawn. Most draw
    zero (a draw below the first threshold), and only the others are looked up."""
    draw = bits(key, ids) >> np.uint64(32)
    drawing = xp.flatnonzero(draw >= thresholds[0])
    count = xp.searchsorted(thresholds, draw[drawing], side="right")
    return ids[drawing[repeat_index(xp, count)]]


def people_in_strata(
    pop: Population, streams: Streams, stream: str, day: int, lam: np.ndarray
) -> Draw:
    """Draw Poisson(lam[s, x]) people uniformly from each stratum s, for each column x.

    `lam` is a host array (the counts are drawn on the host for every backend); `pop` decides
    where the draws live (its arrays are NumPy or CuPy).
    """
    return people_in_ranges(pop.stratum_start[:-1], pop.stratum_size, streams, stream, day, lam)


def people_in_ranges(
    start: np.ndarray, size: np.ndarray, streams: Streams, stream: str, day: int, lam: np.ndarray
) -> Draw:
    """`people_in_strata` over any id ranges [start[r], start[r] + size[r]) (device arrays):
    the strata, or finer ranges inside them such as income bands; `Draw.stratum` is then the
    range's index."""
    flat = np.asarray(lam, dtype=np.float64).ravel()
    ahead = streams.draws.get(stream)
    if not isinstance(ahead, DrawsAhead) or not ahead.holds(day, flat, start, size):
        ahead = streams.draws[stream] = DrawsAhead.make(streams, stream, day, lam, start, size)
    return ahead.of(day)


class DrawsAhead:
    """The draws of one stream for the next days, made at once: what a day's `people_in_ranges`
    would draw depends only on (seed, stream, day, block, counter), the expected counts and the
    ranges, never on the state, so a run of days costs one pass of NumPy calls instead of one
    each day. Days are added while their draws fit in DRAWS_AHEAD (at least one day), inside
    the days `Counts` drew ahead; new expected counts or ranges start afresh. A day's draws are
    read-only views of the batch."""

    def __init__(
        self,
        first: int,
        lam: np.ndarray,
        start: np.ndarray,
        size: np.ndarray,
        draws: Draw,
        ends: list[int],
    ) -> None:
        self.first, self.lam, self.start, self.size = first, lam, start, size
        self.draws, self.ends = draws, ends

    @classmethod
    def make(
        cls,
        streams: Streams,
        stream: str,
        day: int,
        lam: np.ndarray,
        start: np.ndarray,
        size: np.ndarray,
    ) -> DrawsAhead:
        xp = array_module(start)
        flat = np.asarray(lam, dtype=np.float64).ravel()
        first, counts, keys = streams.counts.ahead(stream, day, flat)
        per_day = counts[day - first :].sum(axis=1)
        days = max(1, int(np.searchsorted(np.cumsum(per_day), DRAWS_AHEAD, side="right")))
        rows = slice(day - first, day - first + days)
        # blocks of every day one after another: day t's block b is t * blocks + b
        draws = _draws_of_counts(
            xp, counts[rows].ravel(), flat.size, lam.shape[1], keys[rows], start, size
        )
        for column in (draws.stratum, draws.column, draws.person, draws.serial):
            if isinstance(column, np.ndarray):
                column.flags.writeable = False  # shared by the days' views
        ends = np.concatenate([[0], np.cumsum(per_day[:days])]).tolist()
        return cls(day, flat.copy(), start.copy(), size.copy(), draws, ends)

    def holds(self, day: int, lam: np.ndarray, start: np.ndarray, size: np.ndarray) -> bool:
        """Whether `day`'s draws for these expected counts and ranges are here."""
        return (
            self.first <= day < self.first + len(self.ends) - 1
            and _same(lam, self.lam)
            and _same(start, self.start)
            and _same(size, self.size)
        )

    def of(self, day: int) -> Draw:
        lo, hi = self.ends[day - self.first], self.ends[day - self.first + 1]
        d = self.draws
        return Draw(d.stratum[lo:hi], d.column[lo:hi], d.person[lo:hi], d.serial[lo:hi])


def _draws_of_counts(
    xp: ModuleType,
    counts: np.ndarray,
    blocks: int,
    width: int,
    keys: np.ndarray,
    start: np.ndarray,
    size: np.ndarray,
) -> Draw:
    """The draws of counts[b] draws of each day-major block b (host counts and keys): one
    kernel with the compiled kernels on, else `_draws` of every draw's block and counter."""
    if kernels.active() and xp is np:
        compiled = kernels.draws_of_counts(counts, blocks, width, keys.ravel(), start, size)
        if compiled is not None:
            return Draw(*compiled)
    at, counter = _blocks_and_counters(xp, counts)
    return _draws(xp, at, counter, blocks, width, xp.asarray(keys.ravel()), start, size)


def _draws(
    xp: ModuleType,
    at: np.ndarray,
    counter: np.ndarray,
    blocks: int,
    width: int,
    keys: np.ndarray,
    start: np.ndarray,
    size: np.ndarray,
) -> Draw:
    """The draws of blocks `at` (day-major: day t's block b is t * blocks + b) and counters
    `counter`: each one's range (stratum), column, person and serial. On the host CHUNK draws
    at a time, so that each step reads and writes a block in cache rather than the whole batch
    (a nation's 12 million requests a day); elementwise, so the same numbers."""
    n = at.size
    stratum = xp.empty(n, dtype=np.int64)
    column = xp.empty(n, dtype=np.int64)
    person = xp.empty(n, dtype=np.result_type(start.dtype, np.int64))
    serial = xp.empty(n, dtype=np.uint64)
    for part in host_slices(xp, n, CHUNK):
        a, c = at[part], counter[part]
        block = a % blocks
        s = block // width
        stratum[part] = s
        column[part] = block - s * width
        person[part] = start[s] + integers(keys[a], c, size[s])
        serial[part] = (block.astype(np.uint64) << np.uint64(32)) | c.astype(np.uint64)
    return Draw(stratum, column, person, serial)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal small arrays (expected counts, ranges), without `array_equal`'s overhead: host
    arrays by their bytes (a tenth of a comparison's cost; arrays equal in value but not in
    bytes, such as 0.0 and -0.0, only make the draws again, the same draws)."""
    if a.shape != b.shape:
        return False
    if type(a) is np.ndarray and type(b) is np.ndarray:
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    return bool((a == b).all())


def uniform_in_ranges(
    counts: np.ndarray, keys: np.ndarray, start: np.ndarray, size: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """counts[b] integers uniform in [start[b], start[b] + size[b]) for each block b, the c-th
    of block b drawn from (keys[b], c): each draw's block, counter and value (device arrays;
    `counts` on the host)."""
    xp = array_module(start)
    block, counter = _blocks_and_counters(xp, counts)
    return block, counter, start[block] + integers(keys[block], counter, size[block])


def _blocks_and_counters(xp: ModuleType, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts[b] draws of each block b: every draw's block and its counter in the block."""
    if xp is np:  # repeats: O(draws), a few times faster than the search below
        block = np.repeat(np.arange(counts.size), counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)  # each draw's block's first draw
        return block, np.arange(block.size, dtype=np.int64) - first
    counts_d = xp.asarray(counts)
    ends = xp.cumsum(counts_d)
    total = int(counts.sum())  # on the host: no device round trip
    block = xp.searchsorted(ends, xp.arange(total, dtype=ends.dtype), side="right")
    counter = xp.arange(total, dtype=np.int64) - (ends - counts_d)[block]
    return block, counter


def region_counters(pop: Population, person: np.ndarray) -> np.ndarray:
    """A counter for each of a day's draws about `person` (requests, refusals) that depends only
    on its region and its rank among that region's, in their order: region << 40 | rank. A
    shard that owns whole regions sees each region's in the single process's order, so it
    names them alike and draws the same for them (`scsim.simulation.shards`)."""
    xp = array_module(person)
    if len(pop.region_start) <= 2:  # one region: region 0, ranks in order
        return xp.arange(len(person), dtype=np.int64)
    if kernels.active() and xp is np:
        compiled = kernels.region_counters(pop.region_start, person)
        if compiled is not None:
            return compiled
    regions = len(pop.region_start) - 1
    region = pop.region_of(person)
    # a stable sort of 1- or 2-byte keys is a radix sort in NumPy: 12 M requests 1.2 -> 0.1 s
    key = np.uint8 if regions <= 2**8 else np.uint16 if regions <= 2**16 else np.int64
    order = stable_argsort(xp, region.astype(key))
    rank = xp.empty_like(order)
    rank[order] = xp.arange(order.size, dtype=order.dtype)
    counts = xp.bincount(region, minlength=regions)
    first = (xp.cumsum(counts) - counts)[region]  # where each region's begin, sorted
    return (region.astype(np.int64) << 40) | (rank - first)
