"""Stage 6, collect: one row of daily metrics, counted as the published figures count.

Flows are per day (true events, records by origin, list entries and exits, requests, refusals,
rewards, appeals filed, decided and won); records count on the day they take effect (a late
sensor's, some days after the event). Stocks are at the end of the day (people per grade,
people on each list, mean score).
Cumulative series (blocked purchases since the start, listing entries since the start, people
who complied) are sums of the daily flows, added when the metrics are written.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

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
    row.update(zip(_names("tier_", plan.tiers, ("",)), ctx.state.tier_counts.tolist(), strict=True))
    lists, (kept, kept_wrongful) = changes.lists, ctx.state.kept_entries
    rosters = ctx.state.rosters[: len(plan.lists)]
    per_list = np.stack(  # one row per column of LIST_COLUMNS, one column per list
        [
            [len(roster) for roster in rosters],
            [int(roster.wrongful.sum()) for roster in rosters],
            lists.entries + kept,  # kept: restrictions
            lists.cases,
            lists.entries_wrongful + kept_wrongful,
            lists.published,
            lists.expired,
            lists.complied + responses.complied_on_block,
            responses.complied_on_block,
            lists.appeals_filed,
            lists.appeals_filed_wrongly_listed,
            lists.appeals_decided,
            lists.appeals_won,
            lists.appeals_won_wrongly_listed,
        ]
    ).astype(np.int64, copy=False)
    row.update(zip(_names("", plan.lists, LIST_COLUMNS), per_list.T.ravel().tolist(), strict=True))
    per_service = np.stack(
        [
            sanctions.attempts,
            sanctions.blocked,
            sanctions.blocked_wrongful,
            sanctions.blocked_false_record_holders,
            sanctions.rewards,
            sanctions.evaded,
        ]
    ).astype(np.int64, copy=False)
    names = _names("", plan.services, SERVICE_COLUMNS)
    row.update(zip(names, per_service.T.ravel().tolist(), strict=True))
    row["sanctions_wrongful"] = int(sanctions.blocked_wrongful.sum())
    row["sanctions_on_false_record_holders"] = int(sanctions.blocked_false_record_holders.sum())
    row["tainted_people"] = ctx.state.tainted
    row.update(flow.columns)  # the optional mechanisms' own columns, in the day's order
    row.update(tally(ctx))
    row.update(company_columns(ctx, flow.company_day))
    ctx.state.kept_entries[:] = 0  # counted from `listing.keep_restrictions`, for tomorrow afresh
    return row


LIST_COLUMNS = (
    "size",
    "size_wrongful",
    "entries",
    "cases",
    "entries_wrongful",
    "published",
    "expired",
    "complied",
    "complied_on_block",
    "appeals_filed",
    "appeals_filed_wrongly_listed",
    "appeals_decided",
    "appeals_won",
    "appeals_won_wrongly_listed",
)
SERVICE_COLUMNS = (
    "attempts",
    "blocked",
    "blocked_wrongful",
    "blocked_false_record_holders",
    "rewards",
    "evaded",
)


@functools.cache
def _names(prefix: str, owners: tuple[str, ...], columns: tuple[str, ...]) -> tuple[str, ...]:
    """A row's column names, owner by owner (`{prefix}{owner}_{column}`; a column "" is the
    owner's own): made once per rulebook, not a hundred f-strings a day."""
    return tuple(
        f"{prefix}{owner}_{column}" if column else f"{prefix}{owner}"
        for owner in owners
        for column in columns
    )


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
