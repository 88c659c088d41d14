"""Stage 4, sanction: people ask for services; the restricted are refused, the trusted rewarded.

Demand is drawn per stratum and service at the service's daily rate (for a service that only
lists act on, from the lists' members: `scsim.engine.components.demand`), plus the retries of people
refused earlier: a refused person tries again with the service's retry chance after a wait, so
one listed person who keeps trying is refused again each time (docs/sources.md: 108,000 blocked
flight purchases from 12,389 people). A request is refused when the person is on a list or in
a grade the service excludes; a request granted to a person in a rewarded grade or on a
rewarding list (a green channel) is a reward, with a ledger row of its own
(`scsim.engine.components.rewards`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import lookup, to_host
from scsim.engine.components.demand import listed_requests, stratum_demand
from scsim.engine.components.grades import fair_tier
from scsim.engine.components.listing import serious_cases
from scsim.engine.components.rewards import grant
from scsim.engine.components.services import charge_premiums, household_refusals
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.rng import accept, waiting_days_stacked
from scsim.engine.sampling import people_in_strata, region_counters
from scsim.engine.state import TAINTED, list_bit

if TYPE_CHECKING:
    from scsim.engine.context import Context
    from scsim.engine.plan import Plan
    from scsim.engine.population import Population


RETRY_COLUMNS: dict[str, type[np.generic]] = {"person": np.int64, "service": np.int64}


@dataclass(frozen=True)
class Sanctions:
    attempts: np.ndarray  # int64 [V]
    blocked: np.ndarray  # int64 [V]
    blocked_wrongful: np.ndarray  # int64 [V]: refusals whose cause holds a false record
    blocked_false_record_holders: np.ndarray  # int64 [V]: refusals of people with one anywhere
    rewards: np.ndarray  # int64 [V]
    evaded: np.ndarray  # int64 [V]: listed people's requests that got through with another ID
    blocked_person: np.ndarray  # int64: who was refused (one entry per refusal)
    blocked_service: np.ndarray  # int64
    lifted: np.ndarray  # int64 [V]: list refusals not made, the single measure lifted
    spared_graded: np.ndarray  # int64 [V]: list refusals not made, the case not serious enough
    rewarded_person: np.ndarray | None = None  # who was rewarded (one entry per reward)


def expected_demand(plan: Plan, pop: Population, rostered: np.ndarray) -> np.ndarray:
    """People x daily requests per stratum and service (host, once); the services that act
    only on lists' members and rostered grades' holders are drawn from those instead (see
    `scsim.engine.components.demand`)."""
    return stratum_demand(plan, pop, rostered)


def sanction(ctx: Context, day: int) -> Sanctions:
    xp, plan = ctx.xp, ctx.rules.plan
    demand = people_in_strata(ctx.params.pop, ctx.streams, "demand", day, ctx.rules.expected_demand)
    listed, listed_service, unlisted = listed_requests(ctx, day)
    first, first_service = _discouraged(
        ctx,
        day,
        xp.concatenate([demand.person, listed]),
        xp.concatenate([demand.column, listed_service]),
    )
    retry = ctx.state.calendar.due("retry", day, RETRY_COLUMNS, xp)
    person = xp.concatenate([first, retry["person"]])
    service = xp.concatenate([first_service, retry["service"]])
    tier, flags, refusing = _gather(ctx, person, service)
    by_list = refusing != 0
    evaded = _evaded(ctx, day, person, service, by_list)
    by_list &= ~evaded
    lifted, spared_graded = _relieved(ctx, person, service, by_list, refusing)
    by_list &= ~(lifted | spared_graded)
    by_household, household_wrongful, household_list = household_refusals(ctx, person, service)
    blocked, _ = _decide(ctx, by_list, by_household, service, tier)
    rewarded = grant(ctx, day, person, service, tier, flags, blocked)
    charge_premiums(ctx, day, person, service, tier, ~blocked)
    who, what = person[blocked], service[blocked]
    holder = (flags[blocked] & TAINTED) != 0
    wrongful = _wrongful(ctx, who, what) & household_wrongful[blocked]
    origin, source = _cause(ctx, blocked, by_list, by_household, refusing, household_list, tier)
    ctx.ledger.add(
        day, "blocked", who, ctx.params.codes.services[what], 0, source, origin, ~wrongful
    )
    _schedule_retries(ctx, day, who, what)
    n = len(plan.services)
    return Sanctions(
        attempts=to_host(xp.bincount(service, minlength=n)) + unlisted,
        blocked=to_host(xp.bincount(what, minlength=n)),
        blocked_wrongful=to_host(xp.bincount(what[wrongful], minlength=n)),
        blocked_false_record_holders=to_host(xp.bincount(what[holder], minlength=n)),
        rewards=to_host(xp.bincount(service[rewarded], minlength=n)),
        evaded=to_host(xp.bincount(service[evaded], minlength=n)),
        blocked_person=who,
        blocked_service=what,
        lifted=to_host(xp.bincount(service[lifted], minlength=n)),
        spared_graded=to_host(xp.bincount(service[spared_graded], minlength=n)),
        rewarded_person=person[rewarded],
    )


def _gather(
    ctx: Context, person: np.ndarray, service: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each request's grade and flags, and the flags of the lists that refuse its service."""
    plan, people = ctx.rules.plan, ctx.state.people
    if kernels.active() and ctx.xp is np:
        compiled = kernels.request_gather(
            people.tier, people.flags, plan.service_blocked_lists, person, service
        )
        if compiled is not None:
            return compiled
    tier, flags = people.tier[person], people.flags[person]
    return tier, flags, flags & plan.service_blocked_lists[service]


def _decide(
    ctx: Context,
    by_list: np.ndarray,
    by_household: np.ndarray,
    service: np.ndarray,
    tier: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Which requests are refused (by a list, a household member's list or the grade) and
    which granted ones are rewarded by grade (`rewards.grant` adds rewards by list, and writes
    the rows)."""
    plan = ctx.rules.plan
    if kernels.active() and ctx.xp is np:
        compiled = kernels.request_decide(
            by_list, by_household, service, tier, plan.service_blocked_tiers,
            plan.service_reward_tiers,
        )  # fmt: skip
        if compiled is not None:
            return compiled
    graded = service * len(ctx.rules.host_plan.tiers) + tier  # [service, tier] in the flat tables
    blocked = by_list | by_household | plan.service_blocked_tiers.ravel()[graded]
    return blocked, ~blocked & plan.service_reward_tiers.ravel()[graded]


def _relieved(
    ctx: Context, person: np.ndarray, service: np.ndarray, by_list: np.ndarray, refusing: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The reforms' relief of list refusals: the single measure lifted for the person (the
    service's `lifted`, a trait keyed by person and service), else a measure graded to the
    especially serious cases (`serious_only`) refusing someone whose case is not especially
    serious on any list that refuses them. Nothing where no service has either."""
    xp, plan = ctx.xp, ctx.rules.host_plan
    lifted = xp.zeros(by_list.size, dtype=bool)
    graded = xp.zeros(by_list.size, dtype=bool)
    if not (plan.service_lifted.any() or plan.service_serious_only.any()):
        return lifted, graded
    if plan.service_lifted.any():
        keys = xp.asarray(ctx.streams.block_keys("lifted", 0, len(plan.services)))[service]
        lifted = by_list & accept(keys, person, ctx.rules.tables.lifted[service])
    only = ctx.rules.plan.service_serious_only[service] & by_list & ~lifted
    if not bool(only.any()):
        return lifted, graded
    serious = xp.zeros(by_list.size, dtype=bool)
    for index in range(len(plan.lists)):
        on = (refusing & list_bit(index)) != 0
        if bool(on.any()):
            serious |= on & serious_cases(ctx, index, person)
    return lifted, only & ~serious


def _cause(
    ctx: Context,
    blocked: np.ndarray,
    by_list: np.ndarray,
    by_household: np.ndarray,
    refusing: np.ndarray,
    household_list: np.ndarray,
    tier: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each refusal's origin and `source`, so that the ledger says what refused it: the person's
    list (the first in the scenario's order where several refuse), else the household member's
    list, else the person's grade."""
    xp, codes = ctx.xp, ctx.params.codes
    by_list, by_household = by_list[blocked], by_household[blocked] & ~by_list[blocked]
    origin = xp.where(by_list, ORIGIN["list"], ORIGIN["tier"]).astype(np.uint8)
    origin[by_household] = ORIGIN["household"]
    source = codes.tiers[tier[blocked]]
    source[by_list] = codes.first_list[refusing[blocked][by_list]]
    source[by_household] = household_list[blocked][by_household]
    return origin, source


def _discouraged(
    ctx: Context, day: int, person: np.ndarray, service: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The new requests of people not put off by what they suffered: each survives with chance
    (1 - give_up) ** wariness (thinning a Poisson stream keeps it Poisson, at the lower rate).
    Drawn by the request's region and rank among the region's (`region_counters`). The counted
    requests of people never drawn (`scsim.engine.components.demand._unlisted`) are not
    thinned: they are the never-listed, whose wariness is mostly 0."""
    if not ctx.rules.host_plan.service_give_up.any() or person.size == 0:
        return person, service
    wariness = ctx.state.people.wariness[person].astype(np.int64)
    counter = region_counters(ctx.params.pop, person)
    keep = lookup(ctx.xp, ctx.rules.tables.demand_keep, service, wariness)
    kept = accept(ctx.streams.key("give-up", day), counter, keep)
    return person[kept], service[kept]


def _evaded(
    ctx: Context, day: int, person: np.ndarray, service: np.ndarray, by_list: np.ndarray
) -> np.ndarray:
    """Which list refusals slip through (another document); none where no service allows it.
    Each is drawn by its region and rank among the region's list refusals (`region_counters`)."""
    evaded = ctx.xp.zeros(by_list.size, dtype=bool)
    if not ctx.rules.host_plan.service_evasion.any():
        return evaded
    refused = ctx.xp.flatnonzero(by_list)
    counter = region_counters(ctx.params.pop, person[refused])
    thresholds = ctx.rules.tables.evasion[service[refused]]
    evaded[refused] = accept(ctx.streams.key("evasion", day), counter, thresholds)
    return evaded


def _wrongful(ctx: Context, person: np.ndarray, service: np.ndarray) -> np.ndarray:
    """Whether each refusal rests on a false record: every list that refuses the person was
    entered on a false record, and their grade without false records would not be refused."""
    xp, plan, people = ctx.xp, ctx.rules.plan, ctx.state.people
    wrongful = xp.ones(person.size, dtype=bool)
    if person.size == 0:  # a day nobody was refused
        return wrongful
    refusing = people.flags[person] & plan.service_blocked_lists[service]
    heeded = int(np.bitwise_or.reduce(ctx.rules.host_plan.service_blocked_lists, initial=0))
    for index, roster in enumerate(ctx.state.rosters):
        bit = list_bit(index)
        if not heeded & bit:  # a list no service heeds
            continue
        at = xp.flatnonzero(refusing & bit)  # the roster searched only for those it refuses
        if at.size:
            wrongful[at] &= roster.wrongful_of(person[at])
    fair = fair_tier(ctx, person)
    return wrongful & ~lookup(xp, plan.service_blocked_tiers, service, fair)


def _schedule_retries(ctx: Context, day: int, person: np.ndarray, service: np.ndarray) -> None:
    """Who of the refused tries again, and when: drawn by the refusal's region and rank among
    the region's refusals (`region_counters`), so a shard draws the same."""
    if person.size == 0:  # a day nobody was refused
        return
    n, tables = len(ctx.rules.host_plan.services), ctx.rules.tables
    key, wait_keys = ctx.streams.key("retry", day), ctx.streams.block_keys("retry:wait", day, n)
    compiled = None
    if kernels.active():
        compiled = kernels.retries(
            person,
            service,
            ctx.params.pop.region_start,
            key,
            tables.retry,
            wait_keys,
            tables.retry_stacked,
        )
    if compiled is not None:
        person, service, wait = compiled
    else:  # the reference (NumPy, the GPU)
        counter = region_counters(ctx.params.pop, person)
        again = accept(key, counter, tables.retry[service])
        person, service, counter = person[again], service[again], counter[again]
        wait = waiting_days_stacked(  # each from its service's key and wait table
            ctx.xp.asarray(wait_keys)[service], counter, *tables.retry_stacked, service
        )
    ctx.state.calendar.schedule("retry", day + wait, person=person, service=service)


class Sanction(Component):
    """4. sanction - services are requested; the listed and low-graded are refused, the
    high-graded and the redlisted rewarded (households of the listed refused, some grades
    charged premiums)."""

    name = stage = "sanction"
    reads = (
        "rulebook.services.<service>.reward_tiers",  # what rewards.grant rewards, shown first
        "rulebook.services.<service>.reward_lists",
        "rulebook.services",
    )
    writes = ("<service>_attempts, _blocked, _blocked_wrongful, _rewards, _evaded",)
    ledger = ("blocked/list", "blocked/tier", "blocked/household", "reward/list", "reward/tier")

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        flow.sanctions = sanction(ctx, day)
