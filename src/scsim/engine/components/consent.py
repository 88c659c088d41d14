"""Consent to be scored: a place whose rulebook asks for it scores only those who give it.

Rongcheng after its reform [P]: scoring needs the person's consent; without it their records
are kept but no score is computed. A place's `consent_share` (in its rulebook, or from one of
its dated changes) is the share of its people who consent; who they are is one draw per person
from the id, in a stream of its own (`Plan.unscored`), so it costs no bytes and every shard
and every resumed run draws the same people. A person who has not consented is scored by the
national rulebook alone, as if they lived in no place (`Plan.book_of`): their records are
kept in the ledger (delta 0 in `pilots`, whose national rulebook scores nobody), no place's
grade, refusal or reward reaches them, and lists reach them as they reach everyone.

Two components:

- `Consent` (after `places`): on a day the rules change, the people whose answer now counts
  differently move: those who have not consented to the national base score and grade (a
  `tier` row, origin "unconsented"), those who now consent to the place's base (origin
  "consented"); and every day, the people of each such place scored and unscored.
- `KeepUnscored` (after `score`): the day's records of the unscored, kept without a score.

    >>> plan.unscored(ids)       # lives where consent is asked, and has not given it
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import to_host
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.places import base_grades, starts
from scsim.engine.plan import Plan
from scsim.engine.state import LOCKED
from scsim.scenario.schema.places import asks_consent

if TYPE_CHECKING:
    from scsim.engine.context import Context


class Consent(Component):
    """0. consent - where a place asks for consent, those who have not given it are unscored."""

    name, stage = "consent", "rulebook"
    reads = ("places.<place>.rulebook.consent_share", "places.<place>.rulebook.changes")
    owns = ()  # it writes people.score, false_points, tier and the grade counts, which score owns
    writes = ("consent_scored_<place>", "consent_unscored_<place>")
    ledger = ("tier/unconsented", "tier/consented")

    def __init__(self, ctx: Context) -> None:
        s = ctx.params.scenario
        asking = asks_consent(s)
        self.places = [
            (name, book, first, end)
            for name, (_, book, first, end) in zip(
                s.places, starts(s, ctx.params.host_pop), strict=True
            )
            if name in asking
        ]
        self.bases = base_grades(s, ctx.rules.host_plan)
        self.counted: tuple[int, dict[str, tuple[int, int]]] | None = None  # per rules version

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        today = ctx.plans[ctx.version]
        if day == 0 or today[0] == day:  # the rules changed today: answers may count anew
            before = ctx.plans[ctx.version - 1][1] if day > 0 and ctx.version > 0 else None
            for _, book, first, end in self.places:
                self._move(ctx, day, (book, first, end), today[1], before)
        if self.counted is None or self.counted[0] != ctx.version:  # recomputed, not saved
            self.counted = (ctx.version, self._count(ctx, today[1]))
        for name, (scored, unscored) in self.counted[1].items():
            flow.columns[f"consent_scored_{name}"] = scored
            flow.columns[f"consent_unscored_{name}"] = unscored

    def _move(
        self, ctx: Context, day: int, place: tuple[int, int, int], now: Plan, before: Plan | None
    ) -> None:
        book, first, end = place
        ids = _ids(ctx, first, end)
        unscored = now.unscored(ids)
        was = before.unscored(ids) if before is not None else np.zeros(len(ids), dtype=bool)
        national, local = self.bases[0], self.bases[book]
        _move_to(ctx, day, ids[unscored & ~was], national, "unconsented")
        _move_to(ctx, day, ids[was & ~unscored & (now.place_book(ids) == book)], local, "consented")

    def _count(self, ctx: Context, plan: Plan) -> dict[str, tuple[int, int]]:
        counts = {}
        for name, book, first, end in self.places:
            ids = _ids(ctx, first, end)
            started = int(np.count_nonzero(plan.place_book(ids) == book))
            unscored = int(np.count_nonzero(plan.unscored(ids)))
            counts[name] = (started - unscored, unscored)
        return counts


def _ids(ctx: Context, first: int, end: int) -> np.ndarray:
    """The ids of [first, end) stepped here, on the host (the plans of `ctx.plans` are)."""
    lo, hi = max(first, ctx.params.people_range[0]), min(end, ctx.params.people_range[1])
    return np.arange(lo, max(hi, lo), dtype=np.int64)


def _move_to(ctx: Context, day: int, ids: np.ndarray, base: np.ndarray, origin: str) -> None:
    """Move `ids` to the base score and grade `base` (a row of `base_grades`), unlocked and
    without false points; a `tier` row each, with `origin`; the grade counts and score sum kept."""
    if ids.size == 0:
        return
    xp, people, state = ctx.xp, ctx.state.people, ctx.state
    who = xp.asarray(ids)
    score, grade = int(base[0]), int(base[1])
    old = people.tier[who].astype(np.int64)
    state.tier_counts -= to_host(xp.bincount(old, minlength=len(state.tier_counts)))
    state.tier_counts[grade] += ids.size
    state.score_sum += score * ids.size - int(people.score[who].astype(np.int64).sum())
    people.score[who] = score
    people.false_points[who] = 0
    people.tier[who] = grade
    state.members.touch(who, old, xp.full(who.size, grade))
    people.flags[who] &= np.uint8(~LOCKED & 0xFF)
    codes = ctx.params.codes.tiers
    ctx.ledger.add(day, "tier", who, codes[grade], grade - old, 0, ORIGIN[origin], True)


class KeepUnscored(Component):
    """3. unscored - the day's records of people who have not consented, kept without a score."""

    name, stage = "unscored", "score"
    reads = ("places.<place>.rulebook.consent_share", "places.<place>.rulebook.changes")
    writes = ("records_unscored (every place), records_unscored_<place>",)
    ledger = ("record (delta 0, under the national rulebook)",)

    def __init__(self, ctx: Context) -> None:
        s = ctx.params.scenario
        asking = set(asks_consent(s))
        self.places = [(1 + i, name) for i, name in enumerate(s.places) if name in asking]

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.records is not None
        plan, records = ctx.rules.plan, flow.records
        counts = np.zeros(len(ctx.params.scenario.places) + 1, dtype=np.int64)
        if plan.book_consent is not None and plan.recorded is not None and len(records):
            kept = plan.unscored(records.person) & plan.recorded[records.event]  # book 0's rule
            books = plan.place_book(records.person[kept])
            counts = to_host(ctx.xp.bincount(books, minlength=counts.size))
        flow.columns["records_unscored"] = int(counts[1:].sum())
        for book, name in self.places:
            flow.columns[f"records_unscored_{name}"] = int(counts[book])
