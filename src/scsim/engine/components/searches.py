"""A sensor's daily capacity: how many records it can make in a day (SYSTEM.md, cameras: "a
search can look for at most about a thousand people and the system cannot run
continuously", 004).

A sensor with `daily_capacity` keeps at most that many of the day's records taking effect and
misses the rest, a uniform choice among the day's records made in two steps that need nothing
from other regions but their counts, so that shards owning whole regions make it as one
process does (`scsim.simulation.shards`):

1. split - the cap is dealt over the regions as a uniform draw of that many records would
           deal it: a multivariate hypergeometric draw from the regions' counts alone, one
           keyed hypergeometric draw per region in region order (`Capacity.shares`);
2. keep   - each region keeps its share of its records, those of lowest random rank, keyed
           on each record's region and rank among the region's (`region_counters`).

The records over capacity are counted per sensor (`<sensor>_over_capacity`).

    >>> capacity = Capacity.of(scenario)               # None without a capped sensor
    >>> searched = search(model, day, records)         # after observe, before informants
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scsim.engine.backend import stable_argsort, to_host
from scsim.engine.components.observe import Records
from scsim.engine.components.outcome import Outcome
from scsim.engine.rng import Streams, bits, hypergeometric
from scsim.scenario.schema import Scenario

REGION_BLOCK = 1 << 20  # a split's block: sensor index x REGION_BLOCK + region (fewer regions)


@dataclass(frozen=True)
class Capacity:
    """The capped sensors, and the split of their caps over the regions (`shares`)."""

    limits: tuple[tuple[int, str, int], ...]  # (sensor index, name, records a day)

    @classmethod
    def of(cls, s: Scenario) -> Capacity | None:
        sensors = s.surveillance.sensors.items()
        limits = tuple(
            (k, name, x.daily_capacity)
            for k, (name, x) in enumerate(sensors)
            if x.daily_capacity is not None
        )
        return cls(limits) if limits else None

    def shares(self, streams: Streams, day: int, counts: np.ndarray) -> np.ndarray:
        """How many records each region keeps, per capped sensor, from every region's counts:
        all of them under the cap, else the cap dealt as a uniform draw of that many records
        would deal it (host; the same in one process and in a sharded run's driver)."""
        shares = counts.copy()
        for j, (k, _, limit) in enumerate(self.limits):
            left, rest = limit, int(counts[j].sum())
            if rest <= limit:
                continue
            for r, count in enumerate(counts[j].tolist()):
                key = streams.key("capacity-split", day, k * REGION_BLOCK + r)
                shares[j, r] = hypergeometric(key, count, rest - count, left)
                left, rest = left - int(shares[j, r]), rest - count
        return shares


def search(model, day: int, records: Records) -> Outcome[Records]:  # type: ignore[no-untyped-def]
    capacity = model.mechanisms.capacity
    if capacity is None:
        return Outcome(records)
    xp, pop, regions = model.xp, model.pop, len(model.host_pop.region_names)
    mine = [xp.flatnonzero(records.sensor == k) for k, _, _ in capacity.limits]
    region = [pop.region_of(records.person[m]) for m in mine]
    # the day's records of each capped sensor per region (a shard's: zero outside its own)
    counts = to_host(xp.stack([xp.bincount(r, minlength=regions) for r in region]))
    counts = counts.astype(np.int64)
    shares = capacity.shares(model.streams, day, counts)
    keep = xp.ones(len(records), dtype=bool)
    metrics = {}
    for j, (k, name, _) in enumerate(capacity.limits):
        over = int(counts[j].sum() - shares[j].sum())
        metrics[f"{name}_over_capacity"] = over
        if over:
            key = model.streams.key("capacity", day, k)
            keep[mine[j][~lowest_ranks(xp, key, region[j], counts[j], shares[j])]] = False
    return Outcome(records.take(keep), metrics)


def lowest_ranks(xp, key: int, region, counts: np.ndarray, shares: np.ndarray):  # type: ignore[no-untyped-def]
    """Whether each record (in `region`, `counts` a region on the host) is among the
    `shares[region]` of its region with the lowest random ranks. A rank is keyed on the
    record's region and place among the region's records (`region_counters`' counter), so a
    shard ranks its regions' records as one process does; ranks that tie at the cut (about
    one day in 2**40 at national scale) go to the earlier record."""
    start = xp.asarray(np.cumsum(counts) - counts)
    narrow = np.int16 if counts.size < 2**15 else np.int64  # int16: a radix sort, O(records)
    order = stable_argsort(xp, region.astype(narrow))
    place = xp.empty_like(order)
    place[order] = xp.arange(order.size, dtype=order.dtype) - start[region[order]]
    shift = np.uint64(max(int(counts.size - 1).bit_length(), 1))  # the region's bits on top
    rank = (region.astype(np.uint64) << (np.uint64(64) - shift)) | (
        bits(key, (region.astype(np.int64) << 40) | place) >> shift
    )
    full = xp.asarray(shares >= counts)
    cut_at = np.minimum(np.cumsum(counts) - counts + shares, max(int(counts.sum()) - 1, 0))
    cut = xp.sort(rank)[xp.asarray(cut_at)]  # each region's first rank not kept
    kept = (rank < cut[region]) | full[region]
    short = xp.asarray(shares) - xp.bincount(region[kept], minlength=counts.size)
    if bool((short > 0).any()):  # ties at the cut: the earliest of them, in record order
        tied = xp.flatnonzero((rank == cut[region]) & ~kept)
        first = order_in_region(xp, region[tied])
        kept[tied[first < short[region[tied]]]] = True
    return kept


def order_in_region(xp, region):  # type: ignore[no-untyped-def]
    """Each entry's place among those of its region, in their order."""
    order = stable_argsort(xp, region)
    place = xp.empty_like(order)
    place[order] = xp.arange(order.size, dtype=order.dtype)
    return place - xp.searchsorted(region[order], region)
