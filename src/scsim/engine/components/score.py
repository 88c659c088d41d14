"""Stage 3, score: records become points, grades and listings in the ledger.

1. Each record takes its rule's points; a rule may spill a share of them onto the person's
   household and friends (guilt by association, origin "association"), one step away or, with
   `spillover.depth`, further (a friend's friend pays the share squared); the employer's
   share goes to its company rating (`scsim.engine.components.ratings`).
2. Deductions with a window (Wendeng: 1 or 2 years) are scheduled for reversal; reversals due
   today join the day's rows (origin "expiry").
3. A person charged with a record they did not earn is marked: every later grade, listing or
   sanction they suffer counts as resting on a false record.
4. Points are applied together, clipped to the scale; then grades move (`grades`), and people
   enter and leave lists (`listing`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import (
    array_module,
    stable_argsort,
    to_host,
    unique,
    unique_inverse,
)
from scsim.engine.components.grades import regrade
from scsim.engine.components.listing import ListChanges, enter_lists, leave_lists
from scsim.engine.components.observe import Records
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import FALSE_ORIGIN_MASK, ORIGIN
from scsim.engine.state import TAINTED

if TYPE_CHECKING:
    from scsim.engine.context import Context
    from scsim.engine.population import Population


# Pending reversals are the largest sparse state of a long run: keep their dtypes narrow.
REVERSAL_COLUMNS: dict[str, type[np.generic]] = {
    "person": np.int64,
    "event": np.int16,
    "sensor": np.int16,
    "delta": np.int32,
    "truth": np.bool_,
}

Relatives = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""A relation: for some people, their relatives and which of the people each belongs to."""


@dataclass(frozen=True)
class Changes:
    rows_by_origin: np.ndarray  # int64 [len(ORIGINS)]: point rows applied today
    demoted: np.ndarray  # people whose grade got worse today
    lists: ListChanges


def score(ctx: Context, day: int, records: Records) -> Changes:
    xp, plan = ctx.xp, ctx.rules.plan
    rows = _without_place_rows_of_unscored(ctx, _with_spillover(ctx, _point_rows(ctx, records)))
    _schedule_reversals(ctx, day, rows)
    rows = _concat(xp, rows, _without_place_rows_of_unscored(ctx, _reversals_due(ctx, day)))
    ctx.ledger.add(
        day,
        "record",
        rows["person"],
        ctx.params.codes.events[rows["event"]],
        rows["delta"],
        ctx.params.codes.sensors[rows["sensor"]],
        rows["origin"],
        rows["truth"],
    )
    _mark_false_records(ctx, rows)
    _hold(ctx, day, rows)
    touched = _apply_points(ctx, rows["person"], rows["delta"], rows["truth"])
    direct = (
        (plan.set_tier[rows["event"]] >= 0)
        & (rows["origin"] != ORIGIN["association"])
        & (rows["origin"] != ORIGIN["expiry"])
    )
    demoted = regrade(
        ctx, day, touched, rows["person"][direct], rows["event"][direct], rows["truth"][direct]
    )
    lists = leave_lists(ctx, day)
    enter_lists(ctx, day, records, lists)
    counts = to_host(xp.bincount(rows["origin"], minlength=len(ORIGIN)))
    return Changes(rows_by_origin=counts, demoted=demoted, lists=lists)


def _point_rows(ctx: Context, records: Records) -> dict[str, np.ndarray]:
    plan = ctx.rules.plan
    if plan.recorded is not None:  # places: a row's "event" is its rule, book * E + event
        rule = plan.book_of(records.person) * len(ctx.rules.host_plan.events) + records.event
        effective = ctx.xp.flatnonzero(plan.recorded[rule])
        event, origin = rule[effective], records.origin[effective]
    else:
        effective = ctx.xp.flatnonzero(ctx.rules.tables.scoring[records.event])
        if plan.stratum_scored is not None:  # rollout: regions not yet joined score nothing
            effective = effective[plan.scored(records.person[effective])]
        event, origin = records.event[effective], records.origin[effective]
    return {
        "person": records.person[effective],
        "event": event,
        "sensor": records.sensor[effective],
        "origin": origin,
        "delta": ctx.rules.plan.points[event],
        "truth": origin == ORIGIN["detected"],
    }


def _without_place_rows_of_unscored(
    ctx: Context, rows: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """A person who has not consented to their place's score keeps their own records under the
    national rulebook (`_point_rows`: their book is 0); a row under a place's rules reaching
    them, a consenting relative's share or the reversal of a deduction from before they were
    unscored, is dropped: no score of theirs is computed."""
    plan = ctx.rules.plan
    if plan.book_consent is None or len(rows["person"]) == 0:
        return rows
    placed = rows["event"] >= len(ctx.rules.host_plan.events)  # a rule of a place's book
    keep = ctx.xp.flatnonzero(~(placed & plan.unscored(rows["person"])))
    if len(keep) == len(rows["person"]):
        return rows
    return {name: column[keep] for name, column in rows.items()}


def _with_spillover(ctx: Context, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    xp, plan, pop = ctx.xp, ctx.rules.plan, ctx.params.pop
    spilled = [rows]
    for share, relatives in (
        (plan.spill_household, pop.household_members),
        (plan.spill_friends, _friends_flat(pop)),
    ):
        fraction = share[rows["event"]]
        source = xp.flatnonzero(fraction > 0)
        if source.size == 0:
            continue
        people, owner = relatives(rows["person"][source])
        at = source[owner]
        spilled.append(_charged(xp, rows, people, at, fraction[at]))
        if int(ctx.rules.host_plan.spill_depth.max(initial=1)) > 1:
            spilled += _further(ctx, rows, relatives, people, at, fraction)
    return _concat(xp, *spilled)


def _charged(
    xp: ModuleType,
    rows: dict[str, np.ndarray],
    people: np.ndarray,
    at: np.ndarray,
    factor: np.ndarray,
) -> dict[str, np.ndarray]:
    """Association rows: `people` pay `factor` of the deduction of row `at` (truncated)."""
    delta = xp.trunc(rows["delta"][at] * factor).astype(np.int64)
    keep = xp.flatnonzero(delta != 0)
    return {
        "person": people[keep],
        "event": rows["event"][at][keep],
        "sensor": rows["sensor"][at][keep],
        "origin": xp.full(keep.size, ORIGIN["association"], dtype=np.uint8),
        "delta": delta[keep],
        "truth": xp.zeros(keep.size, dtype=bool),
    }


def _further(
    ctx: Context,
    rows: dict[str, np.ndarray],
    relatives: Relatives,
    reached: np.ndarray,
    at: np.ndarray,
    fraction: np.ndarray,
) -> list[dict[str, np.ndarray]]:
    """Steps 2 and on of one relation, for rules with a `spillover.depth` above 1: a person
    first reached k steps from the recorded one (a friend's friend) pays fraction**k of the
    deduction, once per record however many paths lead there; the recorded person never."""
    xp, size = ctx.xp, ctx.params.host_pop.size
    depth = ctx.rules.plan.spill_depth[rows["event"]]
    seen = xp.concatenate([at * size + rows["person"][at], at * size + reached])
    parts = []
    for k in range(2, int(ctx.rules.host_plan.spill_depth.max()) + 1):
        go = xp.flatnonzero(depth[at] >= k)
        people, owner = relatives(reached[go])
        key = xp.unique(at[go][owner] * size + people)
        key = key[~xp.isin(key, seen)]
        reached, at = key % size, key // size
        factor = fraction[at]
        for _ in range(k - 1):  # products, not pow: every backend rounds them alike
            factor = factor * fraction[at]
        parts.append(_charged(xp, rows, reached, at, factor))
        seen = xp.concatenate([seen, key])
    return parts


def _friends_flat(pop: Population) -> Relatives:
    def friends(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        table = pop.friends(ids)
        owner = array_module(ids).arange(table.size, dtype=np.int64) // max(table.shape[1], 1)
        return table.ravel(), owner

    return friends


def _hold(ctx: Context, day: int, rows: dict[str, np.ndarray]) -> None:
    """A person's own record of an offence that must be corrected holds their grade from
    rising for the rule's `uncorrected_days` (Wendeng); a relative's share does not, nor does
    a reversal. The hold is wrongful where only false records made it."""
    if not ctx.rules.host_plan.uncorrected_days.any():
        return
    xp = ctx.xp
    days = ctx.rules.plan.uncorrected_days[rows["event"]]
    own = (rows["origin"] != ORIGIN["association"]) & (rows["origin"] != ORIGIN["expiry"])
    at = xp.flatnonzero(own & (days > 0))
    if at.size == 0:
        return
    # per person: the latest end (sorted by person, then end: each person's last row), and
    # wrongful only if no hold of theirs today rests on a true record
    key = (rows["person"][at] << 20) | days[at]  # days < 2**20 (the schema's Days)
    key = xp.sort(key)
    last = xp.concatenate([key[1:] >> 20 != key[:-1] >> 20, xp.ones(1, dtype=bool)])
    person, until = key[last] >> 20, day + (key[last] & ((1 << 20) - 1))
    _, inverse = unique_inverse(xp, rows["person"][at])
    true_hold = xp.bincount(inverse, weights=rows["truth"][at].astype(np.float64)) > 0
    ctx.state.holds.extend(person, day, until, ~true_hold)


def _schedule_reversals(ctx: Context, day: int, rows: dict[str, np.ndarray]) -> None:
    window = ctx.rules.plan.expires[rows["event"]]
    if ctx.rules.host_plan.window_days.size:  # the rulebook's windows by size, where the rule
        window = ctx.xp.where(window < 0, ctx.rules.plan.window_of(rows["delta"]), window)
    due = (window >= 0) & (rows["delta"] != 0)
    values = {
        "person": rows["person"][due],
        "event": rows["event"][due],
        "sensor": rows["sensor"][due],
        "delta": -rows["delta"][due],
        "truth": rows["truth"][due],
    }
    ctx.state.calendar.schedule(
        "reverse",
        day + window[due],
        **{name: values[name].astype(dtype) for name, dtype in REVERSAL_COLUMNS.items()},
    )


def _reversals_due(ctx: Context, day: int) -> dict[str, np.ndarray]:
    due = {
        name: column.astype(np.int64) if name != "truth" else column
        for name, column in ctx.state.calendar.due("reverse", day, REVERSAL_COLUMNS, ctx.xp).items()
    }
    due["origin"] = ctx.xp.full(len(due["person"]), ORIGIN["expiry"], dtype=np.uint8)
    return due


def _mark_false_records(ctx: Context, rows: dict[str, np.ndarray]) -> None:
    harmful = (rows["delta"] < 0) | ctx.rules.tables.grades_or_lists[rows["event"]]
    xp = ctx.xp
    false = xp.asarray(FALSE_ORIGIN_MASK)[rows["origin"]] & harmful
    who = unique(xp, rows["person"][false])
    ctx.state.tainted += int(xp.count_nonzero((ctx.state.people.flags[who] & TAINTED) == 0))
    ctx.state.people.flags[who] |= TAINTED


def _apply_points(
    ctx: Context, person: np.ndarray, delta: np.ndarray, truth: np.ndarray
) -> np.ndarray:
    """Add each person's deltas of the day at once, clipped to the scale, and keep apart the
    part that false records contributed; return who changed."""
    if person.size == 0:
        return person
    xp = ctx.xp
    compiled = _apply_points_compiled(ctx, person, delta, truth)
    if compiled is not None:
        return compiled
    touched, inverse = unique_inverse(xp, person)
    weights = delta.astype(np.float64)
    total = xp.bincount(inverse, weights=weights, minlength=touched.size).astype(np.int64)
    old = ctx.state.people.score[touched].astype(np.int64)
    # clip's bounds as a minimum and a maximum: the same numbers, without np.clip's overhead
    low, high = _scale(ctx, touched)
    new = xp.minimum(xp.maximum(old + total, low), high)
    ctx.state.people.score[touched] = new.astype(np.int16)
    ctx.state.score_sum += int((new - old).sum())
    if bool(truth.all()):  # no false record among them (gaming's acts): false points stay
        return touched
    false = xp.bincount(
        inverse, weights=(delta * ~truth).astype(np.float64), minlength=touched.size
    ).astype(np.int64)
    held = xp.minimum(xp.maximum(ctx.state.people.false_points[touched] + false, -32768), 32767)
    ctx.state.people.false_points[touched] = held.astype(np.int16)
    return touched


def _apply_points_compiled(
    ctx: Context, person: np.ndarray, delta: np.ndarray, truth: np.ndarray
) -> np.ndarray | None:
    """`_apply_points` by one compiled pass over the rows sorted by person (`--backend
    numba`, one scale), or None where the reference computes it."""
    if not (kernels.active() and ctx.xp is np) or ctx.rules.plan.book_scale is not None:
        return None
    people, plan = ctx.state.people, ctx.rules.host_plan
    if not kernels.worth(person.size, people.score.size):  # it would decline: sort nothing
        return None
    compiled = kernels.apply_points(
        stable_argsort(np, person), person, delta, truth, people.score, people.false_points,
        int(plan.scale_min), int(plan.scale_max),
    )  # fmt: skip
    if compiled is None:
        return None
    touched, moved = compiled
    ctx.state.score_sum += moved
    return touched


def _scale(ctx: Context, person: np.ndarray) -> tuple[np.ndarray | int, np.ndarray | int]:
    """The lowest and highest score of each person's rulebook (one scale without places)."""
    plan = ctx.rules.plan
    if plan.book_scale is None:
        return ctx.rules.host_plan.scale_min, ctx.rules.host_plan.scale_max
    scale = plan.book_scale[plan.book_of(person)]
    return scale[:, 0], scale[:, 1]


def _concat(xp: ModuleType, *parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The parts' rows one after another. Parts without rows add nothing (every part's columns
    have the same dtypes), and one part left is returned as it is: most days no spill-over or
    no reversal is due, and nothing writes into rows once made."""
    kept = [p for p in parts if len(p["person"])] or parts[:1]
    if len(kept) == 1:
        return kept[0]
    return {name: xp.concatenate([p[name] for p in kept]) for name in kept[0]}


class Score(Component):
    """3. score - records become points (and association spill-over), expired deductions are
    reversed, grades move or are locked, lists take people in and let them go."""

    name = stage = "score"
    reads = (
        "rulebook.scale",
        "rulebook.rules",
        "rulebook.tiers",
        "rulebook.lists",
        "rulebook.spillover",
        "rulebook.changes",
        "rulebook.deduction_windows",
        "rulebook.tiers.<t>.lock_days",
        "rulebook.rules.<r>.uncorrected_days",
    )
    owns = (
        "people.score (int16)",
        "people.false_points (int16)",
        "people.tier (uint8)",
        "people.flags: lists, locked, tainted (uint8)",
        "locks",
        "rosters",
        "calendar: reversal",
        "tier_counts",
        "score_sum",
        "tainted",
        "holds",
        "rises_held, locked_by_points",
    )
    writes = ("grade_rises_held, grades_locked_by_points (where grades hold or lock by points)",)
    ledger = (
        "record/detected, misidentified, false_match, association, expiry",
        "grade",
        "list entries and exits",
    )

    # whether the run's rulebooks hold or lock grades: fixed by the plans, so asked once and
    # not every day over every dated version (a long history has dozens)
    _regime: bool | None = None

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.records is not None
        state = ctx.state
        held, locked = state.rises_held, state.locked_by_points
        flow.changes = score(ctx, day, flow.records)
        flow.felt.append(flow.changes.demoted)
        if self._regime is None:
            self._regime = _grade_regime(ctx)
        if self._regime:
            flow.columns["grade_rises_held"] = state.rises_held - held
            flow.columns["grades_locked_by_points"] = state.locked_by_points - locked


def _grade_regime(ctx: Context) -> bool:
    """Whether any rulebook of the run holds or locks grades beyond direct grades (then the
    metrics count it every day)."""
    return any(p.tier_lock_days.any() or p.uncorrected_days.any() for _, p in ctx.plans)
