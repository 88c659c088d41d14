"""Sparse draws of "who, today": O(events) work, never O(people) (DESIGN.md).

For each stratum s and column x (an event type, a sensor, a service) with expected count
lam[s, x] = people in s x daily rate, draw how many happen (Poisson, on the host), then draw
who, uniformly inside the stratum's id range. By the splitting property of the Poisson process
this is exactly an independent Poisson(rate) count per person. Each draw is identified by its
block (s, x) and its counter inside it, so every later decision about it is keyed on those and
stays the same across backends, shards and scenarios that share the population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scsim.backend import array_module, repeat_index
from scsim.population import Population
from scsim.rng import Streams, integers


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
    xp = array_module(start)
    flat = np.asarray(lam, dtype=np.float64).ravel()
    counts = streams.counts.get(stream, day, flat)
    counts_d = xp.asarray(counts)
    block = repeat_index(xp, counts_d)
    counter = xp.arange(block.size, dtype=np.int64) - (xp.cumsum(counts_d) - counts_d)[block]
    stratum, column = block // lam.shape[1], block % lam.shape[1]
    keys = streams.keys(stream, day, xp.arange(flat.size, dtype=np.int64))[block]
    person = start[stratum] + integers(keys, counter, size[stratum])
    serial = (block.astype(np.uint64) << np.uint64(32)) | counter.astype(np.uint64)
    return Draw(stratum=stratum, column=column, person=person, serial=serial)
