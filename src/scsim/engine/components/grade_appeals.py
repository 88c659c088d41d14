"""Appeals against a grade: a locked grade can be contested, as a listing can.

A rule (or an official, `scsim.engine.components.wrongs`) may set a grade at once and lock it
for years (Wendeng: 2, 3 or 5; source 004: 2, 2, 5), and a grade reached by points may lock
too (`rulebook.tiers.<t>.lock_days`). Lists have appeals (`listing`); grades get theirs here
(`rulebook.grade_appeals`, every value [U]). On the day a lock is set, its person
appeals with one chance if the lock rests on true records and another if it rests on a false
record or a wrong (`Roster.wrongful`); the decision comes after a wait drawn then (geometric,
`mean_days`), and it succeeds with a chance of its own for each side. All three draws are made
at filing, keyed by the person's id (a shard draws the same), and the decision waits in the
calendar (kind "grade_appeal"). On its day an appeal is decided only if its lock still stands
as it was (not ended, not reset by a later direct grade); a success releases the lock and the
grade follows the score again (a grade held by an uncorrected offence still cannot rise): a
"tier" row with origin "appeal_won" where the grade moves.

    >>> appeals = GradeAppeals.of(scenario, xp)      # None while rulebook.grade_appeals is off
    >>> restored = appeal_grades(ctx, day)          # after score
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import to_host
from scsim.engine.components.grades import by_points, fair_tier
from scsim.engine.components.outcome import Outcome
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.rng import accept, geometric_cdf, threshold, waiting_days
from scsim.engine.state import LOCKED
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context

HORIZON = 3650  # days: a decision drawn past it never comes
COLUMNS: dict[str, type[np.generic]] = {
    "person": np.int64,
    "filed": np.int32,
    "won": np.bool_,
    "wrongful": np.bool_,
}


@dataclass(frozen=True)
class GradeAppeals:
    appeal: np.ndarray  # uint64 [2]: threshold of appealing, [rightly, wrongly] graded
    win: np.ndarray  # uint64 [2]: threshold of succeeding
    wait_cdf: np.ndarray  # days to the decision

    @classmethod
    def of(cls, s: Scenario, xp: ModuleType) -> GradeAppeals | None:
        a = s.rulebook.grade_appeals
        if a is None or a.share_rightly == a.share_wrongly == 0.0:
            return None
        return cls(
            appeal=xp.asarray(threshold(np.array([a.share_rightly, a.share_wrongly]))),
            win=xp.asarray(threshold(np.array([a.success_rightly, a.success_wrongly]))),
            wait_cdf=xp.asarray(geometric_cdf(1.0 / a.mean_days, HORIZON)),
        )


def appeal_grades(ctx: Context, day: int) -> Outcome[np.ndarray]:
    """Decide today's appeals, then file those against the locks set today; the value is the
    people whose grade an appeal restored today."""
    appeals = ctx.params.mechanisms.grade_appeals
    assert appeals is not None
    restored, decided = _decide(ctx, day)
    filed = _file(ctx, day, appeals)
    return Outcome(restored, filed | decided)


def _file(ctx: Context, day: int, appeals: GradeAppeals) -> dict[str, int]:
    xp, locks = ctx.xp, ctx.state.locks
    today = locks.entered_on(day)  # not the columns: they would merge the locks' two parts
    person, wrongful = today["ids"], today["wrongful"]
    side = wrongful.astype(np.int64)
    streams = ctx.streams
    filing = accept(streams.key("grade-appeal", day), person, appeals.appeal[side])
    wait = waiting_days(streams.key("grade-appeal:wait", day), person, appeals.wait_cdf)
    wins = accept(streams.key("grade-appeal:won", day), person, appeals.win[side])
    heard = filing & (wait <= HORIZON)
    ctx.state.calendar.schedule(
        "grade_appeal",
        (day + wait)[heard],
        person=person[heard],
        filed=xp.full(int(heard.sum()), day, dtype=np.int32),
        won=wins[heard],
        wrongful=wrongful[heard],
    )
    return {
        "grade_appeals_filed": int(filing.sum()),
        "grade_appeals_filed_wrongly_graded": int((filing & wrongful).sum()),
    }


def _decide(ctx: Context, day: int) -> tuple[np.ndarray, dict[str, int]]:
    """Appeals decided today against a lock that still stands as it was when they were filed;
    the winners' locks are released and their grades follow the score again."""
    xp, locks = ctx.xp, ctx.state.locks
    due = ctx.state.calendar.due("grade_appeal", day, COLUMNS, xp)
    stands = xp.zeros(len(due["person"]), dtype=bool)
    if len(due["person"]) and len(locks):
        stands = locks.entered_of(due["person"]) == due["filed"]
    won = stands & due["won"]
    restored = _release(ctx, day, due["person"][won])
    return restored, {
        "grade_appeals_decided": int(stands.sum()),
        "grade_appeals_won": int(won.sum()),
        "grade_appeals_won_wrongly_graded": int((won & due["wrongful"]).sum()),
    }


def _release(ctx: Context, day: int, person: np.ndarray) -> np.ndarray:
    """Release the locks of `person` (sorted, unique, each locked): the grade follows the score
    again; a grade that moves writes its row (origin appeal_won) and its counts."""
    if person.size == 0:
        return person
    xp, people, plan = ctx.xp, ctx.state.people, ctx.rules.plan
    ctx.state.locks.take_ids(person)
    people.flags[person] &= ~LOCKED
    before = people.tier[person].copy()
    after = by_points(ctx, person)  # an uncorrected offence still holds it from rising
    people.tier[person] = after
    moved = xp.flatnonzero(after != before)
    who = person[moved]
    ctx.ledger.add(
        day,
        "tier",
        who,
        ctx.params.codes.tiers[after[moved]],
        after[moved].astype(np.int64) - before[moved],
        0,
        ORIGIN["appeal_won"],
        fair_tier(ctx, who) >= after[moved],
    )
    tiers = len(plan.tiers)
    ctx.state.tier_counts += to_host(
        xp.bincount(after[moved], minlength=tiers) - xp.bincount(before[moved], minlength=tiers)
    )
    ctx.state.members.touch(who, before[moved], after[moved])
    if ctx.params.mechanisms.services is not None:  # lists entered by grade follow it
        ctx.params.mechanisms.services.follow_grades(ctx, day, who, after[moved])
    return who


class AppealGrades(Component):
    """People contest a locked grade; a success releases the lock and the grade follows the
    score again."""

    name, stage = "appeal", "score"
    reads = ("rulebook.grade_appeals",)
    owns = ("calendar: grade_appeal", "locks (released by a won appeal)")
    writes = (
        "grade_appeals_filed",
        "grade_appeals_filed_wrongly_graded",
        "grade_appeals_decided",
        "grade_appeals_won",
        "grade_appeals_won_wrongly_graded",
    )
    ledger = ("tier/appeal_won",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        flow.columns.update(appeal_grades(ctx, day).metrics)
