"""Stage 1, behave: what people really do today (true events, never seen by the system as such).

Events are drawn per stratum and event type at the stratum's rate, lowered by deterrence from
surveillance (the chance of being recorded, known per stratum and event); then each offence is
kept with the chance left after the person's own sanctions ("thinning", DESIGN.md), so the work
is proportional to events, and a counterfactual without deterrence draws a superset of them.
"""

from __future__ import annotations

import numpy as np

from scsim.rng import accept
from scsim.sampling import Draw, people_in_strata


def behave(model, day: int) -> Draw:  # type: ignore[no-untyped-def]
    plan, pop = model.plan, model.pop
    rate = plan.daily_rate
    if plan.feedback and plan.deter_surveillance > 0:
        rate = rate * (1.0 - plan.deter_surveillance * plan.detect_chance * plan.offence)
    events = people_in_strata(pop, model.streams, "behave", day, pop.stratum_size[:, None] * rate)
    if not (plan.feedback and plan.deter_per_sanction > 0) or len(events) == 0:
        return events
    wary = model.people.wariness[events.person]
    candidates = np.flatnonzero((wary > 0) & plan.offence[events.column])
    if candidates.size == 0:
        return events
    thresholds = model.tables.deterred_keep[np.minimum(wary[candidates], plan.deter_max)]
    kept = accept(model.streams.key("deterrence", day), events.serial[candidates], thresholds)
    keep = np.ones(len(events), dtype=bool)
    keep[candidates[~kept]] = False
    return Draw(*(np.asarray(a)[keep] for a in (events.stratum, events.column, events.person,
                                                  events.serial)))
