"""Fairness: who is sanctioned, how often, and how wrongly, group by group.

Disparate impact compares each group's sanction rate (requests refused per person over the
run) with the lowest group's of the same dimension. The four-fifths rule of US employment
practice, turned to an adverse outcome: a dimension is flagged when the lowest rate over the
highest is below 0.8, and a group is flagged when the lowest rate over its own is (so the
highest group of a flagged dimension is always flagged). The flag is computed in integers,
exactly: 8 refusals per 100 beside 10 per 100 is 0.8, not a hair below.

    >>> fairness("runs/rongcheng")                 # every dimension, one row per group
    >>> disparate_impact(result, by="area")
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pandas as pd

from scsim.audit.inequality import gini_by_group, refusal_histogram
from scsim.audit.run import AuditRun, open_run, stratum_join
from scsim.audit.wrongful import wrongful_counts, wrongly_listed_counts

FOUR_FIFTHS = Fraction(4, 5)


def disparate_impact(run: Any, by: str | None = "class") -> pd.DataFrame:
    """Sanction rates per group and their ratio to the lowest group's.

    Columns: group, people, sanctions (requests refused), sanctioned (distinct people refused),
    sanction_rate (sanctions per person), ratio_to_lowest (the rate over the lowest group's
    rate: 1 for the lowest, inf beside a group never sanctioned), impact_ratio (the lowest rate
    over this group's, 1 where both are 0), four_fifths (impact_ratio < 0.8: flagged).
    """
    audit = open_run(run)
    return _impact(audit, refusal_histogram(audit), by)


def fairness(run: Any) -> pd.DataFrame:
    """The fairness table: every grouping (all, region, area, class, and income where the
    scenario has income bands), one row per group.

    Columns: dimension, group, people, sanctions, sanctioned, sanction_rate, ratio_to_lowest,
    impact_ratio, four_fifths (see `disparate_impact`); wrongful_sanctions (refusals whose
    cause holds a false record: ledger truth false), wrongful_rate (per person);
    wrongful_listings and
    days_wrongly_listed (listings of people with a false record and the days they lasted,
    see `wrongly_listed`); refusal_gini (Gini of refusals per person, see `refusal_gini`);
    burdens and wrongful_burdens (burdens suffered: suspensions, a grade's visits and
    searches, premiums; the wrongful ones rest on false records), where the run has any.

    Every count is made inside DuckDB per cell (a row of `AuditRun.strata`) by one query per
    measure, then summed per group here: a national ledger is read five times, not per group.
    """
    audit = open_run(run)
    histogram = refusal_histogram(audit)
    wrongful = wrongful_counts(audit, ("cell",))
    listed = wrongly_listed_counts(audit, ("cell",))
    burdens = _burdens(audit)
    frames = []
    for by in ("all", *audit.dimensions):
        table = _impact(audit, histogram, by)
        groups = table.group
        table["wrongful_sanctions"] = audit.by_cell(wrongful, by).sanctions[groups].to_numpy()
        table["wrongful_rate"] = table.wrongful_sanctions / table.people
        spells = audit.by_cell(listed, by).loc[groups]
        table["wrongful_listings"] = spells.listings.to_numpy()
        table["days_wrongly_listed"] = spells.days.to_numpy()
        gini = gini_by_group(audit, histogram, by).set_index("group").gini
        table["refusal_gini"] = gini[groups].to_numpy()
        if burdens.burdens.sum():
            suffered = audit.by_cell(burdens, by).loc[groups]
            table["burdens"] = suffered.burdens.to_numpy()
            table["wrongful_burdens"] = suffered.wrongful.to_numpy()
        frames.append(table.assign(dimension=by))
    columns = ["dimension", *frames[0].columns.drop("dimension")]
    return pd.concat(frames, ignore_index=True)[columns]


def _impact(audit: AuditRun, histogram: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """`disparate_impact` from a `refusal_histogram`."""
    counts = histogram.assign(sanctions=histogram.refusals * histogram.people)
    counts = counts[["cell", "sanctions", "people"]].rename(columns={"people": "sanctioned"})
    table = audit.groups(by).join(audit.by_cell(counts, by), on="group")
    table = table[table.people > 0].reset_index(drop=True)  # an empty stratum has no rate
    rates = [Fraction(int(s), int(p)) for s, p in zip(table.sanctions, table.people, strict=True)]
    lowest = min(rates)
    impact = [lowest / r if r else Fraction(1) for r in rates]
    table["sanction_rate"] = [float(r) for r in rates]
    table["ratio_to_lowest"] = [_ratio(r, lowest) for r in rates]
    table["impact_ratio"] = [float(i) for i in impact]
    table["four_fifths"] = [i < FOUR_FIFTHS for i in impact]
    return table


def _burdens(audit: AuditRun) -> pd.DataFrame:
    """Burdens suffered and the wrongful ones, per cell. Columns: cell, burdens, wrongful."""
    return audit.sql(
        f"""
        select s.lo as cell, count(*) as burdens, count(*) filter (where not l.truth) as wrongful
        from ledger l {stratum_join()}
        where l.kind = 'burden' group by all
        """
    ).df()


def _ratio(rate: Fraction, lowest: Fraction) -> float:
    if lowest:
        return float(rate / lowest)
    return 1.0 if rate == 0 else float("inf")
