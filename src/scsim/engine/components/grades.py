"""Grades (tiers): they follow the score, except while a directly set grade is locked.

A rule may set a grade at once (drunk driving: C; an intentional crime: D) and lock it for a
period (Wendeng: 2, 3 or 5 years); a grade may also lock when points bring a person down into
it (`tiers.<t>.lock_days`; 004: B and C fixed for 2 years, D for 5). While locked the grade
stays fixed and points still count; when the lock ends the grade follows the score again.
While an offence is uncorrected (`rules.<r>.uncorrected_days`, Wendeng) points earned are
recorded but the grade cannot rise. Only people whose score changed, whose lock or hold ended
or who were graded directly today are looked at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import find_sorted, in_sorted, to_host, unique
from scsim.engine.ledger import ORIGIN
from scsim.engine.state import LOCKED

if TYPE_CHECKING:
    from scsim.engine.context import Context


def regrade(
    ctx: Context,
    day: int,
    touched: np.ndarray,
    direct_person: np.ndarray,
    direct_event: np.ndarray,
    direct_truth: np.ndarray,
) -> np.ndarray:
    """Move grades for today's changes; write ledger rows; return the people demoted.
    `touched` is sorted and unique, as `score._apply_points` returns it."""
    xp, people = ctx.xp, ctx.state.people
    released = ctx.state.locks.take_due(day)["ids"]
    unheld = ctx.state.holds.take_due(day)["ids"]  # offences corrected: the grade may rise
    affected = touched
    if released.size or unheld.size or direct_person.size:
        affected = unique(xp, xp.concatenate([touched, released, unheld, direct_person]))
    if affected.size == 0:  # nobody's points, lock or grade changed today
        return affected
    if released.size:  # (a grade's release changes flags, not grades)
        people.flags[released] &= ~LOCKED
    compiled = _follow_points_compiled(ctx, day, affected)
    if compiled is None:
        before = people.tier[affected].copy()
        _follow_points(ctx, day, affected[(people.flags[affected] & LOCKED) == 0])
        _lock(ctx, day, direct_person, direct_event, direct_truth)
        after = people.tier[affected]
    else:  # the kernel's grades after, but for those a rule grades directly (a few a day)
        before, after = compiled
        _lock(ctx, day, direct_person, direct_event, direct_truth)
        if direct_person.size:
            at = find_sorted(xp, direct_person, affected)[0]
            after[at] = people.tier[direct_person]
    moved = xp.flatnonzero(after != before)
    if moved.size == 0:  # no grade moved: no rows, no counts, nobody demoted
        return affected[:0]
    origin = xp.full(moved.size, ORIGIN["score"], dtype=np.uint8)
    if released.size:  # a roster's ids: sorted
        origin[in_sorted(xp, affected[moved], released)] = ORIGIN["lock_ended"]
    if direct_person.size:
        origin[in_sorted(xp, affected[moved], xp.sort(direct_person))] = ORIGIN["direct_grade"]
    who = affected[moved]
    ctx.ledger.add(
        day,
        "tier",
        who,
        ctx.params.codes.tiers[after[moved]],
        after[moved].astype(np.int64) - before[moved],
        0,
        origin,
        fair_tier(ctx, who) >= after[moved],  # true unless false records made it worse
    )
    tiers = len(ctx.rules.host_plan.tiers)
    ctx.state.tier_counts += to_host(
        xp.bincount(after[moved], minlength=tiers) - xp.bincount(before[moved], minlength=tiers)
    )
    ctx.state.members.touch(who, before[moved], after[moved])
    if (
        ctx.params.mechanisms.services is not None
    ):  # lists entered by grade (scsim.engine.components.services)
        ctx.params.mechanisms.services.follow_grades(ctx, day, who, after[moved])
    return who[after[moved] > before[moved]]


def by_points(ctx: Context, person: np.ndarray) -> np.ndarray:
    """The grade each person's points give them now (with places, in their own rulebook),
    except that a grade held by an uncorrected offence does not rise (counted)."""
    xp, people = ctx.xp, ctx.state.people
    grade = ctx.rules.plan.tier_of(people.score[person], person)
    if len(ctx.state.holds):
        held = ctx.state.holds.contains(person) & (grade < people.tier[person])
        ctx.state.rises_held += int(xp.count_nonzero(held))
        grade = xp.where(held, people.tier[person], grade)
    return grade


def _follow_points(ctx: Context, day: int, free: np.ndarray) -> None:
    """The grades of people not locked follow their points, except that a grade held by an
    uncorrected offence cannot rise (Wendeng), and a grade reached by falling into one that
    locks (004: B and C for 2 years, D for 5) is then locked."""
    xp, people, plan = ctx.xp, ctx.state.people, ctx.rules.plan
    before = people.tier[free]
    grade = by_points(ctx, free)
    people.tier[free] = grade
    if not ctx.rules.host_plan.tier_lock_days.any():
        return
    fell = xp.flatnonzero((grade > before) & (plan.tier_lock_days[grade] > 0))
    _lock_fallen(ctx, day, free[fell], grade[fell])


def _lock_fallen(ctx: Context, day: int, who: np.ndarray, grade: np.ndarray) -> None:
    """Lock the grades `who` fell into by points, for their grades' `lock_days`."""
    if who.size == 0:
        return
    wrongful = fair_tier(ctx, who) < grade  # without its false records, a better grade
    ctx.state.locks.extend(who, day, day + ctx.rules.plan.tier_lock_days[grade], wrongful)
    ctx.state.people.flags[who] |= LOCKED
    ctx.state.locked_by_points += int(who.size)


def _follow_points_compiled(
    ctx: Context, day: int, affected: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """`_follow_points` of the unlocked among `affected` by one compiled pass (`--backend
    numba`, one scale, no grade held): their grades before and after (read back, a nation's
    1.4 million gathers a day, where the kernel has them); None where the reference runs."""
    plan, people = ctx.rules.plan, ctx.state.people
    if not (kernels.active() and ctx.xp is np) or plan.book_key is not None:
        return None
    if len(ctx.state.holds):
        return None
    compiled = kernels.follow_points(
        affected, people.score, people.tier, people.flags, plan.tier_min, int(LOCKED),
        plan.tier_lock_days,
    )  # fmt: skip
    if compiled is None:
        return None
    before, after, fell = compiled
    if ctx.rules.host_plan.tier_lock_days.any():
        fell = np.flatnonzero(fell)
        _lock_fallen(ctx, day, affected[fell], after[fell])
    return before, after


def _lock(ctx: Context, day: int, person: np.ndarray, event: np.ndarray, truth: np.ndarray) -> None:
    """Set each person's grade to at least the rule's, locked until the latest lock ends. A
    lock is wrongful when a false record set it and no true one had locked the person."""
    if person.size == 0:
        return
    xp, people, plan = ctx.xp, ctx.state.people, ctx.rules.plan
    # each person's worst grade first, a true record before a false one for the same grade,
    # ties broken by event so that every backend picks the same row
    order = xp.lexsort(xp.stack([event, ~truth, -plan.set_tier[event], person]))
    person, event, truth = person[order], event[order], truth[order]
    first = xp.concatenate([xp.ones(1, dtype=bool), person[1:] != person[:-1]])
    person, event, truth = person[first], event[first], truth[first]
    people.tier[person] = xp.maximum(people.tier[person], plan.set_tier[event].astype(np.uint8))
    lasting = plan.lock_days[event] > 0
    person, until = person[lasting], day + plan.lock_days[event][lasting]
    ctx.state.locks.extend(person, day, until, ~truth[lasting])
    people.flags[person] |= LOCKED


def fair_tier(ctx: Context, person: np.ndarray) -> np.ndarray:
    """The grade each person would hold without their false records: the score less its false
    points, unless a true record locked the grade (then the locked grade)."""
    xp, people = ctx.xp, ctx.state.people
    compiled = _fair_compiled(ctx, person)
    if compiled is not None:
        fair, locked = compiled
    else:
        points = people.score[person].astype(np.int64) - people.false_points[person]
        fair = ctx.rules.plan.tier_of(points.astype(np.int64), person)
        locked = (people.flags[person] & LOCKED) != 0
    if not locked.any():  # most days: nobody here is locked
        return fair
    # the locks' roster searched for the locked only (a search of a long roster is a dozen
    # random reads a person)
    at = xp.flatnonzero(locked)
    at = at[~ctx.state.locks.wrongful_of(person[at])]  # rightly locked
    fair[at] = xp.maximum(people.tier[person[at]], fair[at])
    return fair


def _fair_compiled(ctx: Context, person: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """`fair_tier`'s grades by points less false points, and who is locked, by one compiled
    pass (`--backend numba`, one scale); None where the reference computes them."""
    if not (kernels.active() and ctx.xp is np) or ctx.rules.plan.book_key is not None:
        return None
    people = ctx.state.people
    return kernels.fair_grades(
        person, people.score, people.false_points, people.flags, ctx.rules.plan.tier_min,
        int(LOCKED),
    )  # fmt: skip
