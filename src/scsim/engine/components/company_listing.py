"""Companies as entries of their own on the court list, their representatives restricted
through them.

The court list names companies as well as people; a listed company faces limits in controlled
industries (000), and its legal representative, principal and responsible persons are
restricted too [P]. With `companies.list_companies`, a company entering one of
`representative_grades` is itself an entry on `representative_list` (a `company_list_entry`
row: entity the company, rule the list, origin grade), and leaves it when its grade moves out
(a `company_list_exit` row, origin grade_left); its representatives go on and off the list
through it, as `joint_punishment.restrict_representatives` does. A company is listed while its
grade is one of those, so its listing costs no bytes: the list's companies now are the grade
counts of those grades. An entry is wrongful where the company's own records alone would not
have put it there (its fair grade), as its sanctions are.

    >>> entered, left = list_companies(ctx, day, moved, before, after)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.ledger import ORIGIN

if TYPE_CHECKING:
    from scsim.engine.context import Context


def list_companies(
    ctx: Context, day: int, moved: np.ndarray, before: np.ndarray, after: np.ndarray
) -> dict[str, int]:
    """Write today's company entries and exits; their counts and the companies listed now."""
    host, plan, state = ctx.firms.host_plan, ctx.firms.plan, ctx.firms.state
    was, now = plan.representative_grade[before], plan.representative_grade[after]
    entering, leaving = moved[now & ~was], moved[was & ~now]
    code = ctx.params.codes.lists[host.representative_list]
    wrongful = ~plan.representative_grade[state.fair_grade[entering]]
    ctx.ledger.add(day, "company_list_entry", entering, code, 0, 0, ORIGIN["grade"], ~wrongful)
    ctx.ledger.add(day, "company_list_exit", leaving, code, 0, 0, ORIGIN["grade_left"], True)
    listed = int(state.grade_counts[host.representative_grade].sum())
    return {
        "company_list_entries": int(entering.size),
        "company_list_entries_wrongful": int(wrongful.sum()),
        "company_list_exits": int(leaving.size),
        "companies_listed": listed,
    }
