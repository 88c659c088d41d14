"""Requests for services that only a list can refuse, drawn from the lists, not the nation.

A service whose grades neither refuse nor reward (no `blocked_tiers`, no `reward_tiers`) does
something to a request only when its person is on a list that blocks it. Its requests are
therefore drawn from the members of those lists, Poisson(members x daily rate) of them, each
from a uniform member; a person on two such lists is drawn from the first only (a draw from a
later list is dropped if the person is also on an earlier one), so everyone's rate is the
service's. Everyone else's requests are only counted: Poisson((N - members) x daily rate). By
the splitting property of the Poisson process this is the same process as drawing everyone's
requests; it costs the size of the lists, not of the population (the court list's 10 million
rather than 1.4 billion people's 10 million requests a day).
"""

from __future__ import annotations

import numpy as np

from scsim.rng import integers, poisson_many
from scsim.state import list_bit

MAX_LISTS = 8  # blocks of the draw keys: service x 8 + list


def list_only(plan) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Which services only lists act on (host, bool [V]): not those whose household lists or
    premiums act on people who are not listed (`scsim.pipeline.services`)."""
    graded = plan.service_blocked_tiers.any(axis=1) | plan.service_reward_tiers.any(axis=1)
    return ~graded & ~plan.service_beyond_lists


def stratum_demand(plan, pop) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Expected requests per stratum and service drawn from the whole population: none for the
    services that only lists act on (see `listed_requests`)."""
    daily = np.where(list_only(plan), 0.0, plan.service_daily)
    return pop.stratum_size[:, None] * daily[None, :]


def listed_requests(model, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Today's requests from listed people for the list-only services (person, service), and
    the count of everyone else's requests per service (host int64 [V])."""
    xp, plan, streams = model.xp, model.host_plan, model.streams
    flags = model.people.flags
    sizes = np.array([len(roster) for roster in model.rosters], dtype=np.int64)
    served = np.flatnonzero(list_only(plan) & (plan.service_daily > 0))
    # blocks (service, list) with members, their counts drawn in one call, equal to one by one
    pairs = [
        (v, index)
        for v in served.tolist()
        for index in range(len(sizes))
        if sizes[index] and int(plan.service_blocked_lists[v]) & list_bit(index)
    ]
    block = np.array([v * MAX_LISTS + index for v, index in pairs], dtype=np.int64)
    lam = np.array([sizes[index] * plan.service_daily[v] for v, index in pairs])
    counts = poisson_many(streams.keys("demand:listed", day, block), lam)
    persons, services = [xp.empty(0, np.int64)], [xp.empty(0, np.int64)]
    members = np.zeros(len(plan.services), dtype=np.int64)
    also_earlier: dict[tuple[int, int], int] = {}  # (list, earlier lists): members on both
    for (v, index), n, b in zip(pairs, counts.tolist(), block.tolist(), strict=True):
        roster = model.rosters[index]
        pick = integers(streams.key("demand:listed:who", day, b), xp.arange(n), len(roster))
        person = roster.ids[pick]
        earlier = int(plan.service_blocked_lists[v]) & (list_bit(index) - 1)
        size = len(roster)
        if earlier:  # members also on an earlier list were drawn there
            person = person[(flags[person] & earlier) == 0]
            if (index, earlier) not in also_earlier:  # one pass over the roster a day
                overlap = int(((flags[roster.ids] & earlier) != 0).sum())
                also_earlier[index, earlier] = overlap
            size -= also_earlier[index, earlier]
        persons.append(person.astype(np.int64))
        services.append(xp.full(person.size, v, dtype=np.int64))
        members[v] += size
    rest = np.maximum(model.host_pop.size - members[served], 0) * plan.service_daily[served]
    others = np.zeros(len(plan.services), dtype=np.int64)
    others[served] = poisson_many(streams.keys("demand:unlisted", day, served), rest)
    return xp.concatenate(persons), xp.concatenate(services), others
