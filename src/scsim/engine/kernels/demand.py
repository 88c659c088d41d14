"""The list-only services' requests of a day, compiled: `demand.listed_requests`' draws from the
lists' members in one call instead of a dozen NumPy calls per (service, list) pair.

Element by element the reference's arithmetic: each roster cut by region (the first member
at or after each region's first id), Poisson(members x daily rate) requests per pair and
region (`rng.poisson`: inversion below 10, PTRS above, as `kernels.poisson`), each from the
member at the region's first place plus an integer drawn below its size (`rng.integers`), a
member also on an earlier acting list dropped (drawn there), and the members counted per
region less those on an earlier list. The requests come out pair after pair, region after
region, counter after counter: the reference's order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scsim.engine.kernels.counters import _S11, _TWO_53, hash64, jit
from scsim.engine.kernels.poisson import poisson_one


@jit
def _listed(
    rosters: Any, flags: Any, region_start: Any, pair_roster: Any, pair_service: Any,
    pair_earlier: Any, pair_slot: Any, slot_roster: Any, slot_earlier: Any, daily: Any,
    count_keys: Any, who_keys: Any,
) -> tuple[Any, Any, Any]:  # fmt: skip
    pairs, regions = pair_roster.size, region_start.size - 1
    cuts = np.empty((len(rosters), regions + 1), dtype=np.int64)
    for i in range(len(rosters)):
        cuts[i] = np.searchsorted(rosters[i], region_start)
    found = np.empty((pairs, regions), dtype=np.int64)
    counts = np.empty((pairs, regions), dtype=np.int64)
    total = 0
    for p in range(pairs):
        cut, rate = cuts[pair_roster[p]], daily[pair_service[p]]
        for r in range(regions):
            found[p, r] = cut[r + 1] - cut[r]
            counts[p, r] = poisson_one(count_keys[p * regions + r], np.float64(found[p, r]) * rate)
            total += counts[p, r]
    person = np.empty(total, dtype=np.int64)
    service = np.empty(total, dtype=np.int64)
    n = 0
    for p in range(pairs):
        ids, cut, earlier = rosters[pair_roster[p]], cuts[pair_roster[p]], pair_earlier[p]
        for r in range(regions):
            key, span = who_keys[p * regions + r], np.float64(found[p, r])
            for c in range(counts[p, r]):
                u = np.float64(hash64(c, key) >> _S11) / _TWO_53
                x = ids[cut[r] + np.int64(u * span)]
                if earlier == 0 or (flags[x] & earlier) == 0:
                    person[n] = x
                    service[n] = pair_service[p]
                    n += 1
    # each roster's members also on some earlier lists, per region, once a day (several
    # services share a roster and its earlier lists): those are drawn there
    also = np.zeros((slot_roster.size, regions), dtype=np.int64)
    for s in range(slot_roster.size):
        ids, cut, earlier = rosters[slot_roster[s]], cuts[slot_roster[s]], slot_earlier[s]
        for r in range(regions):
            for j in range(cut[r], cut[r + 1]):
                if flags[ids[j]] & earlier:
                    also[s, r] += 1
    for p in range(pairs):
        if pair_slot[p] >= 0:
            for r in range(regions):
                found[p, r] -= also[pair_slot[p], r]
    return person[:n], service[:n], found


def listed(
    rosters: tuple[np.ndarray, ...],
    flags: np.ndarray,
    region_start: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    daily: np.ndarray,
    keys: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The requests (person, service) drawn from the pairs' rosters, and each pair's members
    per region less those on an earlier acting list (int64 [pairs, regions]). `pairs`: each
    pair's roster (its place in `rosters`), service and earlier acting lists (a bit mask)."""
    roster, service, earlier = pairs
    # the distinct (roster, earlier lists) of the pairs with earlier lists: counted once each
    slots: dict[tuple[int, int], int] = {}
    slot = [
        slots.setdefault((r, e), len(slots)) if e else -1
        for r, e in zip(roster.tolist(), earlier.tolist(), strict=True)
    ]
    return _listed(
        tuple(np.ascontiguousarray(ids, dtype=np.int64) for ids in rosters),
        flags,
        np.ascontiguousarray(region_start, dtype=np.int64),
        roster,
        service,
        earlier,
        np.array(slot, dtype=np.int64),
        np.array([r for r, _ in slots], dtype=np.int64),
        np.array([e for _, e in slots], dtype=np.int64),
        np.ascontiguousarray(daily, dtype=np.float64),
        *keys,
    )
