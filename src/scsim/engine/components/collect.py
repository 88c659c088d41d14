"""Stage 6, collect: one row of daily metrics, counted as the published figures count.

Flows are per day (true events, records by origin, list entries and exits, requests, refusals,
rewards, appeals filed, decided and won); records count on the day they take effect (a late
sensor's, some days after the event). Stocks are at the end of the day (people per grade,
people on each list, mean score).
Cumulative series (blocked purchases since the start, listing entries since the start, people
who complied) are sums of the daily flows, added when the metrics are written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scsim.engine.backend import to_host
from scsim.engine.components.ratings import company_columns
from scsim.engine.components.services import tally
from scsim.engine.day import Component, Flow, Row
from scsim.engine.ledger import ORIGIN

if TYPE_CHECKING:
    from scsim.engine.context import Context


def collect(ctx: Context, day: int, flow: Flow) -> Row:
    events, records, changes = flow.events, flow.records, flow.changes
    sanctions, responses = flow.sanctions, flow.responses
    assert events is not None and records is not None and changes is not None
    assert sanctions is not None and responses is not None
    plan = ctx.rules.host_plan
    by_origin = to_host(ctx.xp.bincount(records.origin, minlength=len(ORIGIN)))
    row: dict[str, int | float] = {
        "day": day,
        "true_events": len(events),
        "records": len(records),
        "records_false": int(len(records) - by_origin[ORIGIN["detected"]]),
        "records_misidentified": int(by_origin[ORIGIN["misidentified"]]),
        "records_false_match": int(by_origin[ORIGIN["false_match"]]),
        "association_rows": int(changes.rows_by_origin[ORIGIN["association"]]),
        "reversed_rows": int(changes.rows_by_origin[ORIGIN["expiry"]]),
        "score_mean": ctx.state.score_sum / ctx.params.host_pop.size,
        "locked": len(ctx.state.locks),
        "demoted": int(changes.demoted.size),
    }
    for t, name in enumerate(plan.tiers):
        row[f"tier_{name}"] = int(ctx.state.tier_counts[t])
    lists, (kept, kept_wrongful) = changes.lists, ctx.state.kept_entries
    for index, name in enumerate(plan.lists):
        roster = ctx.state.rosters[index]
        row[f"{name}_size"] = len(roster)
        row[f"{name}_size_wrongful"] = int(roster.wrongful.sum())
        row[f"{name}_entries"] = int(lists.entries[index] + kept[index])  # kept: restrictions
        row[f"{name}_cases"] = int(lists.cases[index])
        row[f"{name}_entries_wrongful"] = int(lists.entries_wrongful[index] + kept_wrongful[index])
        row[f"{name}_published"] = int(lists.published[index])
        row[f"{name}_expired"] = int(lists.expired[index])
        row[f"{name}_complied"] = int(lists.complied[index] + responses.complied_on_block[index])
        row[f"{name}_complied_on_block"] = int(responses.complied_on_block[index])
        for appeal in (
            "appeals_filed",
            "appeals_filed_wrongly_listed",
            "appeals_decided",
            "appeals_won",
            "appeals_won_wrongly_listed",
        ):
            row[f"{name}_{appeal}"] = int(getattr(lists, appeal)[index])
    for v, name in enumerate(plan.services):
        row[f"{name}_attempts"] = int(sanctions.attempts[v])
        row[f"{name}_blocked"] = int(sanctions.blocked[v])
        row[f"{name}_blocked_wrongful"] = int(sanctions.blocked_wrongful[v])
        row[f"{name}_blocked_false_record_holders"] = int(sanctions.blocked_false_record_holders[v])
        row[f"{name}_rewards"] = int(sanctions.rewards[v])
        row[f"{name}_evaded"] = int(sanctions.evaded[v])
    row["sanctions_wrongful"] = int(sanctions.blocked_wrongful.sum())
    row["sanctions_on_false_record_holders"] = int(sanctions.blocked_false_record_holders.sum())
    row["tainted_people"] = ctx.state.tainted
    row.update(flow.columns)  # the optional mechanisms' own columns, in the day's order
    row.update(tally(ctx))
    row.update(company_columns(ctx, flow.company_day))
    ctx.state.kept_entries[:] = 0  # counted from `listing.keep_restrictions`, for tomorrow afresh
    return row


class Collect(Component):
    """6. collect - the day's metrics row."""

    name = stage = "collect"
    writes = (
        "day",
        "true_events",
        "records[_false, _misidentified, _false_match]",
        "tier_<grade>",
        "<list>_size, _entries, _complied, _appeals_*",
        "<service>_attempts, _blocked, _rewards",
        "sanctions_wrongful",
        "tainted_people",
    )

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        flow.row = collect(ctx, day, flow)
