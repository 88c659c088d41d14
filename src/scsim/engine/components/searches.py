"""A sensor's daily capacity: how many records it can make in a day (docs/sources.md, cameras: "a
search can look for at most about a thousand people and the system cannot run
continuously", 004).

A sensor with `daily_capacity_per_million` keeps at most that many of the day's records per
million people simulated (a count per head: a cap of 100,000 a day would never bind at 100,000
people and would bind hard at 1.4 billion) and misses the rest, a uniform choice among the
day's records made in two steps that need nothing from other regions but their counts, so that
shards owning whole regions make it as one process does (`scsim.simulation.shards`):

1. split - the cap is dealt over the regions as a uniform draw of that many records would
           deal it: a multivariate hypergeometric draw from the regions' counts alone, one
           keyed hypergeometric draw per region in region order (`Capacity.shares`);
2. keep   - each region keeps its share of its records, those of lowest random rank, keyed
           on each record's region and rank among the region's (`region_counters`).

The records over capacity are counted per sensor (`<sensor>_over_capacity`).

    >>> capacity = Capacity.of(scenario)               # None without a capped sensor
    >>> Search(capacity)                               # the barrier: after observe, before inform
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import stable_argsort, to_host
from scsim.engine.components.observe import Records
from scsim.engine.components.outcome import Outcome
from scsim.engine.day import Barrier, Flow
from scsim.engine.rng import Streams, bits, hypergeometric
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context

REGION_BLOCK = 1 << 20  # a split's block: sensor index x REGION_BLOCK + region (fewer regions)


@dataclass(frozen=True)
class Capacity:
    """The capped sensors, and the split of their caps over the regions (`shares`)."""

    limits: tuple[tuple[int, str, float], ...]  # (sensor index, name, records a day on average)

    @classmethod
    def of(cls, s: Scenario) -> Capacity | None:
        sensors, size = s.surveillance.sensors.items(), s.population.size
        limits = tuple(
            (k, name, x.daily_capacity_per_million * size / 1e6)
            for k, (name, x) in enumerate(sensors)
            if x.daily_capacity_per_million is not None
        )
        return cls(limits) if limits else None

    @staticmethod
    def on(day: int, per_day: float) -> int:
        """Records a capped sensor may keep on `day`: whole numbers that add up to `per_day`
        a day over any run of days (1.42 a day: 1, 1, 2, 1, 2, ...), not a rounded count that
        would lose or add a third of the cap in a small run."""
        return math.floor(per_day * (day + 1)) - math.floor(per_day * day)

    def shares(self, streams: Streams, day: int, counts: np.ndarray) -> np.ndarray:
        """How many records each region keeps, per capped sensor, from every region's counts:
        all of them under the cap, else the cap dealt as a uniform draw of that many records
        would deal it (host; the same in one process and in a sharded run's driver)."""
        shares = counts.copy()
        for j, (k, _, per_day) in enumerate(self.limits):
            limit = self.on(day, per_day)
            left, rest = limit, int(counts[j].sum())
            if rest <= limit:
                continue
            for r, count in enumerate(counts[j].tolist()):
                key = streams.key("capacity-split", day, k * REGION_BLOCK + r)
                shares[j, r] = hypergeometric(key, count, rest - count, left)
                left, rest = left - int(shares[j, r]), rest - count
        return shares


@dataclass(frozen=True)
class Searched:
    """The day's records of each capped sensor (`mine`), their regions, and the counts per
    capped sensor and region (host; a shard's: zero outside its own regions)."""

    mine: list[np.ndarray]
    region: list[np.ndarray]
    counts: np.ndarray


def count_searched(ctx: Context, capacity: Capacity, records: Records) -> Searched:
    xp, pop, regions = ctx.xp, ctx.params.pop, len(ctx.params.host_pop.region_names)
    mine = [xp.flatnonzero(records.sensor == k) for k, _, _ in capacity.limits]
    region = [pop.region_of(records.person[m]) for m in mine]
    counts = to_host(xp.stack([xp.bincount(r, minlength=regions) for r in region]))
    return Searched(mine, region, counts.astype(np.int64))


def keep_searched(
    ctx: Context,
    day: int,
    capacity: Capacity,
    records: Records,
    searched: Searched,
    shares: np.ndarray,
) -> Outcome[Records]:
    """Keep each region's share of the capped sensors' records, by rank. `shares` may be the
    whole run's: a region this process does not step has no records, and keeps none."""
    xp, counts = ctx.xp, searched.counts
    shares = np.minimum(shares, counts)
    keep = xp.ones(len(records), dtype=bool)
    metrics = {}
    for j, (k, name, _) in enumerate(capacity.limits):
        over = int(counts[j].sum() - shares[j].sum())
        metrics[f"{name}_over_capacity"] = over
        if over:
            key = ctx.streams.key("capacity", day, k)
            kept = lowest_ranks(xp, key, searched.region[j], counts[j], shares[j])
            keep[searched.mine[j][~kept]] = False
    return Outcome(records.take(keep), metrics)


def lowest_ranks(
    xp: ModuleType, key: int, region: np.ndarray, counts: np.ndarray, shares: np.ndarray
) -> np.ndarray:
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


def order_in_region(xp: ModuleType, region: np.ndarray) -> np.ndarray:
    """Each entry's place among those of its region, in their order."""
    order = stable_argsort(xp, region)
    place = xp.empty_like(order)
    place[order] = xp.arange(order.size, dtype=order.dtype)
    return place - xp.searchsorted(region[order], region)


class Search(Barrier):
    """A sensor with a daily capacity keeps that many of the day's records, nationwide: the
    cap is dealt over the regions from every region's count (a barrier: a sharded run's
    driver deals it from all the shards' counts), then each region keeps its share by rank."""

    name, stage = "search", "observe"
    reads = ("surveillance.sensors.<sensor>.daily_capacity_per_million",)
    writes = ("<sensor>_over_capacity",)

    def __init__(self, capacity: Capacity) -> None:
        self.capacity = capacity

    def ask(self, ctx: Context, day: int, flow: Flow) -> np.ndarray:
        assert flow.records is not None
        flow.searched = count_searched(ctx, self.capacity, flow.records)
        return flow.searched.counts

    def settle(self, ctx: Context, day: int, totals: np.ndarray) -> np.ndarray:
        return self.capacity.shares(ctx.streams, day, totals)

    def answer(self, ctx: Context, day: int, flow: Flow, answer: np.ndarray) -> None:
        assert flow.records is not None
        kept = keep_searched(ctx, day, self.capacity, flow.records, flow.searched, answer)
        flow.records = kept.value
        flow.columns.update(kept.metrics)
