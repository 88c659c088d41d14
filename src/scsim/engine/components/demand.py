"""Requests for services that act only on some people, drawn from those people, not the nation.

A service acts on a request only when its person is on a list that blocks or rewards it (a
green channel's `reward_lists`), or holds a grade that it refuses or rewards; everyone else's
request is granted and merely counted. Where every such grade keeps a roster of its holders
(`scsim.engine.members`: grades that are nobody's starting grade) and no household list or
premium reaches past them, the service asks only those people, and counts everyone else's
requests per region: Poisson((people in the region - those asked) x daily rate). By the
splitting property of the Poisson process this is the same process as drawing everyone's
requests; it costs the size of the lists and the acting grades, not of the population (the
court list's 10 million rather than 1.4 billion people's 10 million requests a day; a nation's
18 million graded requests a day become its acting grades' holders').

- A service only lists act on draws Poisson(members in the region x daily rate) requests per
  list and region, each from a uniform member of that region; a person on two such lists is
  drawn from the first only (a later draw of them is dropped, and their count left out of the
  later roster's), so everyone's rate is the service's.
- A service that acts on grades asks each holder of its acting grades and each member of its
  lists once: a Poisson(daily rate) count drawn from the person's own id, keyed by service and
  day, so what a person asks depends on nothing else in the run (two scenarios that put other
  people in a grade still agree on this person's requests).

Rosters are sorted by id and regions are id ranges, so a region's members are a slice of the
roster; every draw is keyed by its (service, list, region) or its person, so a shard that owns
whole regions draws the very requests of the single process in them
(`scsim.simulation.shards`).

What the counted requests do not have is the wariness of their people (`sanction._discouraged`
thins the drawn ones): they are the people in no acting grade and on no list, mostly never
refused, and the count of a wary one's requests is the count of their attempts, not of their
refusals.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import to_host
from scsim.engine.members import acting_grades
from scsim.engine.rng import poisson_many, poisson_thresholds
from scsim.engine.sampling import each_by_count, uniform_in_ranges
from scsim.engine.state import list_bit

if TYPE_CHECKING:
    from scsim.engine.context import Context
    from scsim.engine.plan import Plan
    from scsim.engine.population import Population

MAX_LISTS = 8  # blocks of the draw keys: (service x 8 + list) x regions + region
MOST_A_DAY = 16  # a person's requests for one service in a day, at most (rates are a few a year)


def from_members(plan: Plan, rostered: np.ndarray) -> np.ndarray:
    """Which services draw their requests from the people they act on (host, bool [V]): those
    whose acting grades all keep rosters (`rostered`, bool [T]), lists' services included (no
    acting grade), and not those whose household lists or premiums act on people who are on no
    list and in no such grade (`scsim.engine.components.services`)."""
    unrostered = acting_grades(plan) & ~rostered[None, :]
    return ~unrostered.any(axis=1) & ~plan.service_beyond_lists


def acting_lists(plan: Plan) -> np.ndarray:
    """The lists that act on each service's requests (host uint8 [V], a bit mask): those whose
    members it refuses and those whose members it rewards (`reward_lists`, a green channel)."""
    return plan.service_blocked_lists | plan.service_reward_lists


def listed_services(plan: Plan, rostered: np.ndarray) -> np.ndarray:
    """The services drawn from the people they act on that anyone asks for (host int64), once
    per rulebook (`Rules`): the services of `listed_requests` and `_unlisted`."""
    return np.flatnonzero(from_members(plan, rostered) & (plan.service_daily > 0))


def list_pairs(plan: Plan, listed: np.ndarray) -> tuple[tuple[int, int], ...]:
    """The (service, list) pairs whose requests `listed_requests` draws from the list's
    members, in its order: each service of `listed` that acts on lists only, no grade, with
    each list that acts on it. Once per rulebook (`Rules`), not a pass over every service and
    list each day."""
    acting, graded = acting_lists(plan), acting_grades(plan)
    return tuple(
        (v, index)
        for v in listed.tolist()
        for index in range(len(plan.lists))
        if int(acting[v]) & list_bit(index) and not graded[v].any()
    )


def request_thresholds(plan: Plan) -> np.ndarray:
    """The thresholds of a person's Poisson count of requests a day, per service (host uint64
    [V, MOST_A_DAY]), once per rulebook (`Rules`): what `_graded_requests` compares each
    holder's draw with."""
    return poisson_thresholds(plan.service_daily, MOST_A_DAY)


def stratum_demand(plan: Plan, pop: Population, rostered: np.ndarray) -> np.ndarray:
    """Expected requests per stratum and service drawn from the whole population: none for the
    services drawn from the people they act on (see `listed_requests`)."""
    daily = np.where(from_members(plan, rostered), 0.0, plan.service_daily)
    return pop.stratum_size[:, None] * daily[None, :]


def listed_requests(ctx: Context, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Today's requests for the services drawn from the people they act on (person, service):
    those of the services only lists act on, then those of the services that act on grades;
    and the count of everyone else's requests per service (host int64 [V])."""
    xp, plan, regions = ctx.xp, ctx.rules.host_plan, ctx.params.region_people.size
    acting, graded = acting_lists(plan), acting_grades(plan)
    rosters = ctx.state.rosters
    pairs = [
        (v, index)
        for v, index in ctx.rules.list_pairs
        if index < len(rosters) and len(rosters[index])
    ]
    compiled = _compiled(ctx, day, pairs, acting) if pairs and kernels.active() else None
    if compiled is not None:
        person, service, found = compiled
        members = np.zeros((len(plan.services), regions), dtype=np.int64)
        for p, (v, _) in enumerate(pairs):
            members[v] += found[p]
        graded_person, graded_service = _graded_requests(ctx, day, graded, members)
        return (
            xp.concatenate([person, graded_person]),
            xp.concatenate([service, graded_service]),
            _unlisted(ctx, day, members),
        )
    # where each region's members begin in each roster used, and how many there are
    cuts = {
        i: xp.searchsorted(ctx.state.rosters[i].ids, ctx.params.pop.region_start) for _, i in pairs
    }
    sizes = {i: to_host(cut[1:] - cut[:-1]) for i, cut in cuts.items()}
    found = np.zeros((len(pairs), regions), dtype=np.int64)
    for p, (_, index) in enumerate(pairs):
        found[p] = sizes[index]
    blocks = [v * MAX_LISTS + index for v, index in pairs]
    at, drawn = _draw(
        ctx, day, "demand:listed", MAX_LISTS, blocks, [cuts[i] for _, i in pairs], found
    )
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
                also = (ctx.state.people.flags[roster.ids] & earlier) != 0
                overlaps[index, earlier] = _per_region(xp, also, cuts[index])
            found[p] -= overlaps[index, earlier]
        persons.append(person.astype(np.int64))
        services.append(xp.full(person.size, v, dtype=np.int64))
        members[v] += found[p]
    person, service = _graded_requests(ctx, day, graded, members)
    persons.append(person)
    services.append(service)
    return xp.concatenate(persons), xp.concatenate(services), _unlisted(ctx, day, members)


def _compiled(
    ctx: Context, day: int, pairs: list[tuple[int, int]], acting: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """`listed_requests`' draws from the pairs' rosters by one kernel (`kernels.demand`), or
    None where the kernels are off or the rosters too small to pay for one."""
    used = sorted({index for _, index in pairs})
    rosters = tuple(ctx.state.rosters[i].ids for i in used)
    regions = ctx.params.region_people.size
    service = np.array([v for v, _ in pairs], dtype=np.int64)
    index = np.array([i for _, i in pairs], dtype=np.int64)
    earlier = np.array([int(acting[v]) & (list_bit(i) - 1) for v, i in pairs], dtype=np.int64)
    block = ((service * MAX_LISTS + index)[:, None] * regions + np.arange(regions)).ravel()
    blocks = len(ctx.rules.host_plan.services) * MAX_LISTS * regions
    keys = (
        ctx.streams.block_keys("demand:listed", day, blocks)[block],
        ctx.streams.block_keys("demand:listed:who", day, blocks)[block],
    )
    return kernels.listed_requests(
        rosters,
        ctx.state.people.flags,
        ctx.params.pop.region_start,
        (np.searchsorted(used, index), service, earlier),
        ctx.rules.host_plan.service_daily,
        keys,
    )


def _graded_requests(
    ctx: Context, day: int, graded: np.ndarray, members: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The requests (person, service) of the people a service that acts on grades acts on:
    the holders of its acting grades and its lists' members, each once. Each one's count is
    Poisson(the service's daily rate) drawn from their own id (keyed by service and day), so a
    person asks the same whatever else differs between two scenarios: sweeps and sensitivity
    studies compare like with like. Adds how many were asked per region to `members`."""
    xp, plan, people = ctx.xp, ctx.rules.host_plan, ctx.state.people
    services = [int(v) for v in ctx.rules.listed_services if graded[v].any()]
    if not services:
        return xp.empty(0, np.int64), xp.empty(0, np.int64)
    start, acting = ctx.params.pop.region_start, acting_lists(plan)
    grades = sorted({int(t) for v in services for t in np.flatnonzero(graded[v])})
    holders = {t: ctx.state.members.of(t, people.tier) for t in grades}
    cuts = {t: xp.searchsorted(ids, start) for t, ids in holders.items()}
    # per list: its members' flags and grades, and where its regions begin (once a day)
    held: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    persons, asked = [xp.empty(0, np.int64)], [xp.empty(0, np.int64)]
    for v in services:
        groups = [holders[int(t)] for t in np.flatnonzero(graded[v])]
        for t in np.flatnonzero(graded[v]):
            members[v] += to_host(cuts[int(t)][1:] - cuts[int(t)][:-1])
        for index, roster in enumerate(ctx.state.rosters):
            if not (len(roster) and int(acting[v]) & list_bit(index)):
                continue
            if index not in held:
                ids = roster.ids
                held[index] = people.flags[ids], people.tier[ids], xp.searchsorted(ids, start)
            flags, tier, cut = held[index]
            earlier = int(int(acting[v]) & (list_bit(index) - 1))
            mine = ~_elsewhere(xp, flags, tier, earlier, graded[v])
            groups.append(roster.ids[mine])
            members[v] += _per_region(xp, mine, cut)
        table = xp.asarray(ctx.rules.request_counts[v])
        key = ctx.streams.key("demand:person", day, v)
        persons.append(each_by_count(xp, key, xp.concatenate(groups), table))
        asked.append(xp.full(persons[-1].size, v, dtype=np.int64))
    return xp.concatenate(persons), xp.concatenate(asked)


def _draw(
    ctx: Context,
    day: int,
    stream: str,
    width: int,
    pair_blocks: list[int],
    cuts: list[np.ndarray],
    found: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(members x daily rate) requests per pair (a service and a list or grade: block
    `service x width + list or grade`) and region, each from a uniform member of the region:
    their places in the pair's roster (device, pair after pair, region after region) and how
    many each pair has (host)."""
    xp, streams, regions = ctx.xp, ctx.streams, found.shape[1]
    service = np.array(pair_blocks, dtype=np.int64) // width
    block = (np.array(pair_blocks, dtype=np.int64)[:, None] * regions + np.arange(regions)).ravel()
    lam = (found * ctx.rules.host_plan.service_daily[service][:, None]).ravel()
    blocks = len(ctx.rules.host_plan.services) * width * regions  # every block's key, ahead
    counts = poisson_many(streams.block_keys(stream, day, blocks)[block], lam)
    keys = xp.asarray(streams.block_keys(f"{stream}:who", day, blocks)[block])
    start = xp.concatenate([xp.zeros(0, np.int64)] + [cut[:-1] for cut in cuts])
    _, _, at = uniform_in_ranges(counts, keys, start, xp.asarray(found.ravel()))
    return at, counts.reshape(len(pair_blocks), regions).sum(axis=1)


def _elsewhere(
    xp: ModuleType, flags: np.ndarray, tier: np.ndarray, earlier: int, grades: np.ndarray
) -> np.ndarray:
    """Which of a list's members (their `flags` and `tier`) a service draws elsewhere: those
    on one of the lists `earlier`, or holding one of its acting `grades` (host bool [T])."""
    out = (flags & earlier) != 0
    if grades.any():
        out |= xp.asarray(grades)[tier]
    return out


def _per_region(xp: ModuleType, also: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """How many of a roster's members are `also` in each region (`cut`: its regions' starts;
    host)."""
    before = xp.concatenate([xp.zeros(1, np.int64), xp.cumsum(also.astype(np.int64))])
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
