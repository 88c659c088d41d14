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
