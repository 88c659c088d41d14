"""Stage 6, collect: one row of daily metrics, counted as the published figures count.

Flows are per day (true events, records by origin, list entries and exits, requests, refusals,
rewards, appeals filed, decided and won); records count on the day they take effect (a late
sensor's, some days after the event). Stocks are at the end of the day (people per grade,
people on each list, mean score).
Cumulative series (blocked purchases since the start, listing entries since the start, people
who complied) are sums of the daily flows, added when the metrics are written.
"""

from __future__ import annotations

from scsim.engine.backend import to_host
from scsim.engine.components.observe import Records
from scsim.engine.components.respond import Responses
from scsim.engine.components.sanction import Sanctions
from scsim.engine.components.score import Changes
from scsim.engine.ledger import ORIGIN
from scsim.engine.sampling import Draw


def collect(
    model,
    day: int,
    events: Draw,
    records: Records,
    changes: Changes,  # type: ignore[no-untyped-def]
    sanctions: Sanctions,
    responses: Responses,
    *mechanisms: dict[str, int],
) -> dict[str, int | float]:
    plan = model.host_plan
    by_origin = to_host(model.xp.bincount(records.origin, minlength=len(ORIGIN)))
    row: dict[str, int | float] = {
        "day": day,
        "true_events": len(events),
        "records": len(records),
        "records_false": int(len(records) - by_origin[ORIGIN["detected"]]),
        "records_misidentified": int(by_origin[ORIGIN["misidentified"]]),
        "records_false_match": int(by_origin[ORIGIN["false_match"]]),
        "association_rows": int(changes.rows_by_origin[ORIGIN["association"]]),
        "reversed_rows": int(changes.rows_by_origin[ORIGIN["expiry"]]),
        "score_mean": model.score_sum / model.host_pop.size,
        "locked": len(model.locks),
        "demoted": int(changes.demoted.size),
    }
    for t, name in enumerate(plan.tiers):
        row[f"tier_{name}"] = int(model.tier_counts[t])
    lists, (kept, kept_wrongful) = changes.lists, model.kept_entries
    for index, name in enumerate(plan.lists):
        roster = model.rosters[index]
        row[f"{name}_size"] = len(roster)
        row[f"{name}_size_wrongful"] = int(roster.wrongful.sum())
        row[f"{name}_entries"] = int(lists.entries[index] + kept[index])  # kept: restrictions
        row[f"{name}_cases"] = int(lists.cases[index])
        row[f"{name}_entries_wrongful"] = int(lists.entries_wrongful[index] + kept_wrongful[index])
        row[f"{name}_published"] = int(lists.published[index])
        row[f"{name}_expired"] = int(lists.expired[index])
        row[f"{name}_complied"] = int(lists.complied[index] + responses.complied_on_block[index])
        row[f"{name}_complied_on_block"] = int(responses.complied_on_block[index])
        for flow in (
            "appeals_filed",
            "appeals_filed_wrongly_listed",
            "appeals_decided",
            "appeals_won",
            "appeals_won_wrongly_listed",
        ):
            row[f"{name}_{flow}"] = int(getattr(lists, flow)[index])
    for v, name in enumerate(plan.services):
        row[f"{name}_attempts"] = int(sanctions.attempts[v])
        row[f"{name}_blocked"] = int(sanctions.blocked[v])
        row[f"{name}_blocked_wrongful"] = int(sanctions.blocked_wrongful[v])
        row[f"{name}_blocked_false_record_holders"] = int(sanctions.blocked_false_record_holders[v])
        row[f"{name}_rewards"] = int(sanctions.rewards[v])
        row[f"{name}_evaded"] = int(sanctions.evaded[v])
    row["sanctions_wrongful"] = int(sanctions.blocked_wrongful.sum())
    row["sanctions_on_false_record_holders"] = int(sanctions.blocked_false_record_holders.sum())
    row["tainted_people"] = model.tainted
    for columns in mechanisms:  # the optional mechanisms' own columns (scsim.engine.mechanisms)
        row.update(columns)
    model.kept_entries[:] = 0  # counted from `listing.keep_restrictions`, for tomorrow afresh
    return row
