"""Wrongful sanctions and wrongful listings, traced to the false record behind them.

A sanction is wrongful when the ledger's `truth` is false on its `blocked` row: its cause holds
a false record (every list refusing it was entered on one, and the grade without the person's
false points would not be refused; see `scsim.engine.components.sanction`). A false record is a
`record` row the person did not earn (origin misidentified, false_match, association or an
informant's false_report) or that is a wrong in itself (a court's speech_judgment, an
official's discretion: `scsim.engine.components.wrongs`) that harmed them: it took points,
or its rule sets a grade or enters a list. Those are the records that mark a person in the
engine (`score._mark_false_records`); a false record that gave points marks no one. A refusal
because a household member is listed (`household_lists`) is wrongful when that member was
listed on false records.

    >>> wrongful_by_mechanism("runs/rongcheng").groupby("mechanism").sanctions.sum()
    >>> wrongly_listed(result).days.sum()
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from scsim.audit.run import AuditRun, open_run, rulebooks, stratum_join

MECHANISMS = (  # FALSE_ORIGINS
    "misidentified",
    "false_match",
    "association",
    "false_report",
    "speech_judgment",
    "discretion",
)
# the wrongs that only a sensor of their kind writes (`scsim.engine.components.wrongs`)
SENSOR_WRONGS = {
    "false_report": "informants",
    "speech_judgment": "judges_speech",
    "discretion": "discretion",
}
UNKNOWN = "unknown"  # a wrongful row with no false record before it: the ledger disagrees
HOUSEHOLD = "household"  # refused for a household member listed on false records

# The wrongful sanctions are worked out in four queries, each kept as a table for the run
# (`AuditRun.kept`; one query holding them all did not fit DuckDB in 32 MB): the wronged
# (people with a wrongful refusal), the rows of theirs that the rest reads, their listings,
# then the refusals with their causes. Only the first two pass over the ledger: the last two
# passed over it twice each, for the wronged's records, entries and refusals (9.8 s of a 1e8
# ledger's report; 2 s with the wronged's rows kept, benchmarks/report.py).
_WRONGED = "select distinct entity from ledger where kind = 'blocked' and not truth"
_WRONGED_ROWS = """
    select * from ledger
    where (kind in ('record', 'list_entry') or (kind = 'blocked' and not truth))
      and entity in (select entity from wronged)
"""
# A listing of the wronged, per service it blocks: whether it rested only on false records.
# The records it is matched with are the wronged's too: matched with everyone's, a national
# ledger's 792 entries took 111 s, now about 12.
_LISTINGS = """
    with entries as (
        select entity, day, rule from wronged_rows where kind = 'list_entry'),
    records as (
        select entity, day, rule, origin from wronged_rows
        where kind = 'record'
          and origin in ('detected', 'misidentified', 'false_match', 'false_report',
                         'speech_judgment', 'discretion'))
    select e.entity, e.day, sl.service,
           count(*) filter (where r.origin = 'detected') = 0 as on_false
    from entries e
    join list_rules lr on lr.list = e.rule
    join service_lists sl on sl.list = e.rule
    join records r on r.entity = e.entity and r.day = e.day and r.rule = lr.rule
    group by e.entity, e.day, sl.service
"""
# A person's first false record (the wronged's only) is an aggregate (arg_min), not a window,
# so that DuckDB can spill it to disk (see `scsim.audit.run`): a nation has tens of millions
# of people with a false record.
_FIRST_FALSE = """
    first_false as (
        select entity, min(day) as day, arg_min(origin, {'d': day, 'r': row}) as origin,
               arg_min(rule, {'d': day, 'r': row}) as rule,
               arg_min(source, {'d': day, 'r': row}) as source
        from wronged_rows
        where kind = 'record' and not truth
          and origin in ('misidentified', 'false_match', 'association', 'false_report',
                         'speech_judgment', 'discretion')
          and (delta < 0 or list_contains($harmful::varchar[], rule))
        group by entity)
"""


def wrongful_sanctions(run: Any) -> pd.DataFrame:
    """One row per wrongful sanction, attributed to the person's first false record.

    Columns: day, person, service, reason (refused for a list, a grade or a listed household
    member), refused_by (that list or grade; missing in runs written before refusals named
    it), mechanism (the origin of the first false record on or before that day: records of
    a day are scored before its requests are answered; ties within a day go to the row written
    first; "household" for a refusal because a household member was listed on false records),
    false_record_day, false_record_rule, false_record_source, listed_on_false_record,
    region, area, class, income.

    Wrongful here means "the person had a false record", not "the false record caused the
    refusal": a person listed on their own true court record whose relative's post once cost
    them points is counted too. `listed_on_false_record` tells the two apart for refusals by
    a list: true when the person's latest entry to a list blocking the service rested only on
    false records (as the engine's `<list>_entries_wrongful` counts), missing for refusals by
    grade (which would need the score without the false records).
    """
    audit = open_run(run)
    table = _wrongful_table(audit)
    return audit.sql(f"select * exclude (row, cell) from {table} order by day, row").df()


def wrongful_counts(run: Any, keys: tuple[str, ...]) -> pd.DataFrame:
    """Wrongful sanctions counted inside DuckDB per `keys` (sorted by them): columns of
    `wrongful_sanctions`, or `cell` (the `lo` of the person's row in `AuditRun.strata`). A
    small frame however long the ledger is. Columns: the keys, sanctions."""
    audit = open_run(run)
    columns = ", ".join(f'"{key}"' for key in keys)
    table = _wrongful_table(audit)
    return audit.sql(
        f"select {columns}, count(*) as sanctions from {table} group by all order by all"
    ).df()


def _wrongful_table(audit: AuditRun) -> str:
    """The wrongful sanctions' rows, worked out once per run: the report and the fairness
    table count them by day, mechanism and cell (three passes over a national ledger, 150-180
    s each, before they were kept)."""
    audit.kept("wronged", _WRONGED)
    audit.kept("wronged_rows", _WRONGED_ROWS)
    audit.kept("wronged_listings", _LISTINGS)
    return audit.kept("wrongful_rows", _wrongful_rows(audit), harmful=list(audit.harmful_rules))


def _wrongful_rows(audit: AuditRun) -> str:
    """The query of every wrongful sanction (see `wrongful_sanctions`), unordered, with its
    ledger row and its person's cell (of the tables `wronged_rows`, `wronged_listings` and
    `strata`)."""
    return f"""
        with {_FIRST_FALSE}
        select b.day, b.row, b.entity as person, b.rule as service, b.origin as reason,
               nullif(b.source, '') as refused_by,
               case when b.origin = 'household' then '{HOUSEHOLD}'
                    else coalesce(f.origin, '{UNKNOWN}') end as mechanism,
               f.day as false_record_day,
               f.rule as false_record_rule, f.source as false_record_source,
               case when b.origin = 'list' then c.on_false end as listed_on_false_record,
               s.lo as cell, s.region, s.area, s."class", s.income
        from wronged_rows b
        {stratum_join("b")}
        left join first_false f on f.entity = b.entity and f.day <= b.day
        asof left join wronged_listings c
            on c.entity = b.entity and c.service = b.rule and c.day <= b.day
        where b.kind = 'blocked' and not b.truth
        """


def wrongful_by_mechanism(run: Any, by: str | None = None) -> pd.DataFrame:
    """Wrongful sanctions per day, group and mechanism (misidentified, false_match,
    association; false_report where the scenario has informants, speech_judgment where a court
    judges speech, discretion where officials act at their discretion; "unknown" only if the
    ledger has a wrongful row with no false record).

    Columns: day, group, mechanism, sanctions; every day and group appears, zeros included.
    """
    audit = open_run(run)
    column = audit.group_column(by)
    # counted per cell and summed per group: a cell is in one group of every dimension, the
    # ethnic groups included, which split the strata and are no column of the rows
    counts = wrongful_counts(audit, ("day", "mechanism", *(["cell"] if column else [])))
    counts["group"] = "all" if column is None else audit.cell_groups(counts["cell"], by)
    sensors = audit.scenario.surveillance.sensors.values()
    mechanisms: tuple[str, ...] = tuple(
        m
        for m in MECHANISMS
        if m not in SENSOR_WRONGS or any(getattr(x, SENSOR_WRONGS[m]) for x in sensors)
    )
    households = any(  # refusals for a listed household member, from the start or a change
        service.household_lists
        for book in rulebooks(audit.scenario)
        for service in book.services.values()
    )
    mechanisms += (HOUSEHOLD,) if households else ()
    mechanisms += (UNKNOWN,) if (counts.mechanism == UNKNOWN).any() else ()
    counts = counts.groupby(["day", "group", "mechanism"]).sanctions.sum()
    index = pd.MultiIndex.from_product(
        [range(audit.days), list(audit.groups(by).group), mechanisms],
        names=["day", "group", "mechanism"],
    )
    return counts.reindex(index, fill_value=0).reset_index()


def wrongly_listed(run: Any) -> pd.DataFrame:
    """Every listing of a person with a false record (a `list_entry` row with truth false),
    with the days it lasted: to the matching `list_exit`, or to the end of the run.

    Entries and exits of one person and list alternate, so the k-th exit closes the k-th
    entry. A person listed on day d and let go on day x was listed x - d days (the nights
    from d to x); one still listed at the end, days - d.

    Columns: person, list, entered, left (missing while still listed), exit (term_ended,
    complied or "still listed"), days, region, area, class, income.
    """
    audit = open_run(run)
    table = _listed_table(audit)
    return audit.sql(
        f"select * exclude (row, cell) from {table} order by entered, person, list"
    ).df()


def wrongly_listed_counts(run: Any, keys: tuple[str, ...]) -> pd.DataFrame:
    """Wrongful listings counted inside DuckDB per `keys` (sorted by them; columns of
    `wrongly_listed`, or `cell` as in `wrongful_counts`). Columns: the keys, listings, days
    (days listed)."""
    audit = open_run(run)
    columns = ", ".join(f'"{key}"' for key in keys)
    table = _listed_table(audit)
    return audit.sql(
        f"select {columns}, count(*) as listings, sum(days)::bigint as days "
        f"from {table} group by all order by all"
    ).df()


def _listed_table(audit: AuditRun) -> str:
    """The wrongful listings' rows, worked out once per run: the report counts them by list
    and day for its chart and by cell for the fairness table (two passes over a national
    ledger before they were kept)."""
    return audit.kept("wrongly_listed_rows", _listed_rows(), days=audit.days)


def _listed_rows() -> str:
    """The query of every wrongful listing (see `wrongly_listed`), unordered. The ledger is
    written day by day, so its row order is the order in time: an entry's exit is the first
    exit of that person and list after it (an as-of join, which DuckDB can spill). Entries
    and exits are read in one pass over the ledger (a CTE materialised: two passes, one per
    kind, took 2.1 s of a 1e8 ledger's report, one 1.5 s)."""
    return f"""
        with listings as materialized (
            select entity, rule, day, origin, truth, kind, row from ledger
            where kind in ('list_entry', 'list_exit')),
        exits as (select entity, rule as list, day, origin, row
                  from listings where kind = 'list_exit')
        select e.entity as person, e.rule as list, e.day as entered, x.day as "left",
               coalesce(x.origin, 'still listed') as exit,
               coalesce(x.day, $days) - e.day as days, s.region, s.area, s."class",
               s.income, e.row, s.lo as cell
        from listings e
        asof left join exits x on x.entity = e.entity and x.list = e.rule and x.row > e.row
        {stratum_join("e")}
        where e.kind = 'list_entry' and not e.truth
        """
