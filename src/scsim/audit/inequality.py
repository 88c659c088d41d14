"""Inequality of access: how unevenly refusals fall on people.

The Gini coefficient is taken over requests refused per person, everyone in the group counted
(most people are never refused, so their zeros are part of it). Granted rewards cannot be
counted this way: they have no ledger row, only a daily total in the metrics, so there is no
count of rewards per person to take a Gini over.

    >>> refusal_gini("runs/rongcheng", by="class")
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scsim.audit.run import group_sql, in_stratum, open_run


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


def refusal_gini(run: Any, by: str | None = None) -> pd.DataFrame:
    """Gini of requests refused per person, per group. Columns: group, people, refusals,
    refused_people, gini (NaN for a group nobody in which was refused)."""
    audit = open_run(run)
    per_person = audit.sql(
        f"""
        select {group_sql(by)} as "group", count(*) as refusals
        from ledger l join strata s on {in_stratum()}
        where l.kind = 'blocked' group by l.entity, "group"
        """
    ).df()
    rows = []
    for group, people in audit.groups(by).itertuples(index=False):
        counts = per_person.refusals[per_person.group == group].to_numpy()
        rows.append(
            {
                "group": group,
                "people": int(people),
                "refusals": int(counts.sum()),
                "refused_people": int(counts.size),
                "gini": gini(counts, zeros=int(people) - counts.size),
            }
        )
    return pd.DataFrame(rows)
