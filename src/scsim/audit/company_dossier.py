"""Companies in a run: their ratings' records, grades and sanctions, read from the ledger.

A company's rows have kinds of their own (`scsim.engine.ledger.COMPANY_KINDS`) and their `entity` is
a company id, so they never mix with a person's (`dossier` leaves them out). A sanction is
wrongful when the company's own records alone would not have put it in a sanctioned grade:
its employees' or partners' shares did (see `scsim.engine.components.joint_punishment`).

    >>> company_dossier("runs/corporate", 17)[["day", "kind", "what"]]
    >>> company_sanctions(result).groupby("measure")[["sanctions", "wrongful"]].sum()
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from scsim.audit.run import AuditRun, open_run
from scsim.errors import UserError

RECORD_ORIGINS = {
    "detected": "{rule} recorded, {delta:+d} points",
    "employee": "an employee's {rule} record, {delta:+d} points [not the company's own]",
    "partner": "a partner moved to grade {rule}, {delta:+d} points [not the company's own]",
    "expiry": "a new assessment period: the score starts again ({delta:+d} points)",
    "complied": "credit repaired after correction: the score back to base ({delta:+d} points)",
}
GRADE_ORIGINS = {
    "score": "the score moved it",
    "direct_grade": "set directly by a record, then locked",
    "lock_ended": "the lock ended",
    "complied": "credit repaired: the lock ended and the grade follows the score",
}
UNEARNED = " [its own records would not earn it]"


class CompanyError(UserError):
    """A company id that is not in the run, or a run that rates no company."""


def company_dossier(run: Any, company: int) -> pd.DataFrame:
    """Every ledger row about `company`, in day order (within a day, in the engine's order),
    with a sentence saying what happened and why.

    Columns: day, (date, where the run has dates,) kind, rule, delta, origin, truth, what.
    """
    audit = open_run(run)
    rows = audit.sql(
        "select day, kind, rule, delta, origin, truth from ledger "
        "where entity = $company and kind like 'company_%' order by day, row",
        company=_check_company(audit, company),
    ).df()
    rows["what"] = [_explain(audit, row) for row in rows.itertuples(index=False)]
    return audit.with_dates(rows)


def company_sanctions(run: Any) -> pd.DataFrame:
    """Sanctions of joint punishment per day and measure, and how many were wrongful.

    Columns: day, measure, sanctions, wrongful; only days and measures with a sanction.
    """
    audit = open_run(run)
    _rated(audit)
    return audit.sql(
        "select day, rule as measure, count(*) as sanctions, "
        "count(*) filter (where not truth) as wrongful "
        "from ledger where kind = 'company_sanction' group by all order by day, measure"
    ).df()


def _explain(audit: AuditRun, row: Any) -> str:
    if row.kind == "company_record":
        text = RECORD_ORIGINS.get(row.origin, "{rule}: {delta:+d} points")
        return text.format(rule=row.rule, delta=row.delta)
    if row.kind == "company_grade":
        grades = tuple(_rated(audit).grades)
        old = grades[grades.index(row.rule) - row.delta]
        why = GRADE_ORIGINS.get(row.origin, row.origin)
        return f"grade {old} -> {row.rule}: {why}{'' if row.truth else UNEARNED}"
    if row.kind == "company_list_entry":
        return f"entered {row.rule} as a company, for its grade{'' if row.truth else UNEARNED}"
    if row.kind == "company_list_exit":
        return f"left {row.rule}: its grade moved out of the list's grades"
    return f"{row.rule}: sanctioned for its grade{'' if row.truth else UNEARNED}"


def _rated(audit: AuditRun) -> Any:
    companies = audit.scenario.companies
    if companies is None:
        raise CompanyError(f"{audit.path} rates no company (its scenario has no [companies])")
    return companies


def _check_company(audit: AuditRun, company: int) -> int:
    _rated(audit)
    count = audit.population.n_companies
    if not 0 <= int(company) < count:
        raise CompanyError(
            f"company {company} is not in {audit.path}: ids run from 0 to {count - 1}"
        )
    return int(company)
