"""Stage 1, behave: what people really do today (true events, never seen by the system as such).

Events are drawn per stratum and event type at the stratum's rate, lowered by deterrence from
surveillance (the chance of being recorded, known per stratum and event); then each offence is kept
with the chance left after the person's own sanctions ("thinning", docs/architecture.md), so the
work is proportional to events, and a counterfactual without deterrence draws a superset of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.day import Component, Flow
from scsim.engine.rng import accept
from scsim.engine.sampling import Draw, people_in_strata

if TYPE_CHECKING:
    from scsim.engine.context import Context
    from scsim.engine.plan import Plan
    from scsim.engine.population import Population


def behave(ctx: Context, day: int) -> Draw:
    xp, plan, host = ctx.xp, ctx.rules.plan, ctx.rules.host_plan
    events = people_in_strata(ctx.params.pop, ctx.streams, "behave", day, ctx.rules.expected_events)
    if not (host.feedback and host.deter_per_sanction > 0) or len(events) == 0:
        return events
    # the wariness read only for the events deterrence can hold back (offences), not for every
    # event of the day: a read of a nation's wariness is a cache miss each
    deterred = xp.flatnonzero(plan.deterred[events.column])
    wary = ctx.state.people.wariness[events.person[deterred]]
    held = wary > 0
    candidates = deterred[held]
    if candidates.size == 0:
        return events
    thresholds = ctx.rules.tables.deterred_keep[wary[held]]
    kept = accept(ctx.streams.key("deterrence", day), events.serial[candidates], thresholds)
    keep = xp.ones(len(events), dtype=bool)
    keep[candidates[~kept]] = False
    return events.take(keep)


def expected_events(plan: Plan, pop: Population) -> np.ndarray:
    """People x daily rate per stratum and event type, lowered by deterrence from surveillance
    (offences fall by a share of the chance of being recorded). Host arrays, computed once."""
    rate = plan.daily_rate
    if plan.feedback and plan.deter_surveillance > 0:
        rate = rate * (1.0 - plan.deter_surveillance * plan.detect_chance * plan.deterred)
    return pop.stratum_size[:, None] * rate


class Behave(Component):
    """1. behave - people act: true events, fewer offences where deterrence bites."""

    name = stage = "behave"
    reads = ("population", "behaviour.events", "behaviour.deterrence")

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        flow.events = behave(ctx, day)
