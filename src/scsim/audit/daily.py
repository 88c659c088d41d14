"""Metrics per day and per group: grades, list sizes, sanctions and rewards.

Stocks (people per grade, people per list) are rebuilt from the ledger's flows: everyone starts
in the base grade and on no list, and each `tier`, `list_entry` and `list_exit` row moves one
person on its day. The totals over all groups equal the daily metrics' `tier_*` and `*_size`
columns, which is how the reconstruction is tested.

    >>> tier_shares("runs/rongcheng", by="class").query("day == 89")
    >>> sanctions(result, by="area").groupby(["group", "service"]).blocked.sum()
    >>> refusals_by_cause(result)            # which list or grade refused each service
    >>> daily_by_group(result, by="income")      # sanctions, wrongful ones, listings, listed
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from scsim.audit.outcomes import causes_table
from scsim.audit.run import AuditRun, group_column, group_sql, open_run, stratum_join


def tier_shares(run: Any, by: str | None = None) -> pd.DataFrame:
    """People in each grade at the end of each day, per group, and their share of the group.

    Columns: day, group, tier, people, share. `by` is None (everyone), "region", "area" (urban
    or rural) or "class" (behaviour class). A `tier` row's rule is the new grade; its delta is
    the new index minus the old in best-first order, so the old grade is tiers[new - delta].
    """
    audit = open_run(run)
    flows = audit.sql(
        f"""
        with moves as (
            select l.day, {group_sql(by)} as "group", t.idx as new, t.idx - l.delta as old
            from ledger l join tiers t on t.name = l.rule {stratum_join()}
            where l.kind = 'tier')
        select day, "group", new as idx, count(*) as n from moves group by all
        union all
        select day, "group", old as idx, -count(*) as n from moves group by all
        """
    ).df()
    flows["tier"] = [audit.tiers[i] for i in flows.pop("idx")]
    groups = audit.groups(by)
    start = groups.assign(tier=audit.base_tier, n=groups.people)[["group", "tier", "n"]]
    stock = _stock(audit, flows, groups.group, "tier", audit.tiers, start)
    people = stock.group.map(dict(zip(groups.group, groups.people, strict=True)))
    return stock.rename(columns={"n": "people"}).assign(share=lambda f: f.people / people)


def tier_flows(run: Any) -> pd.DataFrame:
    """Grade changes over the whole run, from the old grade to the new.

    Columns: old, new, moves (how many `tier` rows went from old to new), best grades first.
    """
    audit = open_run(run)
    return audit.sql(
        """
        select was.name as old, l.rule as new, count(*) as moves
        from ledger l
        join tiers now on now.name = l.rule
        join tiers was on was.idx = now.idx - l.delta
        where l.kind = 'tier' group by all order by min(was.idx), min(now.idx)
        """
    ).df()


def list_sizes(run: Any, by: str | None = None) -> pd.DataFrame:
    """People on each list at the end of each day, per group. Columns: day, group, list, size."""
    audit = open_run(run)
    flows = audit.sql(
        f"""
        select l.day, {group_sql(by)} as "group", l.rule as list,
               sum(case when l.kind = 'list_entry' then 1 else -1 end) as n
        from ledger l {stratum_join()}
        where l.kind in ('list_entry', 'list_exit') group by all
        """
    ).df()
    stock = _stock(audit, flows, audit.groups(by).group, "list", audit.lists)
    return stock.rename(columns={"n": "size"})


def sanctions(run: Any, by: str | None = None) -> pd.DataFrame:
    """Requests refused per day, group and service (ledger kind 'blocked'); `wrongful` counts
    those refused to a person with a false record in their history (truth false).

    Columns: day, group, service, blocked, wrongful. A listed person who keeps trying is
    refused, and counted, each time (as the published figures count blocked purchases).
    """
    audit = open_run(run)
    counts = (
        _refusals_per_day(audit) if group_column(by) is None else _refusals_per_group(audit, by)
    )
    grid = _grid(audit, audit.groups(by).group, "service", audit.restricted_services)
    merged = grid.merge(counts, how="left", on=["day", "group", "service"])
    return merged.fillna({"blocked": 0, "wrongful": 0}).astype({"blocked": int, "wrongful": int})


def refusals_by_cause(run: Any) -> pd.DataFrame:
    """Requests refused over the run per service and what refused them: the list (the
    person's, or a household member's) or the grade named in the ledger row's `source`
    (missing for runs written before refusals named it).

    Columns: service, reason (list, household or tier), refused_by, blocked, wrongful.
    """
    audit = open_run(run)
    return audit.sql(
        f"""
        select rule as service, origin as reason, source as refused_by,
               sum(n)::bigint as blocked, sum(if(truth, 0, n))::bigint as wrongful
        from {causes_table(audit)} where kind = 'blocked' group by all order by all
        """
    ).df()


def daily_by_group(run: Any, by: str | None = None) -> pd.DataFrame:
    """The audit's daily figures per group, counted inside DuckDB in one pass over the ledger.

    Columns: day, group, people (the group's size), sanctions (requests refused),
    wrongful_sanctions (refused with a false record behind the refusal: truth false), listings
    (entries to any list), wrongful_listings (entries of people with a false record), listed
    (people on lists at the end of the day; a person on two lists counts twice, as the daily
    metrics' `<list>_size` columns add up). Every day and group appears, zeros included. `by`
    is None (everyone), "region", "area", "class", "income" or "ethnicity".
    """
    audit = open_run(run)
    flows = audit.sql(
        f"""
        select l.day, {group_sql(by)} as "group",
               count(*) filter (where l.kind = 'blocked') as sanctions,
               count(*) filter (where l.kind = 'blocked' and not l.truth) as wrongful_sanctions,
               count(*) filter (where l.kind = 'list_entry') as listings,
               count(*) filter (where l.kind = 'list_entry' and not l.truth) as wrongful_listings,
               count(*) filter (where l.kind = 'list_exit') as exits
        from ledger l {stratum_join()}
        where l.kind in ('blocked', 'list_entry', 'list_exit') group by all
        """
    ).df()
    groups = audit.groups(by)
    index = pd.MultiIndex.from_product([range(audit.days), groups.group], names=["day", "group"])
    table = index.to_frame(index=False).merge(flows, how="left", on=["day", "group"])
    counts = ["sanctions", "wrongful_sanctions", "listings", "wrongful_listings", "exits"]
    table[counts] = table[counts].fillna(0).astype("int64")
    table["listed"] = (table.listings - table.exits).groupby(table.group).cumsum()
    table["people"] = table.group.map(dict(zip(groups.group, groups.people, strict=True)))
    return table[["day", "group", "people", *counts[:-1], "listed"]]


def rewards(run: Any) -> pd.DataFrame:
    """Requests granted with a reward per day and service. Columns: day, service, rewards.

    Read from the daily metrics; each reward is also a ledger row of kind `reward`, which
    `scsim.audit.balance` counts per group and per grade or list, beside the punishments.
    """
    audit = open_run(run)
    metrics = audit.sql("select * from metrics order by day").df()
    frames = [
        pd.DataFrame({"day": metrics.day, "service": name, "rewards": metrics[f"{name}_rewards"]})
        for name in audit.rewarding_services
        if f"{name}_rewards" in metrics
    ]
    if not frames:
        return pd.DataFrame({"day": [], "service": [], "rewards": []})
    return pd.concat(frames, ignore_index=True)


def _refusals_per_group(audit: AuditRun, by: str | None) -> pd.DataFrame:
    """Requests refused per day, group of `by` and service, and the wrongful ones."""
    return audit.sql(
        f"""
        select l.day, {group_sql(by)} as "group", l.rule as service,
               count(*) as blocked, count(*) filter (where not l.truth) as wrongful
        from ledger l {stratum_join()}
        where l.kind = 'blocked' group by all
        """
    ).df()


def _refusals_per_day(audit: AuditRun) -> pd.DataFrame:
    """`_refusals_per_group` of everyone, from the counts per cause that the balance and
    `refusals_by_cause` read too (`scsim.audit.outcomes`): no pass over the ledger of its own."""
    return audit.sql(
        f"""
        select day, 'all' as "group", rule as service,
               sum(n)::bigint as blocked, sum(if(truth, 0, n))::bigint as wrongful
        from {causes_table(audit)} where kind = 'blocked' group by all
        """
    ).df()


def _grid(audit: AuditRun, groups: pd.Series, key: str, keys: tuple[str, ...]) -> pd.DataFrame:
    """Every (day, group, key), in that order, so that days with nothing happen show zero."""
    index = pd.MultiIndex.from_product(
        [range(audit.days), list(groups), list(keys)], names=["day", "group", key]
    )
    return index.to_frame(index=False)


def _stock(
    audit: AuditRun,
    flows: pd.DataFrame,
    groups: pd.Series,
    key: str,
    keys: tuple[str, ...],
    start: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """End-of-day stocks per (group, key): the start (none if None) plus the running sum of
    the daily flows `n`."""
    stock = _grid(audit, groups, key, keys).assign(n=0)
    if stock.empty:
        return stock
    daily = flows.groupby(["day", "group", key], as_index=False)["n"].sum()
    stock = stock.drop(columns="n").merge(daily, how="left", on=["day", "group", key])
    stock["n"] = stock["n"].fillna(0).astype("int64").groupby([stock.group, stock[key]]).cumsum()
    if start is not None:
        initial = stock[["group", key]].merge(start, how="left", on=["group", key])["n"]
        stock["n"] += initial.fillna(0).astype("int64").to_numpy()
    return stock
