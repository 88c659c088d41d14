"""One person's dossier: every ledger row about them in day order, and why, with their traits
and final state.

    >>> dossier("runs/rongcheng", 4711)[["day", "kind", "what"]]
    >>> person_record("runs/rongcheng", worst_person("runs/rongcheng"))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scsim.audit.run import AuditRun, PersonError, open_run
from scsim.audit.wrongful import MECHANISMS
from scsim.engine.ledger import PERSON_KINDS

RECORD_ORIGINS = {
    "detected": "recorded by {source}: true",
    "misidentified": "recorded by {source} but done by someone else (misidentified): false",
    "false_match": "recorded by {source} for an event that never happened (false match): false",
    "association": "a share of a relative's or friend's record by {source} "
    "(guilt by association): false",
    "false_report": "reported by {source} for an event that never happened (false report): false",
    "purchased": "points bought on the gray market: not earned",
    "gamed": "points for an act done for the points (gaming): earned, performative",
    "speech_judgment": "judged by {source} for what they said (a judgment for speech): a wrong",
    "discretion": "set by {source} at an official's discretion, outside the point table: a wrong",
}
TIER_ORIGINS = {
    "score": "the score crossed a cut-off",
    "direct_grade": "set directly by a rule, then locked",
    "lock_ended": "the locked grade was released",
    "appeal_won": "an appeal against the locked grade succeeded",
    "unconsented": "unscored: the place asks for consent to be scored, not given",
    "consented": "scored by the place again, having consented",
}
EXIT_ORIGINS = {
    "term_ended": "the term ended",
    "complied": "complied (paid up)",
    "appeal_won": "won an appeal",
    "representative": "the company they represent left the restricted grades",
    "grade_left": "the grade moved out of the list's grades",
    "credit_repaired": "credit repaired after correcting the conduct, before the term ended",
    "unable_removed": "removed as a debtor unable to perform (no property to enforce against)",
}
# what refused it is the row's `source` (a list, or the grade); a run written before refusals
# named it has none, and is told without it
BLOCK_ORIGINS = {
    "list": ("on {source}", "listed"),
    "tier": ("grade {source} excludes it", "the grade excludes it"),
    "household": (
        "a member of the household is on {source}",
        "a member of the household is listed",
    ),
    "licence": ("the {source} licence's points ran out: revoked", "a licence revoked"),
}
TAINTED = " [the person has a false record]"


def dossier(run: Any, person: int) -> pd.DataFrame:
    """Every ledger row about `person`, in day order (within a day, in the engine's order),
    with a sentence saying what happened and why.

    Columns: day, (date, where the run has dates,) kind, rule, delta, source, origin, truth,
    what.
    """
    audit = open_run(run)
    rows = audit.sql(
        "select day, kind, rule, delta, source, origin, truth from ledger "
        "where entity = $person and kind in $kinds order by day, row",
        person=audit.check_person(person),
        kinds=list(PERSON_KINDS),  # a company's rows name a company id, not a person
    ).df()
    rows["what"] = [_explain(audit, row) for row in rows.itertuples(index=False)]
    return audit.with_dates(rows)


def person_record(run: Any, person: int) -> dict[str, Any]:
    """The person's row of people.parquet: region, area, class, household (its first member),
    employer (-1: none), final score and grade, lists, lock, false record, sanctions suffered.

    Where people.parquet holds only a sample (or nobody), the traits are derived from the id
    and the final score and grade are rebuilt from the ledger (`source` says which).
    """
    audit = open_run(run)
    person = audit.check_person(person)
    if audit.has_people:
        found = audit.sql("select * from people where person = $person", person=person).df()
        if len(found):
            row = {("area" if k == "urban" else k): _plain(v) for k, v in found.iloc[0].items()}
            row["area"] = "urban" if row["area"] else "rural"
            return row | {"source": "people.parquet"}
    return _rebuilt(audit, person)


def worst_person(run: Any) -> int:
    """The person with the most wrongful sanctions (ties: the lowest id)."""
    audit = open_run(run)
    found = audit.sql(
        "select entity from ledger where kind = 'blocked' and not truth "
        "group by entity order by count(*) desc, entity limit 1"
    ).fetchall()
    if not found:
        raise PersonError(f"{audit.path} has no wrongful sanctions; name a person instead")
    return int(found[0][0])


def _explain(audit: AuditRun, row: Any) -> str:
    tainted = "" if row.truth else TAINTED
    if row.kind == "record":
        if row.origin == "expiry":
            reversed_ = "" if row.truth else " (of a false record)"
            return (
                f"{row.rule}: the deduction's window closed, {row.delta:+d} points back{reversed_}"
            )
        why = RECORD_ORIGINS.get(row.origin, row.origin).format(source=row.source)
        unscored = len(audit.tiers) == 1 and not row.delta  # a lists-only system: no points
        return f"{row.rule} {why}" + ("" if unscored else f", {row.delta:+d} points")
    if row.kind == "tier":
        new = audit.tiers.index(row.rule)
        old = audit.tiers[new - row.delta]
        return f"grade {old} -> {row.rule}: {TIER_ORIGINS.get(row.origin, row.origin)}{tainted}"
    if row.kind == "list_entry" and row.origin == "representative":
        return f"entered {row.rule} as a responsible person of a company in a restricted grade"
    if row.kind == "list_entry" and row.origin == "restriction_kept":
        return f"kept on {row.rule} on leaving a list: the restriction was not lifted{tainted}"
    if row.kind == "list_entry" and row.origin == "restriction_order":
        return f"entered {row.rule}: a court restricted spending on an unperformed case"
    if row.kind == "list_entry" and row.origin == "grade":
        return f"entered {row.rule} when the grade moved into its grades{tainted}"
    if row.kind == "list_entry":
        return f"entered {row.rule} on a record{tainted}"
    if row.kind == "list_exit":
        return f"left {row.rule}: {EXIT_ORIGINS.get(row.origin, row.origin)}"
    if row.kind == "blocked":
        named, unnamed = BLOCK_ORIGINS.get(row.origin, (row.origin, row.origin))
        why = named.format(source=row.source) if row.source else unnamed
        return f"refused {row.rule}: {why}{tainted}"
    if row.kind == "burden":
        return _burden(row) + tainted
    if row.kind == "licence":
        return _licence(row)
    if row.kind == "reward":
        by = "on" if row.origin == "list" else "for grade"
        unearned = "" if row.truth else " (unearned: it rests on a false record)"
        return f"rewarded with {row.rule}: {by} {row.source}{unearned}"
    return f"{row.kind} {row.rule}"


def _licence(row: Any) -> str:
    """A licence's own points: lost to a record, given back at the year's turn or after the test."""
    if row.origin == "licence_restored":
        return f"{row.rule} licence: {row.delta:+d} points given back at the year's turn"
    if row.origin == "licence_reinstated":
        return f"{row.rule} licence given back with {row.delta} points: the test was passed"
    why = RECORD_ORIGINS.get(row.origin, row.origin).format(source="a sensor")
    return f"{row.rule} {why}, {row.delta:+d} points on the {row.source} licence"


def _burden(row: Any) -> str:
    """An account suspended, a grade's burden (an officer's visit, a search), or a premium."""
    if row.origin == "list":
        return f"{row.rule.replace('_', ' ')}: a consequence of being named on {row.source}"
    if row.origin != "tier":
        return f"{row.rule} by {row.source} on a record ({row.origin})"
    if row.delta:
        return f"granted {row.rule} at a premium of {row.delta} basis points for the grade"
    return f"{row.rule}, a burden of grade {row.source}"


def _rebuilt(audit: AuditRun, person: int) -> dict[str, Any]:
    """Traits from the id; score, grade and lists replayed from the ledger as the engine does
    (a day's points added together, then clipped to the scale)."""
    pop, book = audit.population, audit.scenario.rulebook
    ids = np.array([person], dtype=np.int64)
    stratum = int(pop.stratum_of(ids)[0])
    rows = dossier(audit, person)
    score = book.base
    points = rows[rows.kind == "record"].groupby("day").delta.sum()
    for delta in points:
        score = min(max(score + int(delta), book.scale.min), book.scale.max)
    grades = rows.rule[rows.kind == "tier"]
    record: dict[str, Any] = {
        "person": person,
        "region": pop.region_names[pop.stratum_region[stratum]],
        "area": "urban" if pop.stratum_urban[stratum] else "rural",
        "class": pop.class_names[pop.stratum_class[stratum]],
        "household": int(pop.household(ids)[0][0]),
        "employer": int(pop.employer(ids)[0]),
        "score": score,
        "tier": grades.iloc[-1] if len(grades) else audit.base_tier,
    }
    for name in audit.lists:
        moves = rows.kind[rows.kind.isin(["list_entry", "list_exit"]) & (rows.rule == name)]
        record[f"on_{name}"] = bool(len(moves)) and moves.iloc[-1] == "list_entry"
    false = rows.origin.isin(MECHANISMS) & ~rows.truth
    harmful = (rows.delta < 0) | rows.rule.isin(audit.harmful_rules)
    record["false_record"] = bool((false & harmful & (rows.kind == "record")).any())
    return record | {"source": "ledger (people.parquet does not hold this person)"}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
