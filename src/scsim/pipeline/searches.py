"""A sensor's daily capacity: how many records it can make in a day (SYSTEM.md, cameras: "a
search can look for at most about a thousand people and the system cannot run
continuously", 004).

A sensor with `daily_capacity` keeps at most that many of the day's records taking effect and
misses the rest, a uniform choice among the day's records made in two steps that need nothing
from other regions but their counts, so that shards owning whole regions make it as one
process does (`scsim.distributed.shards`):

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

from scsim.backend import stable_argsort, to_host
from scsim.pipeline.observe import Records
from scsim.pipeline.outcome import Outcome
from scsim.rng import Streams, bits, hypergeometric
from scsim.sampling import region_counters
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
    shares = capacity.shares(model.streams, day, counts.astype(np.int64))
    keep = xp.ones(len(records), dtype=bool)
    metrics = {}
    for j, (k, name, _) in enumerate(capacity.limits):
        over = int(counts[j].sum() - shares[j].sum())
        metrics[f"{name}_over_capacity"] = over
        if over:
            kept = _lowest_ranks(model, day, k, records.person[mine[j]], region[j], shares[j])
            keep[mine[j][~kept]] = False
    return Outcome(records.take(keep), metrics)


def _lowest_ranks(model, day, k, person, region, shares) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Whether each record (of `person`, in `region`) is among the `shares[region]` of its
    region with the lowest random ranks, the ranks keyed on the record's region and rank among
    the region's records, so that a shard ranks its regions' records as one process does."""
    xp, pop = model.xp, model.pop
    rank = bits(model.streams.key("capacity", day, k), region_counters(pop, person))
    by_rank = stable_argsort(xp, rank)
    order = by_rank[stable_argsort(xp, region[by_rank])]  # by region, then rank
    sorted_region = region[order]
    place = xp.arange(order.size) - xp.searchsorted(sorted_region, sorted_region)
    kept = xp.empty(order.size, dtype=bool)
    kept[order] = place < xp.asarray(shares)[sorted_region]
    return kept
