"""Joint punishment: what agencies do to companies by grade, and to their legal representatives.

- restrict - the legal representative of a company entering a restricted grade (the court
             list's rule for a company's legal representative, principal and responsible
             persons [P]) goes on a person list, and leaves it when the company leaves those
             grades, unless they left it before (complied, say);
- punish   - agencies deal with companies (a tender, a licence application, a loan, an
             inspection round, a share issue: a measure's occasions, drawn per region as
             people's requests are): a company in a grade the measure sanctions is sanctioned
             (barred, refused, charged more, inspected again), one in a grade it rewards is
             rewarded. A sanction is wrongful when the company's own records alone would not
             have put it in a sanctioned grade (its employees' or partners' shares did).

    >>> listed, released = restrict_representatives(ctx, day, moved, before, after)
    >>> counts = punish(ctx, day)       # occasions, sanctions, wrongful, rewards per measure
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import to_host
from scsim.engine.components.listing import NEVER, remove
from scsim.engine.ledger import ORIGIN
from scsim.engine.sampling import people_in_ranges
from scsim.engine.state import list_bit

if TYPE_CHECKING:
    from scsim.engine.context import Context

LEDGER_FIELDS = ("entity", "rule", "delta", "source", "origin", "truth")


def restrict_representatives(
    ctx: Context, day: int, moved: np.ndarray, before: np.ndarray, after: np.ndarray
) -> tuple[int, int]:
    """The legal representative (and the responsible persons, `responsible_persons`) of a
    company entering a restricted grade go on the person list; leaving those grades lets them
    go (if they are still there as its representatives). Returns how many entered and left."""
    host = ctx.firms.host_plan
    index = host.representative_list
    if index < 0:
        return 0, 0
    xp, plan, state = ctx.xp, ctx.firms.plan, ctx.firms.state
    was, now = plan.representative_grade[before], plan.representative_grade[after]
    entering, leaving = moved[now & ~was], moved[was & ~now]
    roster, bit, released = ctx.state.rosters[index], list_bit(index), 0
    if leaving.size:  # a pass over the list only on a day some company leaves those grades
        representatives = ctx.params.pop.responsible_persons(leaving, host.responsible)[0]
        gone = roster.take(
            xp.isin(roster.ids, representatives)
            & (roster.columns["reason"] == ORIGIN["representative"])
        )
        remove(ctx, day, index, gone)
        released = int(gone["ids"].size)
    if entering.size == 0:
        return 0, released
    person, owner = ctx.params.pop.responsible_persons(entering, host.responsible)
    fresh = (ctx.state.people.flags[person] & bit) == 0
    person, company = person[fresh], entering[owner[fresh]]
    order = xp.argsort(person)
    person, company = person[order], company[order]
    wrongful = ~plan.representative_grade[state.fair_grade[company]]
    reason = xp.full(person.size, ORIGIN["representative"], dtype=np.uint8)
    roster.add(person, day, xp.full(person.size, NEVER, dtype=np.int32), reason, wrongful)
    ctx.state.people.flags[person] |= bit
    ctx.ledger.add(
        day,
        "list_entry",
        person,
        ctx.params.codes.lists[index],
        0,
        0,
        ORIGIN["representative"],
        ~wrongful,
    )
    return int(person.size), released


def representatives_listed(ctx: Context) -> int:
    """Representatives on the list now as such (not for records of their own)."""
    index = ctx.firms.host_plan.representative_list
    if index < 0:
        return 0
    reason = ctx.state.rosters[index].columns["reason"]
    return int((reason == ORIGIN["representative"]).sum())


def punish(ctx: Context, day: int) -> dict[str, np.ndarray]:
    xp, plan, host, state = (
        ctx.xp,
        ctx.firms.plan,
        ctx.firms.host_plan,
        ctx.firms.state,
    )
    draw = people_in_ranges(
        plan.start, plan.count, ctx.streams, "company-occasions", day, host.expected_occasions
    )
    company, measure = draw.person, draw.column
    sanctioned = plan.sanctioned[measure, state.grade[company]]
    rewarded = plan.rewarded[measure, state.grade[company]]
    wrongful = sanctioned & ~plan.sanctioned[measure, state.fair_grade[company]]
    ctx.ledger.add(
        day,
        "company_sanction",
        company[sanctioned],
        ctx.firms.codes.measures[measure[sanctioned]],
        0,
        0,
        ORIGIN["tier"],
        ~wrongful[sanctioned],
    )
    m = len(host.measures)
    return {
        "occasions": to_host(xp.bincount(measure, minlength=m)),
        "sanctions": to_host(xp.bincount(measure[sanctioned], minlength=m)),
        "sanctions_wrongful": to_host(xp.bincount(measure[wrongful], minlength=m)),
        "rewards": to_host(xp.bincount(measure[rewarded], minlength=m)),
    }


def write_rows(ctx: Context, day: int, kind: str, rows: Mapping[str, np.ndarray]) -> None:
    """Ledger rows of `kind` from columns named as `Ledger.add` names them (others ignored):
    every one an array (rows with a column of one value call `Ledger.add` itself)."""
    ctx.ledger.add(day, kind, **{name: rows[name] for name in LEDGER_FIELDS})
