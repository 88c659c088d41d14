"""Places start: on a place's start day its people move from the national grades to the base
score and grade of its own rulebook (`scsim.engine.places`).

A place is a region, so its people are one contiguous id range: the move is one pass over
that range, once a run. Points earned before the start (under the national rulebook: none in
`pilots`, whose national rulebook scores nobody) are left behind, as a pilot that starts from
its base does; the move writes no ledger row per person (a city of 20 million would write 20
million), only the metrics column `place_started`, the people moved that day. The run's
scenario says which place started when, and the audit reads it from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import to_host
from scsim.engine.day import Component, Flow
from scsim.engine.places import base_grades, starts
from scsim.engine.state import LOCKED

if TYPE_CHECKING:
    from scsim.engine.context import Context


class StartPlaces(Component):
    """0. places - a place whose start day it is moves its people to its base grade."""

    name, stage = "places", "rulebook"
    reads = ("places.<place>.start", "places.<place>.rulebook.base")
    owns = ()  # it writes people.score, false_points, tier and the grade counts, which score owns
    writes = ("place_started",)

    def __init__(self, ctx: Context) -> None:
        s, plan = ctx.params.scenario, ctx.rules.host_plan
        self.starts = starts(s, ctx.params.host_pop)
        self.bases = base_grades(s, plan)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        moved = 0
        for start, book, first, end in self.starts:
            if start == day:
                moved += start_place(ctx, first, end, *(int(x) for x in self.bases[book]))
        flow.columns["place_started"] = moved


def start_place(ctx: Context, first: int, end: int, base: int, grade: int) -> int:
    """Move the people of [first, end) (within the ids stepped here) to `base` and `grade`;
    keep the grade counts and the score sum; return how many moved."""
    lo, hi = max(first, ctx.params.people_range[0]), min(end, ctx.params.people_range[1])
    if hi <= lo:
        return 0
    xp, people, state = ctx.xp, ctx.state.people, ctx.state
    tiers = len(state.tier_counts)
    state.tier_counts -= to_host(xp.bincount(people.tier[lo:hi], minlength=tiers))
    state.tier_counts[grade] += hi - lo
    state.score_sum += base * (hi - lo) - int(people.score[lo:hi].astype(np.int64).sum())
    people.score[lo:hi] = base
    people.false_points[lo:hi] = 0
    people.tier[lo:hi] = grade
    state.members.clear(lo, hi)  # a place's base grade is a starting grade: never rostered
    people.flags[lo:hi] &= np.uint8(~LOCKED & 0xFF)
    return hi - lo


class TallyPlaces(Component):
    """4. tally - the day's rewards counted per place: the ledger holds refusals, not rewards,
    so the audit reads them per place from these columns."""

    name, stage = "tally", "sanction"
    reads = ("places.<place>.rulebook.rewards",)
    writes = ("rewards_<place>",)

    def __init__(self, ctx: Context) -> None:
        self.names = tuple(ctx.params.scenario.places)
        self.books = len(self.names) + 1

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.sanctions is not None and flow.sanctions.rewarded_person is not None
        book = ctx.rules.plan.book_of(flow.sanctions.rewarded_person)
        counts = to_host(ctx.xp.bincount(book, minlength=self.books))
        for i, name in enumerate(self.names):
            flow.columns[f"rewards_{name}"] = int(counts[1 + i])
