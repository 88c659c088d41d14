"""The ledger: every change the system made to a person's record, with where it came from.

One row per change: a record's points (true detection, misidentification, false match,
association spill-over, or the reversal of an expired deduction), a change of grade, an entry
to or exit from a list, a blocked request for a service, a burden suffered (an account
suspended, an officer's visit, a search: `rule` names it), a reward granted with a request
(`rule` the service, `source` the grade or list that earned it). `truth` says whether the
change rests only on true records: false for a record the person did not earn, for a grade,
listing or sanction suffered by a person who has a false record in their history, and for a
reward the person would not have earned without one. That column is what the audit counts as
wrongful (for a reward: unearned).

Companies have kinds of their own (COMPANY_KINDS), whose `entity` is a company id: a rating's
record, a change of company grade, a sanction of joint punishment. A company's record it did not
earn (its employees' or partners' share) has `truth` false, like a person's association rows,
and so has a grade or sanction that would not have happened without such records.

Rows are built per day as arrays of small integer codes; the writer turns the codes into
dictionary-encoded strings (see `Vocabulary`), which pandas, polars and DuckDB read as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import numpy as np

from scsim.engine.backend import array_module, to_host

# A person's rows, then a company's (their `entity` is a company id: another namespace, so
# every query about people filters on PERSON_KINDS): its rating's records (own events, its
# employees' and partners' shares, a period's reset), its changes of grade, and the sanctions
# of joint punishment (`rule` names the measure).
# "licence": a licence's own points (`licences.<name>`): a deduction, the points given back
PERSON_KINDS = (
    "record",
    "tier",
    "list_entry",
    "list_exit",
    "blocked",
    "burden",
    "reward",
    "licence",
)
COMPANY_KINDS = (
    "company_record",
    "company_grade",
    "company_sanction",
    "company_list_entry",  # a company put on a list as an entry of its own (`list_companies`)
    "company_list_exit",
)
KINDS = PERSON_KINDS + COMPANY_KINDS
ORIGINS = (
    "detected",  # a true event, recorded against the person who did it
    "misidentified",  # a true event, charged to someone else
    "false_match",  # a record of an event that never happened
    "association",  # a share of a relative's or friend's deduction
    "expiry",  # a deduction reversed when its window closed
    "score",  # grade moved with the score
    "direct_grade",  # grade set by a rule, then locked
    "lock_ended",  # a locked grade released
    "record",  # entered a list on a record
    "term_ended",  # left a list at the end of its term
    "complied",  # left a list by complying (paying up)
    "list",  # refused because listed
    "tier",  # refused because of grade
    "appeal_won",  # left a list by winning an appeal
    "purchased",  # points bought on the gray market: not earned, never wrongful
    "employee",  # a share of an employee's deduction, charged to the employer's rating
    "partner",  # a share of a partner company's grade, charged to the company's rating
    "representative",  # listed (or let go) as the legal representative of a company
    "false_report",  # an informant's report of an event that never happened
    "household",  # refused because a member of the household is listed
    "grade",  # entered a list when the grade moved into its grades
    "grade_left",  # left a list entered by grade when the grade moved out
    "gamed",  # points for an act done for the points (gaming): earned, performative
    "restriction_kept",  # entered a list on leaving another: the restriction was not lifted
    "speech_judgment",  # a court's judgment for what the person said (defamation, 001)
    "discretion",  # an official's record outside the point table, with no event behind it
    "credit_repaired",  # left a list by credit repair, before its term (the reforms after 2019)
    "unable_removed",  # left a list as a debtor unable to perform (the reforms after 2019)
    "restriction_order",  # restricted by a consumption-restriction order, listed or not
    "licence",  # refused because a licence's points ran out (the licence revoked)
    "licence_reinstated",  # a revoked licence given back, full points, on passing the test
    "licence_restored",  # a licence's lost points given back at the year's turn
    "unconsented",  # unscored: has not consented to the score of a place that asks for consent
    "consented",  # scored again by the place's rulebook, having consented
)
KIND = {name: np.uint8(i) for i, name in enumerate(KINDS)}

ORIGIN = {name: np.uint8(i) for i, name in enumerate(ORIGINS)}
FALSE_ORIGINS = (
    "misidentified",
    "false_match",
    "association",
    "false_report",
    "speech_judgment",
    "discretion",
)
FALSE_ORIGIN_MASK = np.isin(np.arange(len(ORIGINS)), [ORIGIN[o] for o in FALSE_ORIGINS])

COLUMNS = {
    "day": np.int32,
    "entity": np.int64,
    "kind": np.uint8,
    "rule": np.int16,
    "delta": np.int32,
    "source": np.int16,
    "origin": np.uint8,
    "truth": np.bool_,
}

Scalar = int | np.integer[Any] | np.bool_
"""One value for every row of a part: a Python int or bool, or a NumPy scalar (`ORIGIN`'s)."""
Column = np.ndarray | Scalar
"""A column of a part: one value per row, or one value for them all."""


@dataclass(frozen=True)
class Vocabulary:
    """What the `rule` and `source` codes stand for: events, tiers, lists, services, sensors."""

    names: tuple[str, ...]

    @classmethod
    def of(cls, *groups: tuple[str, ...]) -> Vocabulary:
        names: list[str] = [""]
        for group in groups:
            names.extend(n for n in group if n not in names)
        return cls(tuple(names))

    def code(self, name: str) -> int:
        return self.names.index(name)

    def codes(self, names: tuple[str, ...]) -> np.ndarray:
        return np.array([self.code(n) for n in names], dtype=np.int16)


class Ledger:
    """Rows of one day, appended stage by stage, drained by the writer at the end of the day.

    A part keeps its columns as given, a scalar as a scalar: a column that is one value in
    every part of the day (the day; most parts' kind, source, origin) is filled once, at the
    drain, on the host, instead of once per part on the device."""

    def __init__(self) -> None:
        self._parts: list[tuple[int, tuple[Column, ...]]] = []

    def add(
        self,
        day: int,
        kind: str,
        entity: np.ndarray,
        rule: Column,
        delta: Column,
        source: Column,
        origin: Column,
        truth: np.ndarray | bool | np.bool_,
    ) -> None:
        n = len(entity)
        if n == 0:
            return
        self._parts.append((n, (day, entity, KIND[kind], rule, delta, source, origin, truth)))

    def discard(self) -> None:
        """Forget the day's rows unread: a run that keeps only its metrics (calibration) need
        not join them into columns every day."""
        self._parts.clear()

    def drain(self) -> dict[str, np.ndarray]:
        """The day's rows as host (NumPy) arrays, and an empty ledger for the next day."""
        parts, self._parts = self._parts, []
        if not parts:
            return {name: np.empty(0, dtype) for name, dtype in COLUMNS.items()}
        xp = array_module(parts[0][1][1])
        sizes = [n for n, _ in parts]
        ends = list(accumulate(sizes))
        spans = list(zip([0, *ends[:-1]], ends, strict=True))
        drained: dict[str, np.ndarray] = {}
        for c, (name, dtype) in enumerate(COLUMNS.items()):
            values = [v[c] for _, v in parts]
            if all([getattr(v, "ndim", 0) == 0 for v in values]):
                one = [bool(v) if dtype is np.bool_ else int(v) for v in values]  # as `filled`
                drained[name] = np.repeat(np.array(one, dtype=dtype), sizes)
                continue
            # each part written into its place: a scalar repeated, an array cast, as `filled`
            # would (one column allocated, not a filled copy per part and their concatenation)
            column = xp.empty(ends[-1], dtype=dtype)
            for value, (lo, hi) in zip(values, spans, strict=True):
                column[lo:hi] = value
            drained[name] = to_host(column)
        return drained
