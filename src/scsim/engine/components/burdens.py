"""Burdens of a grade, suffered and counted (docs/sources.md, Scores, points and tiers: tier B,
regular visits by officers; tier C, harassment and searches, 004).

A grade may carry burdens at a rate per person-year (`rulebook.tiers.<grade>.burdens`). Once a week
(every PERIOD days) the people in burdened grades are found, the week's burdens of each are drawn
(a Poisson count, by a threshold table so that every backend draws the same), and each is put on a
day of the coming week in the calendar (kind "burden"). The burdened grades' holders are their
rosters (`scsim.engine.members`), kept as grades move; only where a burdened grade is a starting
grade (no roster) does one pass over the grade array find them, once a week. On its day
a burden is written to the ledger (kind "burden", rule the burden, source the grade, origin "tier"),
wrongful (truth false) when the person's grade without their false records would not carry it, and
counted (`burden_<name>`, `burden_<name>_wrongful`). A visit or a search is a sanction felt: the
person grows wary of it as of a refusal (`respond`), one step per burden, wrongful or not, as a
refusal on a false listing is felt all the same.

    >>> burdens = Burdens.of(scenario, xp)       # None while no grade has burdens
    >>> burdened = suffer(ctx, day)            # after sanction; .value grows wary in respond
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import to_host
from scsim.engine.components.grades import fair_tier
from scsim.engine.components.outcome import Outcome
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.plan import DAYS_PER_YEAR
from scsim.engine.rng import integers, poisson_thresholds
from scsim.engine.sampling import each_by_count, region_counters
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context


PERIOD = 7  # days between passes over the grades
MAX_PER_PERIOD = 64  # the count table's length: a weekly mean of at most 1000 * 7 / 365 ~ 19
COLUMNS: dict[str, type[np.generic]] = {"person": np.int64, "burden": np.int16, "tier": np.uint8}
SCAN_CHUNK = 1 << 20  # grades scanned at once by the weekly pass (1 MiB: stays in cache)


@dataclass(frozen=True)
class Burdens:
    names: tuple[str, ...]
    carried: np.ndarray  # bool [T, B]: the grade carries the burden
    carried_on_host: np.ndarray  # the same, on the host, to loop over
    count_cdf: np.ndarray  # uint64 [T, B, MAX_PER_PERIOD]: thresholds of the week's count

    @classmethod
    def of(cls, s: Scenario, xp: ModuleType) -> Burdens | None:
        tiers = list(s.rulebook.tiers.values())
        names = tuple(dict.fromkeys(name for t in tiers for name in t.burdens))
        if not names:
            return None
        rate = np.array([[t.burdens.get(n, 0.0) for n in names] for t in tiers])
        return cls(
            names=names,
            carried=xp.asarray(rate > 0),
            carried_on_host=rate > 0,
            count_cdf=xp.asarray(poisson_thresholds(rate * PERIOD / DAYS_PER_YEAR, MAX_PER_PERIOD)),
        )


def suffer(ctx: Context, day: int) -> Outcome[np.ndarray]:
    """Today's burdens: ledger rows and counts; the value is the person of each burden."""
    burdens = ctx.params.mechanisms.burdens
    if burdens is None:
        return Outcome(ctx.xp.empty(0, dtype=np.int64))
    if day % PERIOD == 0:
        _plan_week(ctx, day, burdens)
    xp = ctx.xp
    due = ctx.state.calendar.due("burden", day, COLUMNS, xp)
    person, burden = due["person"], due["burden"].astype(np.int64)
    truth = burdens.carried[fair_tier(ctx, person), burden]
    code = xp.asarray(ctx.params.codes.vocabulary.codes(burdens.names))
    source = ctx.params.codes.tiers[due["tier"].astype(np.int64)]
    ctx.ledger.add(day, "burden", person, code[burden], 0, source, ORIGIN["tier"], truth)
    n = len(burdens.names)
    counts = to_host(xp.bincount(burden, minlength=n))
    wrongful = to_host(xp.bincount(burden[~truth], minlength=n))
    row = {}
    for b, name in enumerate(burdens.names):
        row[f"burden_{name}"] = int(counts[b])
        row[f"burden_{name}_wrongful"] = int(wrongful[b])
    return Outcome(person, row)


def _plan_week(ctx: Context, day: int, burdens: Burdens) -> None:
    """The one pass: who is in a burdened grade now, and the week's burdens of each (the days
    drawn by their region and rank there, `region_counters`: a shard draws the same)."""
    xp = ctx.xp
    tiers = [int(t) for t in np.unique(np.nonzero(burdens.carried_on_host)[0])]
    if ctx.params.rostered[tiers].all():  # kept as grades move (`scsim.engine.members`)
        lo, hi = ctx.params.people_range
        holders = {t: ctx.state.members.of(t, ctx.state.people.tier) for t in tiers}
        members = {t: ids[(ids >= lo) & (ids < hi)] for t, ids in holders.items()}
    else:  # a burdened starting grade: one pass over the grades
        members = _members(xp, ctx.state.people.tier, *ctx.params.people_range, tiers)
    for t, b in zip(*np.nonzero(burdens.carried_on_host), strict=True):
        key = ctx.streams.key("burden", day, int(b))
        who = each_by_count(xp, key, members[int(t)], burdens.count_cdf[t, b])
        when = integers(
            ctx.streams.key("burden:when", day, int(t) << 16 | int(b)),
            region_counters(ctx.params.pop, who),
            PERIOD,
        )
        ctx.state.calendar.schedule(
            "burden",
            day + when,
            person=who,
            burden=xp.full(who.size, b, dtype=np.int16),
            tier=xp.full(who.size, t, dtype=np.uint8),
        )


def _members(
    xp: ModuleType, tier: np.ndarray, lo: int, hi: int, tiers: list[int]
) -> dict[int, np.ndarray]:
    """The ids in [lo, hi) of the people in each of `tiers`, ascending: one pass over the grades
    in chunks of SCAN_CHUNK, each kept to the range of those tiers and then split by grade. A
    comparison and a search of the whole array per tier made two arrays of its size and read
    each again (national-score: about 5 s a week; chunks stay in cache)."""
    first, span = np.uint8(min(tiers)), np.uint8(max(tiers) - min(tiers))
    found: dict[int, list[np.ndarray]] = {t: [] for t in tiers}
    shifted = xp.empty(min(SCAN_CHUNK, hi - lo), dtype=np.uint8)
    inside = xp.empty(shifted.size, dtype=bool)
    for start in range(lo, hi, SCAN_CHUNK):
        part = tier[start : min(start + SCAN_CHUNK, hi)]
        xp.subtract(part, first, out=shifted[: part.size])  # wraps below `first`: out of range
        xp.less_equal(shifted[: part.size], span, out=inside[: part.size])
        at = xp.flatnonzero(inside[: part.size])
        grade = part[at]
        for t in tiers:
            found[t].append(start + at[grade == t])
    return {
        t: xp.concatenate(parts) if parts else xp.empty(0, dtype=np.int64)
        for t, parts in found.items()
    }


class Suffer(Component):
    """People in burdened grades suffer their officer visits and searches: sanctions felt."""

    name, stage = "suffer", "sanction"
    reads = ("rulebook.tiers.<grade>.burdens",)
    owns = ("calendar: burden",)
    writes = ("burden_<name>", "burden_<name>_wrongful")
    ledger = ("burden/<name>",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        burdened = suffer(ctx, day)
        flow.felt.append(burdened.value)
        flow.columns.update(burdened.metrics)
