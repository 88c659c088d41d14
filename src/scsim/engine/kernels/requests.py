"""The sanction stage's per-request work, compiled (`scsim.engine.components.sanction`): for
each of the day's requests, the person's grade and flags and the lists that refuse them, then
whether it is refused and whether rewarded, in two passes instead of a dozen whole-array
operations on a nation's twelve million requests a day. Element by element the reference's
logic: refusing = flags & the service's list mask; refused where a list refuses (evasions
already taken out), a household member's list refuses, or the service refuses the grade;
rewarded where granted and the service rewards the grade.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from scsim.engine.kernels import counters


@numba.njit(cache=True, inline="always")
def _gather_at(
    i: Any, tier: Any, flags: Any, lists: Any, person: Any, service: Any,
    tier_of: Any, flags_of: Any, refusing: Any,
) -> None:  # fmt: skip
    p = person[i]
    tier_of[i] = tier[p]
    f = flags[p]
    flags_of[i] = f
    refusing[i] = f & lists[service[i]]


@numba.njit(cache=True, nogil=True)
def _gather(
    tier: Any, flags: Any, lists: Any, person: Any, service: Any,
    tier_of: Any, flags_of: Any, refusing: Any,
) -> None:  # fmt: skip
    for i in range(person.size):
        _gather_at(i, tier, flags, lists, person, service, tier_of, flags_of, refusing)


@numba.njit(cache=True, nogil=True, parallel=True)
def _gather_parallel(
    tier: Any, flags: Any, lists: Any, person: Any, service: Any,
    tier_of: Any, flags_of: Any, refusing: Any,
) -> None:  # fmt: skip
    for i in numba.prange(person.size):
        _gather_at(i, tier, flags, lists, person, service, tier_of, flags_of, refusing)


def gather(
    tier: np.ndarray, flags: np.ndarray, lists: np.ndarray, person: np.ndarray, service: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(tier[person], flags[person], flags[person] & lists[service]); None where the dtypes
    are not uint8 columns and int64 requests."""
    uint8, int64 = np.dtype(np.uint8), np.dtype(np.int64)
    if not (tier.dtype == flags.dtype == lists.dtype == uint8):
        return None
    if not (person.dtype == service.dtype == int64) or person.ndim != 1:
        return None
    tier_of, flags_of, refusing = (np.empty(person.size, dtype=np.uint8) for _ in range(3))
    kernel = _gather_parallel if person.size >= counters.PARALLEL else _gather
    kernel(tier, flags, lists, person, service, tier_of, flags_of, refusing)
    return tier_of, flags_of, refusing


@numba.njit(cache=True, inline="always")
def _decide_at(
    i: Any, by_list: Any, by_household: Any, service: Any, tier: Any, tiers: Any,
    refuses: Any, rewards: Any, blocked: Any, rewarded: Any,
) -> None:  # fmt: skip
    graded = service[i] * tiers + np.int64(tier[i])
    refused = by_list[i] | by_household[i] | refuses[graded]  # no branch: bools as bits
    blocked[i] = refused
    rewarded[i] = rewards[graded] & (refused ^ True)


@numba.njit(cache=True, nogil=True)
def _decide(
    by_list: Any, by_household: Any, service: Any, tier: Any, tiers: Any,
    refuses: Any, rewards: Any, blocked: Any, rewarded: Any,
) -> None:  # fmt: skip
    for i in range(service.size):
        _decide_at(
            i, by_list, by_household, service, tier, tiers, refuses, rewards, blocked, rewarded
        )


@numba.njit(cache=True, nogil=True, parallel=True)
def _decide_parallel(
    by_list: Any, by_household: Any, service: Any, tier: Any, tiers: Any,
    refuses: Any, rewards: Any, blocked: Any, rewarded: Any,
) -> None:  # fmt: skip
    for i in numba.prange(service.size):
        _decide_at(
            i, by_list, by_household, service, tier, tiers, refuses, rewards, blocked, rewarded
        )


def decide(
    by_list: np.ndarray,
    by_household: np.ndarray,
    service: np.ndarray,
    tier: np.ndarray,
    blocked_tiers: np.ndarray,
    reward_tiers: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Each request's (refused, rewarded), from the refusals by list and by household and the
    [service, grade] tables of refusals and rewards; None where the dtypes are not the
    kernel's."""
    boolean = np.dtype(np.bool_)
    if not (by_list.dtype == by_household.dtype == blocked_tiers.dtype == boolean):
        return None
    if reward_tiers.dtype != boolean or blocked_tiers.shape != reward_tiers.shape:
        return None
    if service.dtype != np.int64 or tier.dtype != np.uint8 or blocked_tiers.ndim != 2:
        return None
    blocked = np.empty(service.size, dtype=np.bool_)
    rewarded = np.empty(service.size, dtype=np.bool_)
    kernel = _decide_parallel if service.size >= counters.PARALLEL else _decide
    refuses = np.ascontiguousarray(blocked_tiers).ravel()
    rewards = np.ascontiguousarray(reward_tiers).ravel()
    kernel(by_list, by_household, service, tier, np.int64(blocked_tiers.shape[1]),
           refuses, rewards, blocked, rewarded)  # fmt: skip
    return blocked, rewarded


@counters.jit
def _retries(
    person: Any, service: Any, region_start: Any, key: Any, chance: Any, wait_keys: Any,
    stacked: Any, start: Any, out_person: Any, out_service: Any, out_wait: Any,
) -> int:  # fmt: skip
    seen = np.zeros(region_start.size - 1, dtype=np.int64)
    n, r = 0, 0
    for i in range(person.size):
        p, v = person[i], service[i]
        # the refusal's counter: its region and rank among the region's (`region_counters`)
        counter, r = counters.region_counter(region_start, seen, r, p)
        if not (counters.hash64(counter, key) >> counters._S32) < chance[v]:
            continue
        # the wait from the service's table, stacked (`rng.waiting_days_stacked`)
        lifted = (counters.hash64(counter, wait_keys[v]) >> counters._S32) + np.uint64(v) * _LIFT
        out_person[n], out_service[n] = p, v
        out_wait[n] = np.searchsorted(stacked, lifted, "right") - start[v] + 1
        n += 1
    return n


_LIFT = np.uint64(1 << 33)  # as `rng.stack_cdfs`' lift of table i


def retries(
    person: np.ndarray,
    service: np.ndarray,
    region_start: np.ndarray,
    key: int,
    chance: np.ndarray,
    wait_keys: np.ndarray,
    stacked: np.ndarray,
    start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who of the day's refused (`person`, `service`) tries again and after how many days, in
    one pass: `sanction._schedule_retries`' counters, acceptance and stacked waits."""
    out_person = np.empty(person.size, dtype=person.dtype)
    out_service = np.empty(service.size, dtype=service.dtype)
    out_wait = np.empty(person.size, dtype=np.int64)
    n = _retries(
        person, service, region_start, np.uint64(key), chance, wait_keys, stacked, start,
        out_person, out_service, out_wait,
    )  # fmt: skip
    return out_person[:n], out_service[:n], out_wait[:n]
