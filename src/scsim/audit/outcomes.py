"""What the run gave and took, counted once per run for every table that reads it: rewards
granted, requests refused and burdens suffered (ledger kinds `reward`, `blocked`, `burden`).

Two small tables hold them, each made by one pass over the ledger and kept for the run
(`AuditRun.kept`), so that a report passes over a nation's ledger twice for them, not once per
table and grouping (twelve passes in national-score's report before: the balance per grouping,
six of them, the fairness table's burdens, rewards and refusal histogram, the causes of rewards
and of refusals, refusals per day). The audit's functions aggregate these tables in DuckDB as
they aggregated the ledger.

- `outcomes_table`: people per cell (the `lo` of their row in `AuditRun.strata`) and number
  of requests refused, with their rewards and burdens. Each person's counts are made first, so
  people are counted once each: a person is in exactly one cell, so people per cell add up per
  group of any dimension. Columns: cell, refusals (each of these people's; 0 for those only
  rewarded or burdened), people, rewarded and punished (of them, those granted a reward; those
  refused or burdened at least once), rewards, unearned (resting on a false record), burdens,
  wrongful_burdens (their totals).
- `causes_table`: rows per day, kind, rule (the service, or the burden's measure), source (the
  grade or list that decided; null where the row names none), origin and truth. Columns:
  those, n (rows).

    >>> audit.sql(f"select sum(rewarded) from {outcomes_table(audit)}")
    >>> audit.sql(f"select day, sum(n) from {causes_table(audit)} group by day")
"""

from __future__ import annotations

from scsim.audit.run import AuditRun, stratum_join

_OUTCOMES = f"""
    with people as (
        select entity,
               count(*) filter (where kind = 'reward') as rewards,
               count(*) filter (where kind = 'reward' and not truth) as unearned,
               count(*) filter (where kind = 'blocked') as refusals,
               count(*) filter (where kind = 'burden') as burdens,
               count(*) filter (where kind = 'burden' and not truth) as wrongful_burdens
        from ledger where kind in ('reward', 'blocked', 'burden') group by entity)
    select s.lo as cell, l.refusals, count(*) as people,
           count(*) filter (where l.rewards > 0) as rewarded,
           count(*) filter (where l.refusals + l.burdens > 0) as punished,
           sum(l.rewards)::bigint as rewards, sum(l.unearned)::bigint as unearned,
           sum(l.burdens)::bigint as burdens,
           sum(l.wrongful_burdens)::bigint as wrongful_burdens
    from people l {stratum_join()} group by all
"""

_CAUSES = """
    select day, kind, rule, nullif(source, '') as source, origin, truth, count(*) as n
    from ledger where kind in ('reward', 'blocked', 'burden') group by all
"""


def outcomes_table(audit: AuditRun) -> str:
    """The kept table of outcomes per cell and number of refusals (see the module)."""
    return audit.kept("outcomes", _OUTCOMES)


def causes_table(audit: AuditRun) -> str:
    """The kept table of outcomes per day, kind, rule, source, origin and truth (see the
    module)."""
    return audit.kept("outcomes_by_cause", _CAUSES)


def per_cell(audit: AuditRun, columns: dict[str, str]) -> str:
    """SQL of sums per cell of `outcomes_table`: {name: expression summed}."""
    sums = ", ".join(f"sum({sql})::bigint as {name}" for name, sql in columns.items())
    return f"select cell, {sums} from {outcomes_table(audit)} group by cell"
