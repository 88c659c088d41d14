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

from scsim.audit.inequality import refusal_gini
from scsim.audit.run import group_column, group_sql, in_stratum, open_run
from scsim.audit.wrongful import wrongful_sanctions, wrongly_listed

FOUR_FIFTHS = Fraction(4, 5)


def disparate_impact(run: Any, by: str | None = "class") -> pd.DataFrame:
    """Sanction rates per group and their ratio to the lowest group's.

    Columns: group, people, sanctions (requests refused), sanctioned (distinct people refused),
    sanction_rate (sanctions per person), ratio_to_lowest (the rate over the lowest group's
    rate: 1 for the lowest, inf beside a group never sanctioned), impact_ratio (the lowest rate
    over this group's, 1 where both are 0), four_fifths (impact_ratio < 0.8: flagged).
    """
    audit = open_run(run)
    counts = audit.sql(
        f"""
        select {group_sql(by)} as "group", count(*) as sanctions,
               count(distinct l.entity) as sanctioned
        from ledger l join strata s on {in_stratum()}
        where l.kind = 'blocked' group by all
        """
    ).df()
    table = audit.groups(by).merge(counts, how="left", on="group")
    table = table.fillna({"sanctions": 0, "sanctioned": 0})
    table = table.astype({"sanctions": "int64", "sanctioned": "int64"})
    table = table[table.people > 0].reset_index(drop=True)  # an empty stratum has no rate
    rates = [Fraction(int(s), int(p)) for s, p in zip(table.sanctions, table.people, strict=True)]
    lowest = min(rates)
    impact = [lowest / r if r else Fraction(1) for r in rates]
    table["sanction_rate"] = [float(r) for r in rates]
    table["ratio_to_lowest"] = [_ratio(r, lowest) for r in rates]
    table["impact_ratio"] = [float(i) for i in impact]
    table["four_fifths"] = [i < FOUR_FIFTHS for i in impact]
    return table


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
    """
    audit = open_run(run)
    wrongful, listed = wrongful_sanctions(audit), wrongly_listed(audit)
    burdens = _burdens(audit)
    frames = []
    for by in ("all", *audit.dimensions):
        table = disparate_impact(audit, by=by)
        column = group_column(by)
        table["wrongful_sanctions"] = _count_by(wrongful, column, table.group)
        table["wrongful_rate"] = table.wrongful_sanctions / table.people
        table["wrongful_listings"] = _count_by(listed, column, table.group)
        table["days_wrongly_listed"] = _count_by(listed, column, table.group, weight="days")
        gini = refusal_gini(audit, by=by).set_index("group").gini
        table["refusal_gini"] = [gini.get(group, float("nan")) for group in table.group]
        if len(burdens):
            table["burdens"] = _count_by(burdens, column, table.group)
            table["wrongful_burdens"] = _count_by(burdens, column, table.group, weight="wrongful")
        frames.append(table.assign(dimension=by))
    columns = ["dimension", *frames[0].columns.drop("dimension")]
    return pd.concat(frames, ignore_index=True)[columns]


def _burdens(audit: Any) -> pd.DataFrame:
    """One row per burden suffered, with its person's groups and whether it was wrongful."""
    return audit.sql(
        f"""
        select (not l.truth)::int as wrongful, s.region, s.area, s."class", s.income
        from ledger l join strata s on {in_stratum()}
        where l.kind = 'burden'
        """
    ).df()


def _count_by(
    rows: pd.DataFrame, column: str | None, groups: pd.Series, weight: str | None = None
) -> list[int]:
    keys = pd.Series("all", index=rows.index) if column is None else rows[column].astype(str)
    values = rows[weight] if weight else pd.Series(1, index=rows.index)
    totals = values.groupby(keys).sum()
    return [int(totals.get(group, 0)) for group in groups]


def _ratio(rate: Fraction, lowest: Fraction) -> float:
    if lowest:
        return float(rate / lowest)
    return 1.0 if rate == 0 else float("inf")
