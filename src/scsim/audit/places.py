"""Where you live decides: a run's figures per place, per 1,000 people, side by side.

A place is a region of the run: a province, or a city carved out of one (`population.cities`),
with a local rulebook or without one (then nobody there is scored). People of a region are
one id range, so a ledger row finds its place by the same as-of join as any group: the ledger
gives records, deductions, refusals and wrongful refusals; the metrics give rewards (per place
with a rulebook: `rewards_<place>`) and the people in each grade at the end.

    >>> scsim.audit.places(result)                    # one row per place
    >>> scsim.audit.places_over_seeds([r1, r2, r3])   # means with 95% intervals over seeds
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from scsim.audit.comparison import t_interval
from scsim.audit.run import AuditRun, group_sql, open_run, stratum_join

MEASURES = (
    "records",
    "deductions",
    "refusals",
    "wrongful",
    "rewards",
    "below_base",
    "unscored",
    "records_unscored",
)
"""Per 1,000 people over the run: records kept, records that cost points, requests refused,
refusals resting on a false record, rewards granted; people per 1,000 in a grade worse than
their place's base grade at the end; and, where a place asks for consent to be scored, people
per 1,000 unscored for want of it at the end and records per 1,000 kept without a score for
them over the run."""

# A record kept without a score: its person's last consent row before it (a `tier` row with
# origin unconsented or consented, written when their answer starts to count) is unconsented.
_UNSCORED_RECORDS = """
    with marks as (
        select entity, day, origin from ledger
        where kind = 'tier' and origin in ('unconsented', 'consented')),
    kept as (
        select l.entity from ledger l
        asof join marks m on l.entity = m.entity and l.day >= m.day
        where l.kind = 'record' and m.origin = 'unconsented')
    select {place} as place, count(*) as records_unscored
    from kept l {strata} group by all
"""


def places(run: Any) -> pd.DataFrame:
    """One row per place (every region and city of the run, in the run's order).

    Columns: place, region (the province a city lies in; itself for a province), rulebook (the
    place has one), start (its start, or None), people, and each of MEASURES per 1,000 people.
    """
    audit = open_run(run)
    s = audit.scenario
    groups = audit.groups("region").rename(columns={"group": "place"})
    counts = _ledger_counts(audit).set_index("place")
    table = groups.join(counts, on="place").fillna(0)
    table["rewards"] = [_rewards(audit, name) for name in table.place]
    table["below_base"] = [_below_base(audit, name) for name in table.place]
    table["unscored"] = [_last(audit, f"consent_unscored_{name}") for name in table.place]
    unscored = _unscored_records(audit).set_index("place").records_unscored
    table["records_unscored"] = [float(unscored.get(name, 0)) for name in table.place]
    cities = s.population.cities
    table.insert(1, "region", [cities[n].region if n in cities else n for n in table.place])
    table.insert(2, "rulebook", [n in s.places for n in table.place])
    table.insert(
        3, "start", [str(s.places[n].start) if n in s.places else None for n in table.place]
    )
    per_1000 = 1000.0 / table.people.where(table.people > 0)
    for measure in MEASURES:
        table[measure] = table[measure] * per_1000
    return table.reset_index(drop=True)


def places_over_seeds(runs: list[Any]) -> pd.DataFrame:
    """`places` of several runs of one scenario (seeds): per place and measure, the mean over
    the runs and its 95% t-interval (NaN with one run).

    Columns: place, region, rulebook, measure, mean, low, high."""
    tables = [places(run) for run in runs]
    rows = []
    for i, place in enumerate(tables[0].place):
        first = tables[0].iloc[i]
        for measure in MEASURES:
            values = np.array([t.iloc[i][measure] for t in tables], dtype=np.float64)
            mean, low, high = t_interval(values)
            rows.append(
                {"place": place, "region": first.region, "rulebook": first.rulebook}
                | {"measure": measure, "mean": mean, "low": low, "high": high}
            )
    return pd.DataFrame(rows)


def place_figures(run: Any) -> dict[str, float]:
    """The figures of every place with a rulebook, named "<place>: <measure> per 1,000", for
    a comparison's table (`scsim compare --swap`)."""
    table = places(run)
    scored = table[table.rulebook]
    return {
        f"{row.place}: {measure} per 1,000": float(getattr(row, measure))
        for row in scored.itertuples()
        for measure in MEASURES
    }


def _ledger_counts(audit: AuditRun) -> pd.DataFrame:
    return audit.sql(
        f"""
        select {group_sql("region")} as place,
               count(*) filter (where l.kind = 'record') as records,
               count(*) filter (where l.kind = 'record' and l.delta < 0) as deductions,
               count(*) filter (where l.kind = 'blocked') as refusals,
               count(*) filter (where l.kind = 'blocked' and not l.truth) as wrongful
        from ledger l {stratum_join()}
        where l.kind in ('record', 'blocked') group by all
        """
    ).df()


def _rewards(audit: AuditRun, place: str) -> float:
    column = f"rewards_{place}"
    if column not in pq.read_schema(audit.path / "metrics.parquet").names:
        return 0.0
    total = audit.sql(f'select sum("{column}") from metrics').fetchall()[0][0]
    return float(total or 0)


def _last(audit: AuditRun, column: str) -> float:
    """A metrics column's value on the last day (0 where the run has no such column)."""
    if column not in pq.read_schema(audit.path / "metrics.parquet").names:
        return 0.0
    row = audit.sql(f'select "{column}" from metrics order by day desc limit 1').fetchall()
    return float(row[0][0]) if row else 0.0


def _unscored_records(audit: AuditRun) -> pd.DataFrame:
    query = _UNSCORED_RECORDS.format(place=group_sql("region"), strata=stratum_join())
    return audit.sql(query).df()


def _below_base(audit: AuditRun, place: str) -> float:
    """People of the place in a grade worse than its base grade on the last day."""
    s = audit.scenario
    if place not in s.places:
        return 0.0
    book = s.places[place].rulebook
    grades = list(book.tiers)
    worse = grades[grades.index(book.base_tier()) + 1 :]
    if not worse:
        return 0.0
    columns = " + ".join(f'"tier_{place}/{g}"' for g in worse)
    row = audit.sql(f"select {columns} from metrics order by day desc limit 1").fetchall()[0]
    return float(row[0]) if row is not None else 0.0
