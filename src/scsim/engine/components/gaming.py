"""Behaviour response: gaming, acts done for the points (docs/sources.md, Apps, 000: a study app's
points are visible to employers and schools, which sanction those with too few; a youth app
adds points for reading leaders' speeches; volunteering and blood donation earn points, 003).

People perform point-earning acts (study-app sessions, performative volunteering) at a base rate,
more while their grade is a pressed one and more for each refusal or demotion they have suffered
(`People.wariness`). Candidates are drawn per stratum at the highest rate anyone can have, sparsely
(`sampling.people_in_strata`), and each is kept with the person's own rate over that highest rate,
read from a table by grade and wariness (thinning, docs/architecture.md): the work is proportional
to the candidates, never to the population. At most `daily_cap` acts a day of one person earn points
(the apps cap daily points); acts past the cap are not done. Each act is a record of its own (rule
RULE, origin "gamed", truth true: the act was done), so the audit tells gamed points from genuine
pro-social events; with `expires_after_days` it is reversed later (origin "expiry"). Grades move
with the points the same day, so they count for today's requests.

Every draw is keyed by stratum and counter, and a model counts only its regions' strata
(`params.region_people`), so a shard draws exactly the single process's acts of its people.

    >>> gaming = Gaming.of(scenario, pop, xp)      # None while gaming is off
    >>> gamed = game(ctx, day)                   # after score, before sanction
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import lookup, stable_argsort
from scsim.engine.components.grades import regrade
from scsim.engine.components.outcome import Outcome
from scsim.engine.components.score import _apply_points
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.plan import DAYS_PER_YEAR
from scsim.engine.population import Population
from scsim.engine.rng import accept, threshold
from scsim.engine.sampling import people_in_strata
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context


RULE = "gaming"  # the ledger's rule name for gamed acts and their reversals
REVERSAL_COLUMNS: dict[str, type[np.generic]] = {"person": np.int64}
WARINESS_LEVELS = 256  # People.wariness is a uint8


@dataclass(frozen=True)
class Gaming:
    """Gaming compiled for a run: the candidates per stratum (host), and the chance that a
    candidate of grade t and wariness w acts (device thresholds)."""

    expected: np.ndarray  # float64 [S, 1], on the host: candidates per day at the top rate
    keep: np.ndarray  # uint64 [T, 256]: threshold of rate(t, w) / top rate
    pressed: np.ndarray  # bool [T]: grades under pressure, for the metrics
    points: int
    daily_cap: int
    expires: int  # days until a gamed act's points are reversed, -1 for never
    reads_wariness: bool  # the rate rises with wariness, so wariness must grow

    @classmethod
    def of(cls, s: Scenario, pop: Population, xp: ModuleType) -> Gaming | None:
        spec = s.behaviour.gaming
        if spec.per_year == 0:
            return None
        rate = relative_rates(s)
        top = float(rate.max())
        return cls(
            expected=(pop.stratum_size * spec.per_year * top / DAYS_PER_YEAR)[:, None],
            keep=xp.asarray(threshold(rate / top if top > 0 else rate)),
            pressed=xp.asarray([t in spec.pressed_tiers for t in s.rulebook.tiers], dtype=bool),
            points=spec.points,
            daily_cap=spec.daily_cap,
            expires=-1 if spec.expires_after_days is None else spec.expires_after_days,
            reads_wariness=s.behaviour.feedback and spec.per_sanction > 0,
        )


def relative_rates(s: Scenario) -> np.ndarray:
    """Each (grade, wariness)'s rate of acts over the base rate [T, 256]: `pressed` in the
    pressed grades times 1 + `per_sanction` x wariness (capped at `max_sanctions`); 1 for
    everyone while feedback is off (behaviour frozen, no response to pressure)."""
    spec, tiers = s.behaviour.gaming, list(s.rulebook.tiers)
    if not s.behaviour.feedback:
        return np.ones((len(tiers), WARINESS_LEVELS))
    by_tier = np.array([spec.pressed if t in spec.pressed_tiers else 1.0 for t in tiers])
    wary = np.minimum(np.arange(WARINESS_LEVELS), s.behaviour.deterrence.max_sanctions)
    return by_tier[:, None] * (1.0 + spec.per_sanction * wary)[None, :]


def game(ctx: Context, day: int) -> Outcome[np.ndarray]:
    """Today's gamed acts and the reversals of earlier ones due today: ledger rows, points,
    grades. The value is the people whose grade a reversal worsened today."""
    xp, gaming = ctx.xp, ctx.params.mechanisms.gaming
    if gaming is None:
        return Outcome(xp.empty(0, dtype=np.int64))
    person = _acts(ctx, day, gaming)
    pressed = int(gaming.pressed[ctx.state.people.tier[person]].sum()) if person.size else 0
    code = ctx.params.codes.vocabulary.code(RULE)
    ctx.ledger.add(day, "record", person, code, gaming.points, 0, ORIGIN["gamed"], True)
    if gaming.expires >= 0:
        ctx.state.calendar.schedule(
            "gaming", xp.full(person.size, day + gaming.expires, dtype=np.int64), person=person
        )
    faded = ctx.state.calendar.due("gaming", day, REVERSAL_COLUMNS, xp)["person"]
    ctx.ledger.add(day, "record", faded, code, -gaming.points, 0, ORIGIN["expiry"], True)
    who = xp.concatenate([person, faded])
    delta = xp.concatenate(
        [xp.full(person.size, gaming.points), xp.full(faded.size, -gaming.points)]
    ).astype(np.int64)
    touched = _apply_points(ctx, who, delta, xp.ones(who.size, dtype=bool))
    empty = xp.empty(0, dtype=np.int64)
    demoted = regrade(ctx, day, touched, empty, empty, xp.empty(0, dtype=bool))
    return Outcome(
        demoted,
        {
            "gaming_acts": int(person.size),
            "gaming_points": int(person.size) * gaming.points,
            "gaming_acts_pressed": pressed,
            "gaming_points_faded": int(faded.size) * gaming.points,
        },
    )


def _acts(ctx: Context, day: int, gaming: Gaming) -> np.ndarray:
    """Who acts today, once per act, at most `daily_cap` times each: candidates at the top rate
    in this model's strata, kept by grade and wariness, then each person's first acts."""
    xp, people, pop = ctx.xp, ctx.state.people, ctx.params.host_pop
    mine = ctx.params.region_people[pop.stratum_region] > 0  # a shard's own strata only
    draw = people_in_strata(
        ctx.params.pop, ctx.streams, "gaming", day, gaming.expected * mine[:, None]
    )
    thresholds = lookup(xp, gaming.keep, people.tier[draw.person], people.wariness[draw.person])
    draw = draw.take(accept(ctx.streams.key("gaming:keep", day), draw.serial, thresholds))
    return _first_acts(xp, draw.person, gaming.daily_cap)


def _first_acts(xp: ModuleType, person: np.ndarray, cap: int) -> np.ndarray:
    """Each person's first `cap` entries of `person` (draw order), in that order, people
    sorted: a person's acts are all in one stratum's block, so their order is the counters'."""
    order = stable_argsort(xp, person)
    ranked = person[order]
    first = xp.searchsorted(ranked, ranked)  # where each person's run begins
    rank = xp.arange(ranked.size, dtype=np.int64) - first
    return ranked[rank < cap]


class Game(Component):
    """People pressed for points perform acts for them, before today's requests."""

    name, stage = "game", "score"
    reads = ("behaviour.gaming",)
    owns = ("calendar: gaming reversal",)
    writes = ("gaming_acts", "gaming_points", "gaming_acts_pressed", "gaming_points_faded")
    ledger = ("record/gamed",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        gamed = game(ctx, day)
        flow.felt.append(gamed.value)
        flow.columns.update(gamed.metrics)
