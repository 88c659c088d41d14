"""Requests for services that only a list can refuse, drawn from the lists, not the nation.

A service whose grades neither refuse nor reward (no `blocked_tiers`, no `reward_tiers`) does
something to a request only when its person is on a list that blocks it (or rewards it: a
green channel's `reward_lists`). Its requests are therefore drawn from the members of those
lists, region by region: Poisson(members in the region x daily rate) of them, each from a
uniform member of that region; a person on two such lists is drawn from the first only (a
draw from a later list is dropped if the person is also on an earlier one), so everyone's rate
is the service's. Everyone else's requests are only
counted, per region: Poisson((people in the region - members there) x daily rate). By the
splitting property of the Poisson process this is the same process as drawing everyone's
requests; it costs the size of the lists, not of the population (the court list's 10 million
rather than 1.4 billion people's 10 million requests a day). Rosters are sorted by id and
regions are id ranges, so a region's members are a slice of the roster; every draw is keyed by
its (service, list, region), so a shard that owns whole regions draws the very requests of the
single process in them (`scsim.simulation.shards`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import to_host
from scsim.engine.rng import poisson_many
from scsim.engine.sampling import uniform_in_ranges
from scsim.engine.state import Roster, list_bit

if TYPE_CHECKING:
    from scsim.engine.context import Context
    from scsim.engine.plan import Plan
    from scsim.engine.population import Population

MAX_LISTS = 8  # blocks of the draw keys: (service x 8 + list) x regions + region


def list_only(plan: Plan) -> np.ndarray:
    """Which services only lists act on (host, bool [V]): not those whose household lists or
    premiums act on people who are not listed (`scsim.engine.components.services`)."""
    graded = plan.service_blocked_tiers.any(axis=1) | plan.service_reward_tiers.any(axis=1)
    return ~graded & ~plan.service_beyond_lists


def acting_lists(plan: Plan) -> np.ndarray:
    """The lists that act on each service's requests (host uint8 [V], a bit mask): those whose
    members it refuses and those whose members it rewards (`reward_lists`, a green channel)."""
    return plan.service_blocked_lists | plan.service_reward_lists


def listed_services(plan: Plan) -> np.ndarray:
    """The services only lists act on that anyone asks for (host int64), once per rulebook
    (`Model`): the services of `listed_requests` and `_unlisted`."""
    return np.flatnonzero(list_only(plan) & (plan.service_daily > 0))


def stratum_demand(plan: Plan, pop: Population) -> np.ndarray:
    """Expected requests per stratum and service drawn from the whole population: none for the
    services that only lists act on (see `listed_requests`)."""
    daily = np.where(list_only(plan), 0.0, plan.service_daily)
    return pop.stratum_size[:, None] * daily[None, :]


def listed_requests(ctx: Context, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Today's requests from listed people for the list-only services (person, service), and
    the count of everyone else's requests per service (host int64 [V])."""
    xp, plan, regions = ctx.xp, ctx.rules.host_plan, ctx.params.region_people.size
    acting = acting_lists(plan)
    pairs = [
        (v, index)
        for v in ctx.rules.listed_services.tolist()
        for index, roster in enumerate(ctx.state.rosters)
        if len(roster) and int(acting[v]) & list_bit(index)
    ]
    # where each region's members begin in each roster used, and how many there are
    cuts = {
        i: xp.searchsorted(ctx.state.rosters[i].ids, ctx.params.pop.region_start) for _, i in pairs
    }
    sizes = {i: to_host(cut[1:] - cut[:-1]) for i, cut in cuts.items()}
    found = np.zeros((len(pairs), regions), dtype=np.int64)
    for p, (_, index) in enumerate(pairs):
        found[p] = sizes[index]
    at, drawn = _draw(ctx, day, pairs, cuts, found)
    ends = np.cumsum(drawn)
    persons, services = [xp.empty(0, np.int64)], [xp.empty(0, np.int64)]
    members = np.zeros((len(plan.services), regions), dtype=np.int64)
    overlaps: dict[tuple[int, int], np.ndarray] = {}  # (list, earlier lists): per region
    for p, (v, index) in enumerate(pairs):
        roster = ctx.state.rosters[index]
        person = roster.ids[at[ends[p] - drawn[p] : ends[p]]]
        earlier = int(int(acting[v]) & (list_bit(index) - 1))
        if earlier:  # members also on an earlier list were drawn there
            person = person[(ctx.state.people.flags[person] & earlier) == 0]
            if (index, earlier) not in overlaps:  # one pass over the roster a day
                overlaps[index, earlier] = _on_earlier(ctx, roster, cuts[index], earlier)
            found[p] -= overlaps[index, earlier]
        persons.append(person.astype(np.int64))
        services.append(xp.full(person.size, v, dtype=np.int64))
        members[v] += found[p]
    return xp.concatenate(persons), xp.concatenate(services), _unlisted(ctx, day, members)


def _draw(
    ctx: Context,
    day: int,
    pairs: list[tuple[int, int]],
    cuts: dict[int, np.ndarray],
    found: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(members x daily rate) requests per (service, list) pair and region, each from a
    uniform member of the region: their places in the pair's roster (device, pair after pair,
    region after region) and how many each pair has (host)."""
    xp, streams, regions = ctx.xp, ctx.streams, found.shape[1]
    service = np.array([v for v, _ in pairs], dtype=np.int64)
    pair_block = np.array([v * MAX_LISTS + index for v, index in pairs], dtype=np.int64)
    block = (pair_block[:, None] * regions + np.arange(regions)).ravel()
    lam = (found * ctx.rules.host_plan.service_daily[service][:, None]).ravel()
    blocks = len(ctx.rules.host_plan.services) * MAX_LISTS * regions  # every block's key, ahead
    counts = poisson_many(streams.block_keys("demand:listed", day, blocks)[block], lam)
    keys = xp.asarray(streams.block_keys("demand:listed:who", day, blocks)[block])
    start = xp.concatenate([xp.zeros(0, np.int64)] + [cuts[i][:-1] for _, i in pairs])
    _, _, at = uniform_in_ranges(counts, keys, start, xp.asarray(found.ravel()))
    return at, counts.reshape(len(pairs), regions).sum(axis=1)


def _on_earlier(ctx: Context, roster: Roster, cut: np.ndarray, earlier: int) -> np.ndarray:
    """Members of `roster` per region who are also on one of the lists `earlier` (host)."""
    xp = ctx.xp
    also = ((ctx.state.people.flags[roster.ids] & earlier) != 0).astype(np.int64)
    before = xp.concatenate([xp.zeros(1, np.int64), xp.cumsum(also)])
    return to_host(before[cut[1:]] - before[cut[:-1]])


def _unlisted(ctx: Context, day: int, members: np.ndarray) -> np.ndarray:
    """The count of requests per list-only service (host int64 [V]) of everyone who is not on
    one of its lists: Poisson per region, summed; `members` is per (service, region)."""
    plan, regions, served = (
        ctx.rules.host_plan,
        ctx.params.region_people.size,
        ctx.rules.listed_services,
    )
    rest = (
        np.maximum(ctx.params.region_people - members[served], 0) * plan.service_daily[served, None]
    )
    block = served[:, None] * regions + np.arange(regions)
    keys = ctx.streams.block_keys("demand:unlisted", day, len(plan.services) * regions)
    drawn = poisson_many(keys[block.ravel()], rest.ravel())
    others = np.zeros(len(plan.services), dtype=np.int64)
    others[served] = drawn.reshape(served.size, regions).sum(axis=1)
    return others
