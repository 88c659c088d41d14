"""Inequality of access: how unevenly refusals fall on people.

The Gini coefficient is taken over requests refused per person, everyone in the group counted
(most people are never refused, so their zeros are part of it). Granted rewards cannot be
counted this way: they have no ledger row, only a daily total in the metrics, so there is no
count of rewards per person to take a Gini over.

Per person means a count per person, which DuckDB makes and then counts again: people per
number of refusals, per strata row (`refusal_histogram`), a frame as long as the distinct
counts. Pandas never sees a row per person.

    >>> refusal_gini("runs/rongcheng", by="class")
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scsim.audit.outcomes import outcomes_table
from scsim.audit.run import AuditRun, open_run


def gini(values: np.ndarray, zeros: int = 0) -> float:
    """Gini coefficient of `values` plus `zeros` more people with nothing.

    G = sum_i (2i - n - 1) x_(i) / (n sum x) over the n values sorted ascending (i from 1):
    0 when everyone has the same, (n - 1) / n when one person has it all; NaN when nobody has
    anything (the share of a total of zero is undefined). The zeros are never materialised,
    so a nation of people with a few refusals each costs only the refused.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = x.size + int(zeros)
    total = x.sum()
    if n == 0 or total == 0:
        return float("nan")
    rank = np.arange(zeros + 1, n + 1, dtype=np.float64)
    return float(((2 * rank - n - 1) * x).sum() / (n * total))


def gini_of_histogram(values: np.ndarray, people: np.ndarray, size: int) -> float:
    """`gini` of a group of `size` people, `people[k]` of whom have `values[k]` each (distinct
    values, the rest of the group nothing): a tie block of c people at ranks r + 1 .. r + c
    adds x (2 (c r + c (c + 1) / 2) - c (n + 1)) to the sum. Exact for any group, and only
    as long as the number of distinct values."""
    order = np.argsort(values, kind="stable")
    x = np.asarray(values, dtype=np.float64)[order]
    c = np.asarray(people, dtype=np.float64)[order]
    n = float(size)
    total = float((x * c).sum())
    if n == 0 or total == 0:
        return float("nan")
    before = (n - c.sum()) + np.concatenate(([0.0], np.cumsum(c)[:-1]))  # zeros rank first
    return float((x * (2 * (c * before + c * (c + 1) / 2) - c * (n + 1))).sum() / (n * total))


def refusal_histogram(run: Any) -> pd.DataFrame:
    """People per number of requests refused, per cell (the `lo` of their row in
    `AuditRun.strata`), counted inside DuckDB with the rewards and burdens
    (`scsim.audit.outcomes`): one row per cell and count, never one per person. Columns: cell,
    refusals, people (those refused that many times)."""
    audit = open_run(run)
    table = outcomes_table(audit)
    return audit.sql(f"select cell, refusals, people from {table} where refusals > 0").df()


def refusal_gini(run: Any, by: str | None = None) -> pd.DataFrame:
    """Gini of requests refused per person, per group. Columns: group, people, refusals,
    refused_people, gini (NaN for a group nobody in which was refused)."""
    audit = open_run(run)
    return gini_by_group(audit, refusal_histogram(audit), by)


def gini_by_group(audit: AuditRun, histogram: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """`refusal_gini` from a `refusal_histogram` (computed once for every grouping)."""
    counts = histogram.assign(group=audit.cell_groups(histogram.cell, by))
    counts = counts.groupby(["group", "refusals"], as_index=False).people.sum()
    rows = []
    for group, people in audit.groups(by).itertuples(index=False):
        mine = counts[counts.group == group]
        rows.append(
            {
                "group": group,
                "people": int(people),
                "refusals": int((mine.refusals * mine.people).sum()),
                "refused_people": int(mine.people.sum()),
                "gini": gini_of_histogram(mine.refusals, mine.people, int(people)),
            }
        )
    return pd.DataFrame(rows)
