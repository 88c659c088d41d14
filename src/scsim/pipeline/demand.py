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

from scsim.rng import integers, poisson
from scsim.state import list_bit

MAX_LISTS = 8  # blocks of the draw keys: service x 8 + list


def list_only(plan) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Which services only lists act on (host, bool [V])."""
    return ~plan.service_blocked_tiers.any(axis=1) & ~plan.service_reward_tiers.any(axis=1)


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
    persons, services = [xp.empty(0, np.int64)], [xp.empty(0, np.int64)]
    others = np.zeros(len(plan.services), dtype=np.int64)
    for v in np.flatnonzero(list_only(plan) & (plan.service_daily > 0)).tolist():
        rate, mask = float(plan.service_daily[v]), int(plan.service_blocked_lists[v])
        members, earlier = 0, 0
        for index, roster in enumerate(model.rosters):
            bit = list_bit(index)
            if not mask & bit:
                continue
            size = len(roster)
            if size:
                block = v * MAX_LISTS + index
                n = poisson(streams.key("demand:listed", day, block), size * rate)
                pick = integers(streams.key("demand:listed:who", day, block), xp.arange(n), size)
                person = roster.ids[pick]
                if earlier:  # members also on an earlier list were drawn there
                    person = person[(flags[person] & earlier) == 0]
                    size -= int(((flags[roster.ids] & earlier) != 0).sum())
                persons.append(person.astype(np.int64))
                services.append(xp.full(person.size, v, dtype=np.int64))
                members += size
            earlier |= bit
        rest = max(model.host_pop.size - members, 0) * rate
        others[v] = poisson(streams.key("demand:unlisted", day, v), rest)
    return xp.concatenate(persons), xp.concatenate(services), others
