"""Stage 4, sanction: people ask for services; the restricted are refused, the trusted rewarded.

Demand is drawn per stratum and service at the service's daily rate, plus the retries of people
refused earlier: a refused person tries again with the service's retry chance after a wait, so
one listed person who keeps trying is refused again each time (SYSTEM.md: 108,000 blocked
flight purchases from 12,389 people). A request is refused when the person is on a list or in
a grade the service excludes; a request granted to a person in a rewarded grade is a reward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scsim.ledger import ORIGIN
from scsim.rng import accept, waiting_days
from scsim.sampling import people_in_strata
from scsim.state import TAINTED

RETRY_COLUMNS = {"person": np.int64, "service": np.int64}


@dataclass(frozen=True)
class Sanctions:
    attempts: np.ndarray  # int64 [V]
    blocked: np.ndarray  # int64 [V]
    blocked_wrongful: np.ndarray  # int64 [V]: refused people with a false record in history
    rewards: np.ndarray  # int64 [V]
    blocked_person: np.ndarray  # int64: who was refused (one entry per refusal)
    blocked_service: np.ndarray  # int64


def sanction(model, day: int) -> Sanctions:  # type: ignore[no-untyped-def]
    plan, pop, people = model.plan, model.pop, model.people
    demand = people_in_strata(pop, model.streams, "demand", day,
                              pop.stratum_size[:, None] * plan.service_daily[None, :])
    retry = model.calendar.due("retry", day, RETRY_COLUMNS)
    person = np.concatenate([demand.person, retry["person"]])
    service = np.concatenate([demand.column, retry["service"]])
    tier, flags = people.tier[person], people.flags[person]
    by_list = (flags & plan.service_blocked_lists[service]) != 0
    blocked = by_list | plan.service_blocked_tiers[service, tier]
    rewarded = ~blocked & plan.service_reward_tiers[service, tier]
    clean = (flags & TAINTED) == 0
    who, what = person[blocked], service[blocked]
    origin = np.where(by_list[blocked], ORIGIN["list"], ORIGIN["tier"]).astype(np.uint8)
    model.ledger.add(day, "blocked", who, model.codes.services[what], 0, 0, origin, clean[blocked])
    _schedule_retries(model, day, who, what)
    n = len(plan.services)
    return Sanctions(
        attempts=np.bincount(service, minlength=n),
        blocked=np.bincount(what, minlength=n),
        blocked_wrongful=np.bincount(what[~clean[blocked]], minlength=n),
        rewards=np.bincount(service[rewarded], minlength=n),
        blocked_person=who,
        blocked_service=what,
    )


def _schedule_retries(model, day: int, person: np.ndarray, service: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    counter = np.arange(person.size, dtype=np.int64)
    again = accept(model.streams.key("retry", day), counter, model.tables.retry[service])
    wait = np.empty(int(again.sum()), dtype=np.int64)
    for v in np.unique(service[again]):
        mine = service[again] == v
        wait[mine] = waiting_days(model.streams.key("retry:wait", day, int(v)),
                                  counter[again][mine], model.tables.retry_cdf[v])
    model.calendar.schedule("retry", day + wait, person=person[again], service=service[again])
