"""Lists (court blacklist, redlists): who enters on a record, and when and why each one leaves.

A person's exit is decided when they enter: the end of the term, or earlier if they comply
(pay up) first, drawn from the list's daily compliance chance, or earlier still if they appeal
and win: whether a person appeals and wins depends on whether they were listed rightly or only
on false records, and the decision comes after a wait drawn at entry too. Later pressure (a
blocked purchase) may make them comply sooner (see `respond`). While listed, further records
for the same list do not list them again, but each is counted as a case: the court list counts
listing entries per case (person-times), so a debtor with three creditors is three entries.

A person leaving may stay restricted (`restriction_kept`): the spending restriction is not
always lifted when the listing ends (docs/sources.md [S]); they are put on another list, which the
services heed as they choose, for that list's term.

An appeal decided while its person is still on the list (under the same entry) is counted on
its decision day; the calendar holds it until then (kind "appeal").
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import array_module
from scsim.engine.components.observe import Records
from scsim.engine.ledger import ORIGIN
from scsim.engine.rng import accept, waiting_days
from scsim.engine.sampling import region_counters
from scsim.engine.state import list_bit

if TYPE_CHECKING:
    from scsim.engine.context import Context
    from scsim.engine.plan import Plan

NEVER = np.iinfo(np.int32).max
APPEAL_COLUMNS: dict[str, type[np.generic]] = {
    "person": np.int64,
    "list": np.int8,
    "entered": np.int32,
}


@dataclass(frozen=True)
class ListChanges:
    entries: np.ndarray  # int64 [L]: people put on the list
    cases: np.ndarray  # int64 [L]: listing entries per case (see `cases_mean`), further cases too
    entries_wrongful: np.ndarray  # int64 [L]: entered on a record that was false
    published: np.ndarray  # int64 [L]
    expired: np.ndarray  # int64 [L]
    complied: np.ndarray  # int64 [L]
    appeals_filed: np.ndarray  # int64 [L]
    appeals_filed_wrongly_listed: np.ndarray  # int64 [L]
    appeals_decided: np.ndarray  # int64 [L]
    appeals_won: np.ndarray  # int64 [L]: left the list by a successful appeal
    appeals_won_wrongly_listed: np.ndarray  # int64 [L]
    spared_unable: np.ndarray  # int64 [L]: listing records of the unable, who are not listed
    spared_exempt: np.ndarray  # int64 [L]: listing records beyond the list's reach
    grace_performed: np.ndarray  # int64 [L]: listing records whose debtor performed in grace

    @classmethod
    def zeros(cls, n: int) -> ListChanges:
        return cls(*np.zeros((len(fields(cls)), n), dtype=np.int64))  # one allocation


def enter_lists(ctx: Context, day: int, records: Records, changes: ListChanges) -> None:
    """People enter lists on today's records; their flows are counted into `changes` (the
    day's from `leave_lists`, which counts the other flows: one object a day, not a sum)."""
    plan, people = ctx.rules.plan, ctx.state.people
    target = plan.enter_list[records.event]
    for index in range(len(plan.lists)):
        mine = target == index
        cases = int(mine.sum())
        if cases == 0:
            continue
        if _spares(ctx.rules.host_plan, index):  # the reforms after 2019 (`_spared`)
            mine &= ~_spared(ctx, day, index, records.person, mine, changes)
            if not bool(mine.any()):
                continue
        compiled = _compiled_entries(ctx, day, index, records, mine)
        if compiled is None:  # the reference (NumPy, the GPU)
            changes.cases[index] = _cases(ctx, day, index, records.person[mine])
            person, wrongful = _first_per_person(
                records.person[mine], records.origin[mine] != ORIGIN["detected"]
            )
            fresh = (people.flags[person] & list_bit(index)) == 0
            person, wrongful = person[fresh], wrongful[fresh]
        else:
            changes.cases[index], person, wrongful = compiled
        until, reason = _exits(ctx, day, index, person, wrongful, changes)
        ctx.state.rosters[index].add(person, day, until, reason, wrongful, ordered=True)
        people.flags[person] |= list_bit(index)
        ctx.ledger.add(
            day,
            "list_entry",
            person,
            ctx.params.codes.lists[index],
            0,
            0,
            ORIGIN["record"],
            ~wrongful,
        )
        changes.entries[index] = person.size
        changes.entries_wrongful[index] = int(wrongful.sum())
        changes.published[index] = person.size if plan.list_publish[index] else 0


def leave_lists(ctx: Context, day: int) -> ListChanges:
    changes = ListChanges.zeros(len(ctx.rules.plan.lists))
    _count_decisions(ctx, day, changes)
    for index, roster in enumerate(ctx.state.rosters):
        gone = roster.take_due(day)
        if len(gone["ids"]) == 0:  # most days: nobody's exit day (its counts stay 0)
            continue
        remove(ctx, day, index, gone)
        won = gone["reason"] == ORIGIN["appeal_won"]
        changes.expired[index] = int((gone["reason"] == ORIGIN["term_ended"]).sum())
        changes.complied[index] = int((gone["reason"] == ORIGIN["complied"]).sum())
        changes.appeals_won[index] = int(won.sum())
        changes.appeals_won_wrongly_listed[index] = int((won & gone["wrongful"]).sum())
    return changes


def remove(ctx: Context, day: int, index: int, gone: dict[str, np.ndarray]) -> None:
    """Clear the list's flag of the members a roster gave up, and write their exits; some may
    stay restricted (`keep_restrictions`)."""
    person, reason = gone["ids"], gone["reason"]
    flags = ctx.state.people.flags
    flags[person] &= ~list_bit(index)
    ctx.ledger.add(
        day,
        "list_exit",
        person,
        ctx.params.codes.lists[index],
        0,
        0,
        reason,
        ~gone["wrongful"],
    )
    keep_restrictions(ctx, day, index, person, gone["wrongful"])


def keep_restrictions(
    ctx: Context, day: int, index: int, person: np.ndarray, wrongful: np.ndarray
) -> None:
    """Some of the people leaving list `index` stay restricted: the spending restriction is not
    always lifted when the listing ends (docs/sources.md [S]). Each is kept with the list's
    `restriction_kept` chance (keyed by person, so a shard draws the same) and put on its
    `restriction_kept_on` list from today, with that list's term; the entry rests on the records
    the listing rested on (wrongful if they were false). Their entries are counted in
    `Model.kept_entries` for the day's metrics."""
    plan = ctx.rules.host_plan
    if plan.list_kept[index] == 0 or len(person) == 0:
        return
    to = int(plan.list_kept_on[index])
    key = ctx.streams.key("restriction-kept", day, index)
    kept = accept(key, person, ctx.rules.tables.kept[index])
    kept &= (ctx.state.people.flags[person] & list_bit(to)) == 0  # already restricted there
    person, wrongful = person[kept], wrongful[kept]
    if person.size == 0:
        return
    until, reason = exit_plan(ctx, day, to, person)
    ctx.state.rosters[to].add(person, day, until, reason, wrongful)
    ctx.state.people.flags[person] |= list_bit(to)
    code = ctx.params.codes.lists[to]
    origin = ORIGIN["restriction_kept"]
    ctx.ledger.add(day, "list_entry", person, code, 0, 0, origin, ~wrongful)
    ctx.state.kept_entries[0, to] += person.size
    ctx.state.kept_entries[1, to] += int(wrongful.sum())


def exit_plan(
    ctx: Context, day: int, index: int, person: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    xp = ctx.xp
    term = int(ctx.rules.host_plan.list_term[index])
    cdf = ctx.rules.tables.comply_cdf[index]
    wait = waiting_days(ctx.streams.key("comply", day, index), person, cdf)
    horizon = term if term > 0 else len(cdf)
    complies = wait <= horizon if term == 0 else wait < term
    until = xp.where(complies, day + wait, day + term if term > 0 else NEVER)
    reason = xp.where(complies, ORIGIN["complied"], ORIGIN["term_ended"]).astype(np.uint8)
    return until, reason


def _exits(
    ctx: Context,
    day: int,
    index: int,
    person: np.ndarray,
    wrongful: np.ndarray,
    changes: ListChanges,
) -> tuple[np.ndarray, np.ndarray]:
    """New members' exit days and reasons (`exit_plan`, then `_appeal`), by one kernel where
    the kernels take them (`kernels.entries`)."""
    appealing = bool(ctx.rules.host_plan.list_appeal[index].any())
    compiled = _compiled_exits(ctx, day, index, person, wrongful, appealing)
    if compiled is None:  # the reference (NumPy, the GPU)
        until, reason = exit_plan(ctx, day, index, person)
        return _appeal(ctx, day, index, person, wrongful, until, reason, changes)
    until, reason, appeals, decided, decision = compiled
    if appealing:
        _schedule_appeals(ctx, day, index, person[decided], decision[decided])
        changes.appeals_filed[index] = int(appeals.sum())
        changes.appeals_filed_wrongly_listed[index] = int((appeals & wrongful).sum())
    return until, reason


def _compiled_exits(
    ctx: Context, day: int, index: int, person: np.ndarray, wrongful: np.ndarray, appealing: bool
) -> tuple[np.ndarray, ...] | None:
    """`kernels.list_exits` of the list's tables and today's keys, or None: the kernels off (the
    reference pays nothing for them) or declining."""
    if not kernels.active():
        return None
    plan, tables, streams = ctx.rules.host_plan, ctx.rules.tables, ctx.streams
    keys = [streams.key("comply", day, index)]
    if appealing:
        keys += [streams.key(s, day, index) for s in ("appeal", "appeal:wait", "appeal:won")]
    return kernels.list_exits(
        person,
        wrongful,
        day,
        int(plan.list_term[index]),
        np.array(keys + [0] * (4 - len(keys)), dtype=np.uint64),
        tables.comply_cdf[index],
        (tables.appeal[index], tables.appeal_win[index], tables.appeal_cdf[index])
        if appealing
        else None,
        np.array([ORIGIN[o] for o in ("complied", "term_ended", "appeal_won")], dtype=np.uint8),
    )


def _schedule_appeals(
    ctx: Context, day: int, index: int, person: np.ndarray, decision: np.ndarray
) -> None:
    """The appeals decided while their people are still listed, due on their decision days."""
    ctx.state.calendar.schedule(
        "appeal",
        decision,
        person=person,
        list=ctx.xp.full(person.size, index, dtype=np.int8),
        entered=ctx.xp.full(person.size, day, dtype=np.int32),
    )


def _appeal(
    ctx: Context,
    day: int,
    index: int,
    person: np.ndarray,
    wrongful: np.ndarray,
    until: np.ndarray,
    reason: np.ndarray,
    changes: ListChanges,
) -> tuple[np.ndarray, np.ndarray]:
    """Who appeals (a chance for the rightly and one for the wrongly listed), when it is
    decided, and whether it succeeds; a success before the planned exit becomes the exit."""
    if not ctx.rules.host_plan.list_appeal[index].any() or person.size == 0:
        return until, reason
    xp, tables, streams = ctx.xp, ctx.rules.tables, ctx.streams
    side = wrongful.astype(np.int64)  # 0 rightly, 1 wrongly listed
    appeals = accept(streams.key("appeal", day, index), person, tables.appeal[index][side])
    wait = waiting_days(streams.key("appeal:wait", day, index), person, tables.appeal_cdf[index])
    wins = accept(streams.key("appeal:won", day, index), person, tables.appeal_win[index][side])
    cdf = tables.appeal_cdf[index]
    decided = appeals & (wait <= len(cdf)) & (day + wait < until)  # past the table: never
    won = decided & wins
    until = xp.where(won, day + wait, until)
    reason = xp.where(won, ORIGIN["appeal_won"], reason).astype(np.uint8)
    _schedule_appeals(ctx, day, index, person[decided], (day + wait)[decided])
    changes.appeals_filed[index] = int(appeals.sum())
    changes.appeals_filed_wrongly_listed[index] = int((appeals & wrongful).sum())
    return until, reason


def _spares(plan: Plan, index: int) -> bool:
    """Whether list `index`'s rules today spare some listing records (the reforms)."""
    return bool(
        plan.list_spare_unable[index] or plan.list_exempt[index] > 0 or plan.list_grace[index] > 0
    )


def _spared(
    ctx: Context, day: int, index: int, person: np.ndarray, mine: np.ndarray, changes: ListChanges
) -> np.ndarray:
    """Which of today's records (those of list `index`: `mine`) list nobody under the reforms
    after 2019, each counted into `changes`: the debtor is unable to perform (`spare_unable`: a
    trait of the person, the same draw as `reforms.unable`), the record is beyond the list's
    reach (`exempt_share`: a company's representative, a student), or the debtor performs
    within a period of grace (`grace_performs`). Drawn by person, so a shard draws the same."""
    plan, tables, streams = ctx.rules.host_plan, ctx.rules.tables, ctx.streams
    spared = ctx.xp.zeros(person.size, dtype=bool)
    if plan.list_spare_unable[index]:
        unable = mine & unable_debtors(ctx, index, person)
        changes.spared_unable[index] = int(unable.sum())
        spared |= unable
    if plan.list_exempt[index] > 0:
        exempt = accept(streams.key("exempt", day, index), person, tables.exempt[index])
        exempt &= mine & ~spared
        changes.spared_exempt[index] = int(exempt.sum())
        spared |= exempt
    if plan.list_grace[index] > 0:
        grace = accept(streams.key("grace", day, index), person, tables.grace[index])
        grace &= mine & ~spared
        changes.grace_performed[index] = int(grace.sum())
        spared |= grace
    return spared


def unable_debtors(ctx: Context, index: int, person: np.ndarray) -> np.ndarray:
    """Whether each person is, for list `index`, a debtor unable to perform: a trait, drawn
    from the person's id alone (no state), so every record and every day agree."""
    return accept(ctx.streams.key("unable", 0, index), person, ctx.rules.tables.unable[index])


def serious_cases(ctx: Context, index: int, person: np.ndarray) -> np.ndarray:
    """Whether each person's case on list `index` is especially serious: a trait, as above."""
    return accept(ctx.streams.key("serious", 0, index), person, ctx.rules.tables.serious[index])


def _count_decisions(ctx: Context, day: int, changes: ListChanges) -> None:
    """Count the appeals decided today whose person is still on the list under that entry (a
    person who complied under pressure first withdrew it)."""
    due = ctx.state.calendar.due("appeal", day, APPEAL_COLUMNS, ctx.xp)
    if len(due["person"]) == 0:
        return
    for index, roster in enumerate(ctx.state.rosters):
        mine = due["list"] == index
        if len(roster) == 0 or not bool(mine.any()):
            continue
        person = due["person"][mine]
        at = ctx.xp.minimum(ctx.xp.searchsorted(roster.ids, person), len(roster) - 1)
        same = (roster.ids[at] == person) & (roster.columns["entered"][at] == due["entered"][mine])
        changes.appeals_decided[index] = int(same.sum())


def _cases(ctx: Context, day: int, index: int, person: np.ndarray) -> int:
    """Listing entries that the listing records of `person` bring: one each, or a geometric
    number with the list's `cases_mean` (several creditors, several cases, listed at once),
    drawn by the record's region and rank there (`region_counters`: a shard draws the same)."""
    if ctx.rules.host_plan.list_cases_mean[index] == 1.0:
        return int(person.size)
    counter = region_counters(ctx.params.pop, person)
    cdf = ctx.rules.tables.cases_cdf[index]
    return int(waiting_days(ctx.streams.key("cases", day, index), counter, cdf).sum())


def _compiled_entries(
    ctx: Context, day: int, index: int, records: Records, mine: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray] | None:
    """`_cases`, `_first_per_person` and the fresh ones among them by one kernel
    (`kernels.entries.enter`), or None: the kernels off (the reference pays nothing for them)
    or declining."""
    if not kernels.active():
        return None
    draw = ctx.rules.host_plan.list_cases_mean[index] != 1.0
    return kernels.list_entries(
        records.person,
        records.origin,
        mine,
        int(ORIGIN["detected"]),
        ctx.state.people.flags,
        int(list_bit(index)),
        ctx.params.pop.region_start,
        (ctx.streams.key("cases", day, index), ctx.rules.tables.cases_cdf[index]) if draw else None,
    )


def _first_per_person(person: np.ndarray, false: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique people, each wrongful only if every one of their qualifying records was false."""
    xp = array_module(person)
    unique, inverse = xp.unique(person, return_inverse=True)
    true_records = xp.bincount(
        inverse.ravel(), weights=(~false).astype(np.float64), minlength=unique.size
    )
    return unique, true_records == 0
